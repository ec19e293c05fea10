import type { Adjustment } from './Adjustment';
import { describeSpec } from './describe';
import { DbAccessError, InvalidSpecError, RecordNotFoundError, TableCacheError } from './errors';
import { FreshIntervals } from './FreshIntervals';
import type { Interval } from './Interval';
import { keyToString, type PrimaryKey } from './keys';
import { mergeAsync } from './mergeAsync';
import { Mutex } from './Mutex';
import type { StorageRecordsSpec } from './StorageRecordsSpec';
import { InvalidationChange, RecordsChange, WholeTableChange, type TableChange } from './TableChange';
import type { DbAccess, Indexes, IndexSpec, ReadOptions, StorageTable } from './types';

/** Options of {@link CachedTable}. */
export interface CachedTableOptions {
  /** Names the table in error messages. Default: the storage table's name. */
  name?: string;
}

/** Counters since the table was created. */
export interface CachedTableStats {
  /** Reads by how they were served. */
  reads: {
    /** Served from storage. */
    cacheHit: number;
    /** Served from storage after refreshing invalid (or, after `resume()`, stale) records. */
    cacheHitWithRefresh: number;
    /** Served by the backend. */
    cacheMiss: number;
    /** Served partly from storage, with only the missing part from the backend. */
    partialHit: number;
    /** Served from storage with stale records because the backend could not be reached to refresh them. */
    servedStale: number;
  };
  /** Refreshes of invalid or stale records (on their own, before a read, or as part of an adjust). */
  refreshes: number;
  /** Loads and adjusts applied (a resume counts as neither). */
  adjustments: number;
  /** Records expired by adjusts. */
  expired: number;
  /** Records loaded by the load and by adjusts. */
  loaded: number;
}

/** Options of {@link CachedTable.invalidateRecords}. */
export interface InvalidateOptions {
  /**
   * Refresh before the next read that touches the invalidated records (or
   * any read of a dirty index). When false, reads keep serving the old
   * records until `refreshInvalid()`. Default true.
   */
  forceRefreshOnNextRead?: boolean;
}

/** How far a load or adjust has come. */
export interface AdjustProgress {
  /** Records fetched and stored (staged) so far. */
  readonly loaded: number;
  /** Records expired (staged for deletion) so far. */
  readonly expired: number;
}

/** Options of {@link CachedTable.load} and {@link CachedTable.adjust}. */
export interface AdjustOptions {
  /**
   * Called as records are loaded and expired (every 1,000 records, and once
   * at the end before the change becomes visible). Must not throw.
   */
  onProgress?: ((progress: AdjustProgress) => void) | undefined;
}

/** Records between two progress reports. */
const PROGRESS_EVERY = 1000;

/** Options of {@link CachedTable.resume}. */
export interface ResumeOptions {
  /** Refuse a stored state committed longer ago than this, in milliseconds. Default: any age. */
  maxAge?: number;
}

/** Where a read is served from: storage, the backend, or both (a partial hit). */
export type ReadSource = 'storage' | 'db' | 'mixed';

/** A read whose source has been decided: `records` streams them. */
export interface RecordsRead<R> {
  /** `'storage'`, `'db'`, or `'mixed'` for a partial hit (covered part from storage, the rest from the backend). */
  readonly from: ReadSource;
  /** True when invalid or stale records were refreshed before this read. */
  readonly refreshed: boolean;
  /** True when storage served records restored by `resume()` that could not be refreshed (backend unreachable). */
  readonly stale: boolean;
  /** For a `'mixed'` read: how many records have come from each source so far (complete once `records` is done). */
  readonly counts?: { readonly storage: number; readonly db: number };
  /** The records; iterate it at once (a storage read holds its snapshot until iterated to the end or closed). */
  readonly records: AsyncIterable<R>;
}

/** Listens to the changes of a table; see {@link CachedTable.onChange}. */
export type TableChangeListener = (change: TableChange) => void;

/** What `CachedTable` stores with every merge, for `resume()`. */
interface PersistedState {
  readonly format: 'tablecache-web/1';
  readonly indexNames: readonly string[];
  /** When the Indexes' state was committed by a load or adjust (epoch ms). */
  readonly committedAt: number;
  readonly indexes: unknown;
}

function isPersistedState(value: unknown): value is PersistedState {
  return typeof value === 'object' && value !== null && (value as PersistedState).format === 'tablecache-web/1';
}

/** One `invalidateRecords` call, kept until a refresh has applied it. */
interface Invalidation<R, D> {
  readonly oldStorageSpec: StorageRecordsSpec<R>;
  readonly newDbSpec: D;
  readonly forceRefresh: boolean;
  /** What it marks: the intervals of each index it names, and every interval of the indexes it cannot follow. */
  readonly marks: InvalidationChange;
}

/** Observes the records a staged change removes and adds. */
interface StagingObserver<R> {
  expired(record: R): void;
  loaded(record: R): void;
}

/** Where a read goes, decided in one synchronous step. */
type ReadPlan<R, S> =
  | { readonly kind: 'miss' }
  | { readonly kind: 'hit'; readonly covered: readonly S[]; readonly storageSpecs: readonly StorageRecordsSpec<R>[] }
  | {
      readonly kind: 'partial';
      readonly covered: readonly S[];
      readonly storageSpecs: readonly StorageRecordsSpec<R>[];
      readonly missing: readonly S[];
    };

type LoadState = 'unloaded' | 'loading' | 'loaded';

/**
 * A cached table: serves the records of an `IndexSpec` from fast storage
 * when the Indexes say storage covers it, and from the backend otherwise.
 *
 * Load it once with `load()` (or `resume()` a persisted storage); change
 * what is cached with `adjust()`; say which records changed with
 * `invalidateRecords()`. Writes (adjusts and refreshes) run one at a time,
 * staged in the storage's scratch space, and become visible atomically
 * together with the Indexes' new coverage; reads never wait for them except
 * for the instant of that switch.
 */
export class CachedTable<R, PK = PrimaryKey, S extends IndexSpec = IndexSpec, D = unknown> {
  /** Names the table in error messages. */
  readonly name: string;
  readonly indexes: Indexes<R, PK, S, D>;
  private readonly db: DbAccess<R, D>;
  private readonly storage: StorageTable<R>;
  private loadState: LoadState = 'unloaded';
  private readonly loadedSignal: Promise<void>;
  private signalLoaded!: () => void;
  private readonly writer = new Mutex();
  /** Set while storage and coverage switch to a new state; reads wait for it. */
  private commitGate: Promise<void> | null = null;
  /** Set when aborting the scratch space failed; the next write aborts it again first. */
  private scratchDirty = false;
  private invalidations: Invalidation<R, D>[] = [];
  /** After `resume()`: what has been refreshed since; everything else is stale. `null` when nothing is stale. */
  private fresh: FreshIntervals | null = null;
  /** When the Indexes' state was last committed by a load or adjust (epoch ms). */
  private committedAt = 0;
  /** The refresh of stale records running now, if any; reads that need one wait for its outcome. */
  private staleRefresh: Promise<'refreshed' | 'unreachable'> | null = null;
  private readonly changeListeners = new Set<TableChangeListener>();
  private readonly counters: CachedTableStats = {
    reads: { cacheHit: 0, cacheHitWithRefresh: 0, cacheMiss: 0, partialHit: 0, servedStale: 0 },
    refreshes: 0,
    adjustments: 0,
    expired: 0,
    loaded: 0,
  };

  constructor(
    indexes: Indexes<R, PK, S, D>,
    dbAccess: DbAccess<R, D>,
    storageTable: StorageTable<R>,
    options: CachedTableOptions = {},
  ) {
    this.indexes = indexes;
    this.db = dbAccess;
    this.storage = storageTable;
    this.name = options.name ?? storageTable.name;
    this.loadedSignal = new Promise((resolve) => (this.signalLoaded = resolve));
  }

  /** Whether the first load (or resume) has completed. */
  get isLoaded(): boolean {
    return this.loadState === 'loaded';
  }

  /**
   * Clears storage and loads the records of `spec` from the backend, then
   * adopts `spec` as the Indexes' coverage. Reads and adjusts wait until it
   * completes. Resolves when loaded.
   *
   * @throws {TableCacheError} when the table is loaded or loading already.
   * @throws {UnsupportedIndexOperation} when the index cannot be adjusted.
   * Backend and storage errors propagate; a failed load may be retried.
   * @param options `onProgress` reports the records loaded so far.
   */
  async load(spec: S, options: AdjustOptions = {}): Promise<void> {
    this.startLoading('load');
    try {
      const adjustment = this.indexes.prepareAdjustment(spec);
      await this.storage.clear();
      let loaded = 0;
      const report = options.onProgress;
      if (adjustment.loadSpec !== null) {
        await this.storage.putRecords(
          this.observed(this.db.getRecords(adjustment.loadSpec), (record) => {
            adjustment.observeLoaded(record);
            if (++loaded % PROGRESS_EVERY === 0) report?.({ loaded, expired: 0 });
          }),
        );
      }
      if (loaded % PROGRESS_EVERY !== 0 || loaded === 0) report?.({ loaded, expired: 0 });
      // Nothing is staged: the merge only persists the Indexes' new state.
      await this.commitAndMerge(adjustment);
      this.counters.adjustments++;
      this.counters.loaded += loaded;
      this.finishLoading();
    } catch (error) {
      this.loadState = 'unloaded';
      throw error;
    }
  }

  /**
   * Becomes loaded from what storage already holds (e.g. IndexedDB after a
   * reload), with no backend request, in time independent of the number of
   * records stored: the Indexes restore the state committed with the last
   * merge. The restored records are *stale*: each read that can reach the
   * backend refreshes what it touches first; a read that cannot serves them
   * anyway, saying so (`stale: true`, `stats().reads.servedStale`).
   *
   * @throws {TableCacheError} when loaded or loading already, when storage
   * holds no committed state (or one of other indexes, or older than
   * `maxAge`), or when the Indexes cannot restore a state: call `load()`.
   */
  async resume(options: ResumeOptions = {}): Promise<void> {
    this.startLoading('resume');
    try {
      const { restoreState } = this.indexes;
      if (!restoreState || !this.indexes.snapshotState) {
        throw new TableCacheError(`Table '${this.name}' cannot resume: its Indexes do not implement snapshotState/restoreState.`);
      }
      const stored = await this.storage.committedState?.();
      if (!isPersistedState(stored)) {
        throw new TableCacheError(`Table '${this.name}' has nothing to resume: storage holds no committed state; load() it.`);
      }
      if (stored.indexNames.join('\0') !== this.indexes.indexNames.join('\0')) {
        throw new TableCacheError(
          `Table '${this.name}' cannot resume: storage was committed with indexes [${stored.indexNames.join(', ')}], not [${this.indexes.indexNames.join(', ')}].`,
        );
      }
      const age = Date.now() - stored.committedAt;
      if (options.maxAge !== undefined && age > options.maxAge) {
        throw new TableCacheError(
          `Table '${this.name}' will not resume a state committed ${Math.round(age / 1000)} s ago (maxAge ${Math.round(options.maxAge / 1000)} s); load() it.`,
        );
      }
      restoreState.call(this.indexes, stored.indexes);
      this.committedAt = stored.committedAt;
      this.fresh = new FreshIntervals();
      this.finishLoading();
    } catch (error) {
      this.loadState = 'unloaded';
      throw error;
    }
  }

  private startLoading(operation: string): void {
    if (this.loadState !== 'unloaded') {
      throw new TableCacheError(
        `Table '${this.name}' cannot ${operation}: it is ${this.loadState === 'loaded' ? 'already loaded' : 'being loaded'}; use adjust() to change what it caches.`,
      );
    }
    this.loadState = 'loading';
  }

  private finishLoading(): void {
    this.loadState = 'loaded';
    this.signalLoaded();
    this.emit(new WholeTableChange('load'));
  }

  /** Resolves once the first load or resume has completed (never rejects; a failed load may be retried). */
  loaded(): Promise<void> {
    return this.loadedSignal;
  }

  /**
   * The records of `spec`, streamed: from storage when the Indexes cover
   * `spec` (refreshing first when any of them was invalidated with
   * `forceRefreshOnNextRead`, the index is dirty, or they are stale after
   * `resume()`), from the backend otherwise. When the Indexes can split a
   * partly covered spec (`splitCoverage`), the covered part comes from
   * storage and only the rest from the backend, each record once. Waits for
   * `loaded()`. Breaking out of the loop cancels a backend fetch.
   *
   * The iteration rejects with `UnsupportedIndexOperation` when the index
   * does not support `covers`, and with the backend's or storage's error.
   */
  getRecords(spec: S): AsyncIterable<R> {
    return this.streamRecords(spec);
  }

  private async *streamRecords(spec: S): AsyncGenerator<R> {
    yield* (await this.readRecords(spec)).records;
  }

  /**
   * Like `getRecords`, but resolves once the source of the read is decided
   * (and any refresh it needed is done), saying where the records come from.
   * Iterate `records` at once. With `shared`, you promise not to change the
   * records (e.g. you only post them to another thread, as the worker
   * boundary does), which spares storage from copying them.
   *
   * Rejects as `getRecords`' iteration does.
   */
  async readRecords(spec: S, options: ReadOptions = {}): Promise<RecordsRead<R>> {
    await this.loaded();
    let refreshed = false;
    let stale = false;
    let staleTried = false;
    for (;;) {
      // Planning and opening the storage reads happen in one synchronous step after the gate, so a read never sees new storage with old coverage or the reverse.
      while (this.commitGate) await this.commitGate;
      const plan = this.planRead(spec);
      if (plan.kind === 'miss') {
        this.counters.reads.cacheMiss++;
        return { from: 'db', refreshed, stale: false, records: this.readFromDb(spec) };
      }
      if (!refreshed && this.needsRefresh(plan.storageSpecs)) {
        await this.refreshInvalid();
        refreshed = true;
        continue;
      }
      if (!staleTried && this.isStale(plan.storageSpecs)) {
        // Once per read: a spec with a recheck stays stale after its refresh (only part of its intervals was refreshed).
        staleTried = true;
        if ((await this.refreshStale(plan.covered)) === 'unreachable') stale = true;
        else refreshed = true;
        continue;
      }
      const storageReads = plan.storageSpecs.map((storageSpec) => this.storage.getRecords(storageSpec, options));
      if (stale) this.counters.reads.servedStale++;
      if (plan.kind === 'hit') {
        if (!stale) this.counters.reads[refreshed ? 'cacheHitWithRefresh' : 'cacheHit']++;
        const records = storageReads.length === 1 ? (storageReads[0] as AsyncIterable<R>) : mergeAsync(storageReads);
        return { from: 'storage', refreshed, stale, records };
      }
      this.counters.reads.partialHit++;
      const counts = { storage: 0, db: 0 };
      const records = this.readPartial(storageReads, plan.missing, counts);
      return { from: 'mixed', refreshed, stale, counts, records };
    }
  }

  /** Decides, from the Indexes' current coverage, where the records of `spec` are read. */
  private planRead(spec: S): ReadPlan<R, S> {
    if (this.indexes.covers(spec)) {
      return { kind: 'hit', covered: [spec], storageSpecs: [this.indexes.storageRecordsSpec(spec)] };
    }
    const split = this.indexes.splitCoverage?.(spec);
    if (!split || split.covered.length === 0) return { kind: 'miss' };
    const storageSpecs = split.covered.map((covered) => this.indexes.storageRecordsSpec(covered));
    return { kind: 'partial', covered: split.covered, storageSpecs, missing: split.missing };
  }

  private async *readFromDb(spec: S): AsyncGenerator<R> {
    const controller = new AbortController();
    try {
      yield* this.db.getRecords(this.indexes.dbRecordsSpec(spec), { signal: controller.signal });
    } finally {
      controller.abort();
    }
  }

  /**
   * A partial hit: storage reads and backend fetches run concurrently. Each
   * primary key is yielded once, even if a record moved in the backend
   * between the parts without an invalidation.
   */
  private readPartial(
    storageReads: readonly AsyncIterable<R>[],
    missing: readonly S[],
    counts: { storage: number; db: number },
  ): AsyncGenerator<R> {
    const seen = new Set<string>();
    const indexes = this.indexes;
    // Each source skips the keys another has already produced (the first one wins) and counts what it passes on.
    const once = (records: AsyncIterable<R>, source: 'storage' | 'db') =>
      (async function* () {
        for await (const record of records) {
          const key = keyToString(indexes.primaryKey(record) as PrimaryKey);
          if (seen.has(key)) continue;
          seen.add(key);
          counts[source]++;
          yield record;
        }
      })();
    return mergeAsync([
      ...storageReads.map((read) => once(read, 'storage')),
      ...missing.map((spec) => once(this.readFromDb(spec), 'db')),
    ]);
  }

  /**
   * The first record `getRecords(spec)` yields (records have no defined
   * order: use it when at most one record matches).
   * @throws {RecordNotFoundError} when no record matches.
   */
  async getFirstRecord(spec: S): Promise<R> {
    for await (const record of this.getRecords(spec)) return record;
    throw new RecordNotFoundError(`Table '${this.name}' has no record matching ${describeSpec(spec)} (index '${spec.indexName}').`);
  }

  /**
   * Changes the cached records to exactly those of `spec`: refreshes invalid
   * records, expires and loads what the Indexes' adjustment says, all staged
   * in scratch space, then makes the new records and coverage visible at
   * once. Waits for `loaded()` and runs after earlier adjusts and refreshes.
   *
   * On any failure the scratch space is dropped and the table stays exactly
   * as it was (records, coverage, invalid marks), and the error is thrown.
   *
   * @throws {UnsupportedIndexOperation} when the index cannot be adjusted.
   * @param options `onProgress` reports the records loaded and expired so far.
   */
  async adjust(spec: S, options: AdjustOptions = {}): Promise<void> {
    await this.loaded();
    await this.writer.run(async () => {
      const adjustment = this.indexes.prepareAdjustment(spec);
      const invalidations = [...this.invalidations];
      const staged = invalidations.length > 0 ? new Map<string, R>() : null;
      const changed = this.changeCollector();
      let expired = 0;
      let loaded = 0;
      const report = options.onProgress;
      let reported = 0;
      const progress = () => {
        if (report && expired + loaded - reported >= PROGRESS_EVERY) {
          reported = expired + loaded;
          report({ loaded, expired });
        }
      };
      await this.staging(async () => {
        const observer: StagingObserver<R> = {
          expired: (record) => {
            changed?.(record);
            adjustment.observeExpired(record);
          },
          loaded: (record) => {
            changed?.(record);
            adjustment.observeLoaded(record);
          },
        };
        await this.stageRefresh(invalidations, staged, observer);
        if (adjustment.expireSpec) {
          if (staged) expired += this.dropStaged(staged, adjustment.expireSpec, observer);
          await this.storage.scratchDiscardRecords(adjustment.expireSpec, (record) => {
            observer.expired(record);
            expired++;
            progress();
          });
        }
        if (adjustment.loadSpec !== null) {
          await this.stagePut(adjustment.loadSpec, null, (record) => {
            observer.loaded(record);
            loaded++;
            progress();
          });
        }
        report?.({ loaded, expired });
        await this.commitAndMerge(adjustment, () => this.forget(invalidations));
      });
      if (invalidations.length > 0) this.counters.refreshes++;
      this.counters.adjustments++;
      this.counters.expired += expired;
      this.counters.loaded += loaded;
      if (changed) this.emit(new RecordsChange('adjust', changed.scores));
    });
  }

  /**
   * Marks records as changed in the backend. No I/O: the next read of them
   * (or `refreshInvalid()`) deletes the records of `oldSpecs[0]` from storage
   * and loads those of `newSpecs[0]` from the backend.
   *
   * Both lists hold specs of the same records, by their old and their new
   * scores, at most one per index, each covered. With
   * `forceRefreshOnNextRead` (the default), their intervals are marked
   * invalid and every index without a spec in both lists becomes dirty: any
   * read of it refreshes first.
   *
   * @throws {TableCacheError} before the first load completes.
   * @throws {InvalidSpecError} when a list is empty, names an index twice, or holds a spec that is not covered.
   * @throws {UnsupportedIndexOperation} when an index does not support `covers`.
   */
  invalidateRecords(oldSpecs: readonly S[], newSpecs: readonly S[], options: InvalidateOptions = {}): void {
    if (this.loadState !== 'loaded') {
      throw new TableCacheError(`Table '${this.name}' cannot invalidate records before its first load has completed.`);
    }
    const intervals = new Map<string, Interval[]>();
    for (const [listName, specs] of [['oldSpecs', oldSpecs], ['newSpecs', newSpecs]] as const) {
      if (specs.length === 0) throw new InvalidSpecError(`invalidateRecords on table '${this.name}': ${listName} is empty.`, { path: [listName] });
      const seen = new Set<string>();
      specs.forEach((spec, i) => {
        if (seen.has(spec.indexName)) {
          throw new InvalidSpecError(
            `invalidateRecords on table '${this.name}': ${listName} names index '${spec.indexName}' more than once.`,
            { path: [listName, i, 'indexName'] },
          );
        }
        seen.add(spec.indexName);
        if (!this.indexes.covers(spec)) {
          throw new InvalidSpecError(
            `invalidateRecords on table '${this.name}': ${describeSpec(spec)} (index '${spec.indexName}') is not covered by the cache.`,
            { path: [listName, i] },
          );
        }
        const marked = intervals.get(spec.indexName) ?? [];
        marked.push(...this.indexes.storageRecordsSpec(spec).intervals);
        intervals.set(spec.indexName, marked);
      });
    }
    const inBoth = (indexName: string) =>
      oldSpecs.some((spec) => spec.indexName === indexName) && newSpecs.some((spec) => spec.indexName === indexName);
    const invalidation: Invalidation<R, D> = {
      oldStorageSpec: this.indexes.storageRecordsSpec(oldSpecs[0] as S),
      newDbSpec: this.indexes.dbRecordsSpec(newSpecs[0] as S),
      forceRefresh: options.forceRefreshOnNextRead ?? true,
      marks: new InvalidationChange(intervals, new Set(this.indexes.indexNames.filter((indexName) => !inBoth(indexName)))),
    };
    this.invalidations.push(invalidation);
    if (invalidation.forceRefresh) this.emit(invalidation.marks);
  }

  /**
   * Refreshes every invalidated record: deletes by the old spec, loads by the
   * new one, staged and merged at once. Returns at once when nothing is
   * invalid; otherwise runs after earlier adjusts and refreshes. Clears
   * exactly the marks it refreshed (invalidations arriving meanwhile stay);
   * on failure every mark stays, storage is unchanged, and the error is thrown.
   */
  async refreshInvalid(): Promise<void> {
    if (this.invalidations.length === 0) return;
    await this.writer.run(async () => {
      const invalidations = [...this.invalidations];
      if (invalidations.length === 0) return;
      const changed = this.changeCollector();
      await this.staging(async () => {
        await this.stageRefresh(invalidations, null, changed ? { expired: changed, loaded: changed } : null);
        await this.commitAndMerge(null, () => this.forget(invalidations));
      });
      this.counters.refreshes++;
      if (changed) this.emit(new RecordsChange('refresh', changed.scores));
    });
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
  private async refreshStale(specs: readonly S[]): Promise<'refreshed' | 'unreachable'> {
    const running = this.staleRefresh;
    if (running && (await running) === 'unreachable') return 'unreachable';
    const attempt = this.writer.run(() => this.refreshStaleNow(specs));
    this.staleRefresh = attempt;
    try {
      return await attempt;
    } finally {
      if (this.staleRefresh === attempt) this.staleRefresh = null;
    }
  }

  private async refreshStaleNow(specs: readonly S[]): Promise<'refreshed' | 'unreachable'> {
    const fresh = this.fresh;
    const stale = specs
      .filter((spec) => this.indexes.covers(spec))
      .map((spec) => ({ spec, storageSpec: this.indexes.storageRecordsSpec(spec) }))
      .filter(({ storageSpec }) => fresh && !fresh.covers(storageSpec.indexName, storageSpec.intervals));
    if (!fresh || stale.length === 0) return 'refreshed';
    const changed = this.changeCollector();
    try {
      await this.staging(async () => {
        // Each stale part is refreshed as an invalidation of it would be: delete what is stored, load it anew.
        const refreshes = stale.map(({ spec, storageSpec }) => ({ oldStorageSpec: storageSpec, newDbSpec: this.indexes.dbRecordsSpec(spec) }));
        await this.stageRefresh(refreshes, null, changed ? { expired: changed, loaded: changed } : null);
        await this.commitAndMerge(null, () => {
          for (const { storageSpec } of stale) {
            if (!storageSpec.recheck) fresh.add(storageSpec.indexName, storageSpec.intervals);
          }
        });
      });
    } catch (error) {
      if (isUnreachable(error)) return 'unreachable';
      throw error;
    }
    this.counters.refreshes++;
    if (changed) this.emit(new RecordsChange('refresh', changed.scores));
    return 'refreshed';
  }

  /**
   * Calls `listener` after every change that can alter what a read returns:
   * a load or resume, an adjust, a refresh (with the scores of every record
   * they stored or removed), and an invalidation with
   * `forceRefreshOnNextRead`. Called synchronously once the change is visible
   * to reads. Returns a function that stops the calls.
   */
  onChange(listener: TableChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** A copy of the counters. */
  stats(): CachedTableStats {
    return { ...this.counters, reads: { ...this.counters.reads } };
  }

  /** When anyone listens for changes: a function collecting each touched record's scores, per index. */
  private changeCollector(): (((record: R) => void) & { scores: Map<string, number[]> }) | null {
    if (this.changeListeners.size === 0) return null;
    const scores = new Map(this.indexes.indexNames.map((indexName) => [indexName, [] as number[]]));
    const collect = (record: R) => {
      for (const [indexName, list] of scores) list.push(this.indexes.score(indexName, record));
    };
    return Object.assign(collect, { scores });
  }

  private emit(change: TableChange): void {
    for (const listener of [...this.changeListeners]) {
      try {
        listener(change);
      } catch (error) {
        // A listener's bug must not undo a committed change; surface it on its own.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private needsRefresh(specs: readonly StorageRecordsSpec<R>[]): boolean {
    return this.invalidations.some(
      ({ forceRefresh, marks }) => forceRefresh && specs.some((spec) => marks.affects(spec.indexName, spec.intervals)),
    );
  }

  private isStale(specs: readonly StorageRecordsSpec<R>[]): boolean {
    const fresh = this.fresh;
    return fresh !== null && specs.some((spec) => !fresh.covers(spec.indexName, spec.intervals));
  }

  private forget(invalidations: readonly Invalidation<R, D>[]): void {
    const done = new Set(invalidations);
    this.invalidations = this.invalidations.filter((invalidation) => !done.has(invalidation));
  }

  /** Runs `stage` with a clean scratch space; on failure drops the scratch space and rethrows. */
  private async staging(stage: () => Promise<void>): Promise<void> {
    if (this.scratchDirty) {
      await this.storage.scratchAbort();
      this.scratchDirty = false;
    }
    try {
      await stage();
    } catch (error) {
      try {
        await this.storage.scratchAbort();
      } catch {
        // The original error is what the caller needs; the next write retries the abort.
        this.scratchDirty = true;
      }
      throw error;
    }
  }

  /**
   * Stages each invalidation's delete-by-old and load-by-new, in order.
   * `staged`, when given, tracks the records staged so far, so that a later
   * discard that drops one of them is observed too.
   */
  private async stageRefresh(
    invalidations: readonly Pick<Invalidation<R, D>, 'oldStorageSpec' | 'newDbSpec'>[],
    staged: Map<string, R> | null,
    observer: StagingObserver<R> | null,
  ): Promise<void> {
    for (const invalidation of invalidations) {
      if (staged) this.dropStaged(staged, invalidation.oldStorageSpec, observer);
      await this.storage.scratchDiscardRecords(invalidation.oldStorageSpec, observer?.expired);
      await this.stagePut(invalidation.newDbSpec, staged, observer?.loaded);
    }
  }

  private async stagePut(dbSpec: D, staged: Map<string, R> | null, onLoaded?: (record: R) => void): Promise<void> {
    await this.storage.scratchPutRecords(
      this.observed(this.db.getRecords(dbSpec), (record) => {
        staged?.set(keyToString(this.indexes.primaryKey(record) as PrimaryKey), record);
        onLoaded?.(record);
      }),
    );
  }

  /** Forgets (and observes as expired) the staged records that a discard of `spec` drops. */
  private dropStaged(staged: Map<string, R>, spec: StorageRecordsSpec<R>, observer: StagingObserver<R> | null): number {
    let dropped = 0;
    for (const [key, record] of staged) {
      if (spec.matches(this.indexes.score(spec.indexName, record), record)) {
        staged.delete(key);
        observer?.expired(record);
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * Merges the scratch space and adopts the adjustment's coverage as one step
   * for readers (they wait at the gate meanwhile). When the Indexes can
   * snapshot their state, it is committed first so that the merge persists
   * it, and rolled back if the merge fails.
   */
  private async commitAndMerge(adjustment: Adjustment<R, D> | null, then?: () => void): Promise<void> {
    let open!: () => void;
    this.commitGate = new Promise((resolve) => (open = resolve));
    try {
      const { snapshotState, restoreState } = this.indexes;
      if (snapshotState && restoreState) {
        const previous = adjustment ? snapshotState.call(this.indexes) : undefined;
        if (adjustment) this.indexes.commitAdjustment(adjustment);
        const committedAt = adjustment ? Date.now() : this.committedAt;
        try {
          await this.storage.scratchMerge(this.persistedState(snapshotState.call(this.indexes), committedAt));
        } catch (error) {
          if (adjustment) restoreState.call(this.indexes, previous);
          throw error;
        }
        this.committedAt = committedAt;
      } else {
        await this.storage.scratchMerge();
        if (adjustment) this.indexes.commitAdjustment(adjustment);
      }
      then?.();
    } finally {
      this.commitGate = null;
      open();
    }
  }

  private persistedState(indexes: unknown, committedAt: number): PersistedState {
    return { format: 'tablecache-web/1', indexNames: [...this.indexes.indexNames], committedAt, indexes };
  }

  private async *observed(records: AsyncIterable<R>, observe: (record: R) => void): AsyncGenerator<R> {
    for await (const record of records) {
      observe(record);
      yield record;
    }
  }
}

/** Whether a backend failure means it could not be reached (so stale records may be served instead). */
function isUnreachable(error: unknown): boolean {
  return (
    error instanceof DbAccessError && (error.offline || error.timedOut || (error.status !== undefined && error.status >= 500))
  );
}
