import { FreshIntervals, type FreshSnapshot } from './FreshIntervals';
import type { Interval } from './Interval';
import type { Mutex } from './Mutex';
import { isValidKey, keyToString } from './keys';
import { isUnreachable } from './readHelpers';
import { ReadThrough } from './readThrough';
import type { Stager } from './Stager';
import type { StorageRecordsSpec } from './StorageRecordsSpec';
import { RecordsChange } from './TableChange';
import type { Indexes, IndexSpec } from './types';

/**
 * How a refresh of stale records ended: `'refreshed'`, `'unreachable'`
 * (the backend could not be reached: they stay stale), or `'fresh'` (none
 * of them was stale, e.g. another read's refresh had just refreshed them).
 */
export type RefreshOutcome = 'refreshed' | 'unreachable' | 'fresh';

/** What {@link StaleRecords} needs from its table. */
export interface StaleRecordsHost<R, PK, S extends IndexSpec, D> {
  readonly indexes: Indexes<R, PK, S, D>;
  readonly stager: Stager<R, PK, S, D>;
  /** The table's writer: refreshes run one at a time with its other writes. */
  readonly writer: Mutex;
  /** When anyone listens for changes: a function collecting each touched record's scores, per index. */
  changeCollector(): (((record: R) => void) & { scores: Map<string, number[]> }) | null;
  /** A refresh was committed; `change` is what to tell listeners (when any listen). */
  committed(change: RecordsChange | null): void;
  /** A refresh that no call awaits failed (`CachedTableOptions.onBackgroundError`). */
  backgroundError(error: unknown): void;
}

/**
 * The stale records of a `CachedTable` after `resume()`: which intervals
 * have been refreshed since (everything else is stale), and the refreshes
 * of stale records, awaited by reads or run in the background
 * (stale-while-revalidate).
 */
export class StaleRecords<R, PK, S extends IndexSpec, D> {
  /** After `resume()`: what has been refreshed since; everything else is stale. `null` when nothing is stale. */
  private fresh: FreshIntervals | null = null;
  /** The refresh of stale records running now, if any; reads that need one wait for its outcome. */
  private staleRefresh: Promise<RefreshOutcome> | null = null;
  /** Background refreshes of stale records (stale-while-revalidate), by the ranges they refresh. */
  private readonly revalidating = new Map<string, Promise<void>>();

  constructor(private readonly host: StaleRecordsHost<R, PK, S, D>) {}

  /** Every record is stale now (the table was resumed, or its change feed was reset). */
  resumed(): void {
    this.fresh = new FreshIntervals();
  }

  /** What is stale, as plain data for the persisted state: `null` when nothing is. */
  snapshot(): FreshSnapshot | null {
    return this.fresh?.snapshot() ?? null;
  }

  /** Adopts a `snapshot()` (of an earlier page): `null`, nothing is stale; a value that is not a snapshot, everything is. */
  restore(snapshot: unknown): void {
    this.fresh = snapshot === null ? null : (FreshIntervals.fromSnapshot(snapshot) ?? new FreshIntervals());
  }

  /**
   * Starts a background refresh of the stale records of covered `specs`,
   * unless one of the same ranges is under way. Its failure leaves them
   * stale (the next read tries again); nothing is left unhandled.
   */
  revalidate(specs: readonly S[], storageSpecs: readonly StorageRecordsSpec<R>[]): void {
    const key = storageSpecs.map(String).join(' | ');
    if (this.revalidating.has(key)) return;
    const attempt = this.refresh(specs).then(
      () => undefined,
      (error: unknown) => this.host.backgroundError(error),
    );
    this.revalidating.set(key, attempt);
    void attempt.then(() => this.revalidating.delete(key));
  }

  /**
   * Refreshes the stale records of covered `specs` (after `resume()`):
   * deletes and reloads each spec's records, then marks its intervals fresh
   * (unless the spec has a `recheck`: then only some of the intervals'
   * records were refreshed). Resolves with `'unreachable'` when the backend
   * could not be reached, `'fresh'` when none of them was stale (any more).
   * Reads that come while an attempt runs wait for it,
   * and when it could not reach the backend, serve stale records at once
   * rather than queueing up one failing attempt each.
   */
  async refresh(specs: readonly S[], readThrough?: ReadThrough<R>): Promise<RefreshOutcome> {
    const running = this.staleRefresh;
    // Another read's attempt that failed is its own to report (or answered it already): this one tries anew.
    if (running && (await running.catch(() => null)) === 'unreachable') return 'unreachable';
    const attempt = this.host.writer.run(() => this.refreshNow(specs, readThrough));
    this.staleRefresh = attempt;
    try {
      return await attempt;
    } finally {
      if (this.staleRefresh === attempt) this.staleRefresh = null;
    }
  }

  /**
   * Refreshes the stale records of `covered` for a read of them, as
   * `refresh(covered)` does. For a hit (its one spec is all the read
   * returns), resolves as soon as the refresh's fetch has ended, with the
   * records storage will hold for the spec (what the backend answered):
   * the read need not wait for the refresh to write and commit. Otherwise
   * resolves with the refresh's outcome (`'fresh'` when it had nothing to
   * fetch: another refresh did it). The records are copies unless
   * `shared`. A refresh that fails after its fetch leaves the records
   * stale; the next read tries again.
   */
  async refreshForRead(
    covered: readonly S[],
    hit: boolean,
    shared: boolean,
  ): Promise<{ readonly records: R[]; readonly through: ReadThrough<R> } | RefreshOutcome> {
    const [spec] = covered;
    if (!hit || spec === undefined || covered.length > 1) return this.refresh(covered);
    const { indexes } = this.host;
    const storageSpec = indexes.storageRecordsSpec(spec);
    const through = new ReadThrough<R>(
      (record) => {
        const key: unknown = indexes.primaryKey(record);
        if (!isValidKey(key)) throw new TypeError('not a key storage accepts');
        return keyToString(key);
      },
      (record) => storageSpec.matches(indexes.score(storageSpec.indexName, record), record),
    );
    const attempt = this.refresh([spec], through);
    const outcome = await Promise.race([through.fetched.then((records) => ({ records, through })), attempt]);
    // Answered from the fetch: the refresh goes on, and nobody awaits it any more.
    if (typeof outcome === 'object') attempt.catch((error: unknown) => this.host.backgroundError(error));
    if (typeof outcome !== 'object' || shared) return outcome;
    try {
      // Storage may still be writing these very objects, and a reader may change its records.
      return { records: structuredClone(outcome.records), through };
    } catch {
      // Records that cannot be copied are read from storage, once the refresh (this read's own) is done.
      const after = await this.refresh([spec]);
      return after === 'fresh' ? 'refreshed' : after;
    }
  }

  private async refreshNow(specs: readonly S[], readThrough: ReadThrough<R> | undefined): Promise<RefreshOutcome> {
    const fresh = this.fresh;
    const stale = specs
      .filter((spec) => this.host.indexes.covers(spec))
      .map((spec) => ({ spec, storageSpec: this.host.indexes.storageRecordsSpec(spec) }))
      .filter(({ storageSpec }) => fresh && !fresh.covers(storageSpec.indexName, storageSpec.intervals));
    if (!fresh || stale.length === 0) return 'fresh';
    const changed = this.host.changeCollector();
    try {
      await this.host.stager.staging(async () => {
        // Each stale part is refreshed as an invalidation of it would be: delete what is stored, load it anew.
        const refreshes = stale.map(({ spec, storageSpec }) => ({
          oldStorageSpec: storageSpec,
          newDbSpec: this.host.indexes.dbRecordsSpec(spec),
          // Only a refresh of the read's one spec fetches exactly what the read returns.
          readThrough: stale.length === 1 ? readThrough : undefined,
        }));
        await this.host.stager.stageRefresh(refreshes, null, changed ? { expired: changed, loaded: changed } : null);
        await this.host.stager.commitAndMerge(null, () => {
          for (const { storageSpec } of stale) {
            if (!storageSpec.recheck) fresh.add(storageSpec.indexName, storageSpec.intervals);
          }
        });
      });
    } catch (error) {
      if (isUnreachable(error)) return 'unreachable';
      throw error;
    }
    let change: RecordsChange | null = null;
    if (changed) {
      const intervals = new Map<string, Interval[]>();
      for (const { storageSpec } of stale)
        intervals.set(storageSpec.indexName, [...(intervals.get(storageSpec.indexName) ?? []), ...storageSpec.intervals]);
      change = new RecordsChange('refresh', changed.scores, intervals, readThrough?.token);
    }
    this.host.committed(change);
    return 'refreshed';
  }

  /** Whether a read of `specs` touches stale records. */
  isStale(specs: readonly StorageRecordsSpec<R>[]): boolean {
    const fresh = this.fresh;
    return fresh !== null && specs.some((spec) => !fresh.covers(spec.indexName, spec.intervals));
  }
}
