import { FreshIntervals, type FreshSnapshot } from './FreshIntervals';
import type { Interval } from './Interval';
import type { Mutex } from './Mutex';
import { isUnreachable } from './readHelpers';
import type { Stager } from './Stager';
import type { StorageRecordsSpec } from './StorageRecordsSpec';
import { RecordsChange } from './TableChange';
import type { Indexes, IndexSpec } from './types';

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
  private staleRefresh: Promise<'refreshed' | 'unreachable'> | null = null;
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
      () => undefined,
    );
    this.revalidating.set(key, attempt);
    void attempt.then(() => this.revalidating.delete(key));
  }

  /**
   * Refreshes the stale records of covered `specs` (after `resume()`):
   * deletes and reloads each spec's records, then marks its intervals fresh
   * (unless the spec has a `recheck`: then only some of the intervals'
   * records were refreshed). Resolves with `'unreachable'` when the backend
   * could not be reached. Reads that come while an attempt runs wait for it,
   * and when it could not reach the backend, serve stale records at once
   * rather than queueing up one failing attempt each.
   */
  async refresh(specs: readonly S[]): Promise<'refreshed' | 'unreachable'> {
    const running = this.staleRefresh;
    if (running && (await running) === 'unreachable') return 'unreachable';
    const attempt = this.host.writer.run(() => this.refreshNow(specs));
    this.staleRefresh = attempt;
    try {
      return await attempt;
    } finally {
      if (this.staleRefresh === attempt) this.staleRefresh = null;
    }
  }

  private async refreshNow(specs: readonly S[]): Promise<'refreshed' | 'unreachable'> {
    const fresh = this.fresh;
    const stale = specs
      .filter((spec) => this.host.indexes.covers(spec))
      .map((spec) => ({ spec, storageSpec: this.host.indexes.storageRecordsSpec(spec) }))
      .filter(({ storageSpec }) => fresh && !fresh.covers(storageSpec.indexName, storageSpec.intervals));
    if (!fresh || stale.length === 0) return 'refreshed';
    const changed = this.host.changeCollector();
    try {
      await this.host.stager.staging(async () => {
        // Each stale part is refreshed as an invalidation of it would be: delete what is stored, load it anew.
        const refreshes = stale.map(({ spec, storageSpec }) => ({
          oldStorageSpec: storageSpec,
          newDbSpec: this.host.indexes.dbRecordsSpec(spec),
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
      change = new RecordsChange('refresh', changed.scores, intervals);
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
