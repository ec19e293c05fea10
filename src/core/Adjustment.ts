import type { StorageRecordsSpec } from './StorageRecordsSpec';

/**
 * What an adjust does to storage: expire the records of `expireSpec`, then
 * load those of `loadSpec` from the backend. Subclass it to carry whatever
 * your `Indexes` need in `commitAdjustment`, and override the observers to
 * learn which records were expired and loaded.
 */
export class Adjustment<R = unknown, D = unknown> {
  /** Records to remove from storage, or `null` for none. */
  readonly expireSpec: StorageRecordsSpec<R> | null;
  /** Records to fetch from the backend and store, or `null` for none. */
  readonly loadSpec: D | null;

  constructor(expireSpec: StorageRecordsSpec<R> | null, loadSpec: D | null) {
    this.expireSpec = expireSpec;
    this.loadSpec = loadSpec;
  }

  /** Called with each record removed from storage while this adjustment is applied. */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  observeExpired(record: R): void {}

  /** Called with each record stored while this adjustment is applied. */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  observeLoaded(record: R): void {}
}
