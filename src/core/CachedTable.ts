import type {
  AdjustOptions,
  CachedTableOptions,
  CachedTableStats,
  InvalidateKeysOptions,
  InvalidateOptions,
  RecordsRead,
  RefreshOptions,
  ResumeOptions,
  TableChangeListener,
  TableReadOptions,
} from './CachedTableOptions';
import { zeroStats } from './CachedTableOptions';
import { abortable, abortableRecords, abortReasonOr } from './abortable';
import { describeSpec } from './describe';
import { RecordNotFoundError, TableCacheError } from './errors';
import type { ChangeFeedStatus, ChangeFollower, FollowChangesOptions, OpenChangeFeed } from './changeFeed';
import { StatusListeners } from './StatusListeners';
import type { ChangeFeedFollower } from './followChanges';
import { startFollower } from './followerHost';
import { assertKeysSupported, cursorAfter, Invalidations, keysInvalidation, specInvalidation } from './Invalidations';
import type { PrimaryKey } from './keys';
import { Mutex } from './Mutex';
import { OpenOnFirstNext } from './asyncIterators';
import { resumableState } from './persistedState';
import { ProgressCounter } from './ProgressCounter';
import { afterRead, checkKeysPerFetch } from './readHelpers';
import { planRead, readFromDb, serveCovered, serveFetched } from './readPlan';
import { StaleRecords } from './StaleRecords';
import { dbAccessOptions, observed, Stager } from './Stager';
import { stageAdjust } from './stageAdjust';
import { ChangeListeners, type ScoreCollector } from './ChangeListeners';
import { RecordsChange, WholeTableChange } from './TableChange';
import type { DbAccess, Indexes, IndexSpec, StorageLostReason, StorageTable } from './types';

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
  private readonly stager: Stager<R, PK, S, D>;
  private readonly invalidations = new Invalidations<R, D>();
  private readonly stale: StaleRecords<R, PK, S, D>;
  private readonly staleWhileRevalidate: boolean;
  private readonly changeListeners = new ChangeListeners();
  private follower: ChangeFeedFollower<PK> | null = null;
  private readonly feedStatus = new StatusListeners<ChangeFeedStatus | 'none'>('none');
  private readonly counters: CachedTableStats = zeroStats();

  constructor(indexes: Indexes<R, PK, S, D>, dbAccess: DbAccess<R, D>, storageTable: StorageTable<R>, options: CachedTableOptions = {}) {
    this.indexes = indexes;
    this.db = dbAccess;
    this.storage = storageTable;
    this.name = options.name ?? storageTable.name;
    this.staleWhileRevalidate = options.staleWhileRevalidate ?? false;
    this.stager = new Stager(indexes, dbAccess, storageTable, checkKeysPerFetch(options.keysPerFetch));
    this.stale = new StaleRecords({
      indexes,
      stager: this.stager,
      writer: this.writer,
      changeCollector: () => this.changeCollector(),
      backgroundError: options.onBackgroundError ?? ((error) => console.warn(error)),
      committed: (change) => {
        this.counters.refreshes++;
        this.changeListeners.emitCommitted(change, 'refresh');
      },
    });
    this.stager.staleSnapshot = () => this.stale.snapshot();
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
    const { signal } = options;
    signal?.throwIfAborted();
    this.startLoading('load');
    try {
      const adjustment = this.indexes.prepareAdjustment(spec);
      // Every change after this position reaches the follower; the load fetches after it.
      const feedPosition = this.follower?.loadPosition() ?? null;
      this.stager.changeCursor = null;
      await this.storage.clear();
      const progress = new ProgressCounter(options.onProgress);
      if (adjustment.loadSpec !== null) {
        const records = abortableRecords(this.db.getRecords(adjustment.loadSpec, dbAccessOptions(signal, progress.onTotal)), signal);
        await this.storage.putRecords(
          observed(records, (record) => {
            adjustment.observeLoaded(record);
            progress.addLoaded();
          }),
        );
      }
      progress.finish();
      const { loaded } = progress.progress;
      signal?.throwIfAborted();
      // Nothing is staged: the merge only persists the Indexes' new state.
      await this.stager.commitAndMerge(adjustment, undefined, feedPosition ?? undefined);
      this.counters.adjustments++;
      this.counters.loaded += loaded;
      this.finishLoading();
    } catch (error) {
      this.loadState = 'unloaded';
      throw abortReasonOr(error, signal);
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
      const stored = resumableState(this.name, this.indexes.indexNames, await this.storage.committedState?.(), options.maxAge);
      restoreState.call(this.indexes, stored.indexes);
      this.stager.committedAt = stored.committedAt;
      this.stager.changeCursor = typeof stored.changeCursor === 'string' ? stored.changeCursor : null;
      // With a cursor and a follower, the feed brings what changed since: only what was stale then is stale now.
      if (this.stager.changeCursor !== null && this.follower && this.follower.status !== 'stopped')
        this.stale.restore(stored.fresh ?? null);
      else this.stale.resumed();
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
    this.changeListeners.emit(new WholeTableChange('load'));
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
  getRecords(spec: S, options: TableReadOptions = {}): AsyncIterable<R> {
    return new OpenOnFirstNext(async () => (await this.readRecords(spec, options)).records[Symbol.asyncIterator]());
  }

  /**
   * Like `getRecords`, but resolves once the source of the read is decided (and any refresh it needed
   * is done, or for stale records after `resume()` has fetched them: the read is answered from that
   * fetch, the refresh commits after; `idle()` waits for it), saying where the records come from.
   * Iterate `records` at once. With `shared`, you promise not to change the
   * records (e.g. you only post them to another thread, as the worker
   * boundary does), which spares storage from copying them.
   *
   * Options: `staleWhileRevalidate` (serve stale records at once and
   * refresh them in the background; default: the table's option), `signal`
   * (cancel the read), `shared`.
   *
   * Rejects as `getRecords`' iteration does, and with `signal.reason` when aborted.
   */
  async readRecords(spec: S, options: TableReadOptions = {}): Promise<RecordsRead<R>> {
    const { signal } = options;
    signal?.throwIfAborted();
    await abortable(this.loaded(), signal);
    const revalidate = options.staleWhileRevalidate ?? this.staleWhileRevalidate;
    let refreshed = false;
    let stale = false;
    let staleTried = false;
    let revalidation: (() => void) | null = null;
    for (;;) {
      // Planning and opening the storage reads happen in one synchronous step after the gate, so a read never sees new storage with old coverage or the reverse.
      while (this.stager.commitGate) await abortable(this.stager.commitGate, signal);
      const plan = planRead(this.indexes, spec);
      if (plan.kind === 'miss') {
        this.counters.reads.cacheMiss++;
        return { from: 'db', refreshed, stale: false, incomplete: false, records: readFromDb(this.indexes, this.db, spec, signal) };
      }
      if (!refreshed && this.invalidations.needsRefresh(plan.storageSpecs)) {
        await abortable(this.refreshInvalid(), signal);
        refreshed = true;
        continue;
      }
      if (!staleTried && this.stale.isStale(plan.storageSpecs)) {
        // Once per read: a spec with a recheck stays stale after its refresh (only part of its intervals was refreshed).
        staleTried = true;
        if (revalidate) {
          // Served now, from the plan just made (nothing awaited since the gate); refreshed once taken, not during the paint.
          revalidation = () => this.stale.revalidate(plan.covered, plan.storageSpecs);
          stale = true;
        } else {
          // A hit is answered from its refresh's fetch once that ends, before the refresh writes and commits it.
          const outcome = await abortable(this.stale.refreshForRead(plan.covered, plan.kind === 'hit', options.shared === true), signal);
          if (typeof outcome === 'object') return serveFetched(outcome.records, outcome.through, this.counters.reads);
          if (outcome === 'unreachable') stale = true;
          else if (outcome === 'refreshed') refreshed = true;
          continue;
        }
      }
      const readOptions = options.shared === undefined ? {} : { shared: options.shared };
      const storageReads = plan.storageSpecs.map((storageSpec) => this.storage.getRecords(storageSpec, readOptions));
      const covered = { indexes: this.indexes, db: this.db, counters: this.counters.reads, refreshed, stale, signal };
      const read = await serveCovered(plan, storageReads, { ...covered, partialWhenOffline: options.partialWhenOffline ?? false });
      return revalidation ? { ...read, records: afterRead(read.records, revalidation) } : read;
    }
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
    const { signal } = options;
    signal?.throwIfAborted();
    await abortable(this.loaded(), signal);
    await abortable(
      this.writer.run(() => this.adjustNow(spec, options, signal)),
      signal,
    );
  }

  private async adjustNow(spec: S, options: AdjustOptions, signal: AbortSignal | undefined): Promise<void> {
    const { indexes, storage, stager, invalidations } = this;
    const changed = this.changeCollector();
    const done = await stageAdjust({ indexes, storage, stager, invalidations, changed }, spec, options, signal);
    if (done.refreshed) this.counters.refreshes++;
    this.counters.adjustments++;
    this.counters.expired += done.expired;
    this.counters.loaded += done.loaded;
    this.changeListeners.emitCommitted(changed && new RecordsChange('adjust', changed.scores), 'adjust');
  }

  /**
   * Marks records as changed in the backend. No I/O: the next read of them
   * (or `refreshInvalid()`) deletes the records of `oldSpecs[0]` from storage
   * and loads those of `newSpecs[0]` from the backend.
   *
   * Both lists hold specs of the same records, by their old and their new
   * scores, at most one per index, each covered.
   *
   * The trap: the refresh deletes *every* stored record of `oldSpecs[0]`,
   * not only the changed ones. With range specs and repeated scores, that
   * loses records: four products at price 155.01, one moves to 155.55, and
   * `invalidateRecords([{ indexName: 'price', ge: 155.01, lt: 155.0100000001 }], [{ indexName: 'price', ge: 155.55, lt: 155.5500000001 }])`
   * deletes all four and fetches only the one at 155.55. Prefer
   * {@link CachedTable.invalidateKeys}, which needs only the primary keys. With
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
    const invalidation = specInvalidation(this.indexes, this.name, oldSpecs, newSpecs, options.forceRefreshOnNextRead ?? true);
    this.invalidations.add(invalidation);
    if (invalidation.forceRefresh) this.changeListeners.emit(invalidation.marks);
  }

  /**
   * Marks the records with these primary keys as changed in the backend
   * (updated, moved to other scores, deleted, or created), and by default
   * refreshes them now. The refresh looks each key up in storage (its old
   * scores), fetches the current versions from the backend
   * (`Indexes.dbRecordsSpecForKeys`, `keysPerFetch` keys per request), and
   * places each record where its new scores say: replaced when it is still
   * (or now) within what the Indexes hold (`Indexes.coversRecord`), dropped
   * when it moved out or is gone from the backend. No other record is
   * touched; an unchanged record is not rewritten; keys the table does not
   * hold cost only the look-ups. Staged and merged at once, like every
   * refresh: on failure storage is unchanged and the marks stay.
   *
   * Prefer it to `invalidateRecords`, which needs the old and the new scores
   * of exactly the changed records.
   *
   * @param options `forceRefreshOnNextRead` (default true: refresh now;
   * false: mark only, as `invalidateRecords` with false: reads keep serving
   * the old records until `refreshInvalid()` or the next `adjust()`) and `signal`.
   * @returns resolves once refreshed (or marked).
   * @throws {TableCacheError} before the first load completes.
   * @throws {InvalidSpecError} when `keys` is not an array of valid primary keys.
   * @throws {UnsupportedOperationError} when the storage has no
   * `getRecordsByKeys`, or the Indexes have no `dbRecordsSpecForKeys` or `coversRecord`.
   * Backend and storage errors propagate (the marks stay); an abort rejects
   * with `signal.reason` (this call's marks removed).
   */
  async invalidateKeys(keys: readonly PK[], options: InvalidateKeysOptions = {}): Promise<void> {
    if (this.loadState !== 'loaded') {
      throw new TableCacheError(`Table '${this.name}' cannot invalidate keys before its first load has completed.`);
    }
    assertKeysSupported(this.storage, this.indexes, this.name);
    const invalidation = keysInvalidation(this.indexes.indexNames, this.name, keys, options.forceRefreshOnNextRead ?? true);
    const { signal } = options;
    signal?.throwIfAborted();
    if (!invalidation) return;
    this.invalidations.add(invalidation);
    if (options.forceRefreshOnNextRead === false) return;
    try {
      await this.refreshInvalid({ signal });
    } catch (error) {
      if (signal?.aborted) this.invalidations.forget([invalidation]);
      throw error;
    }
  }

  /**
   * Refreshes every invalidated record: deletes by the old spec and loads by
   * the new one (`invalidateRecords`), refetches and places by key
   * (`invalidateKeys`), staged and merged at once. Returns at once when
   * nothing is invalid; otherwise runs after earlier adjusts and refreshes.
   * Clears exactly the marks it refreshed (invalidations arriving meanwhile
   * stay); on failure or abort every mark stays, storage is unchanged, and
   * the error (or `signal.reason`) is thrown.
   */
  async refreshInvalid(options: RefreshOptions = {}): Promise<void> {
    const { signal } = options;
    signal?.throwIfAborted();
    if (this.invalidations.size === 0) return;
    const run = this.writer.run(async () => {
      signal?.throwIfAborted();
      const invalidations = this.invalidations.snapshot();
      if (invalidations.length === 0) return;
      const changed = this.changeCollector();
      const observer = changed ? { expired: changed, loaded: changed } : null;
      const commit = { then: () => this.invalidations.forget(invalidations), cursor: cursorAfter(invalidations) };
      await this.stager.refresh(invalidations, observer, commit, signal);
      this.counters.refreshes++;
      this.changeListeners.emitCommitted(changed && new RecordsChange('refresh', changed.scores), 'refresh');
    });
    await abortable(run, signal);
  }

  /**
   * Calls `listener` after every change that can alter what a read returns:
   * a load or resume, an adjust, a refresh (with the scores of every record
   * they stored or removed), and an invalidation with
   * `forceRefreshOnNextRead`. Called synchronously once the change is visible
   * to reads. A refresh or adjust already under way when `listener` is added
   * (and nobody listened when it began) reaches it as a change whose
   * `affects` is always true. Returns a function that stops the calls.
   */
  onChange(listener: TableChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /**
   * Follows a change feed: `openFeed(after)` opens one after the cursor
   * stored with the table's last committed state (`null`: none stored, so
   * from now, and everything held is treated as stale once). Each batch
   * of changed keys is refreshed at once as by `invalidateKeys` (reads do
   * not wait for it; `onChange` listeners and subscriptions get the new
   * records when it is committed), with the batch's cursor committed in the
   * same storage write. A reset marks every record stale. A batch that
   * fails to apply is retried with backoff before the next is taken.
   * Call it before `load()`/`resume()`: `resume()` then catches up from the
   * stored cursor instead of marking everything stale.
   *
   * @returns the follower: its status, and `stop()`. `close()` stops it too.
   * @throws {TableCacheError} when the table follows a feed already.
   * @throws {UnsupportedOperationError} when the storage or Indexes lack what `invalidateKeys` needs.
   * @throws {InvalidSpecError} for a bad option.
   */
  followChanges(openFeed: OpenChangeFeed<PK>, options: FollowChangesOptions = {}): ChangeFollower {
    if (this.follower && this.follower.status !== 'stopped') {
      throw new TableCacheError(`Table '${this.name}' follows a change feed already; stop() it first (one feed per table).`);
    }
    assertKeysSupported(this.storage, this.indexes, this.name);
    const parts = { table: this, storage: this.storage, stager: this.stager, stale: this.stale, invalidations: this.invalidations };
    this.follower = startFollower<R, PK, S, D>(
      { ...parts, emit: (change) => this.changeListeners.emit(change), status: this.feedStatus },
      openFeed,
      options,
    );
    return this.follower;
  }

  /**
   * Calls `listener` at once with the status of the change feed the table
   * follows (`'none'`: it follows none, or its follower stopped), then on
   * each change. Returns a function that stops the calls.
   */
  onChangeFeedStatus(listener: (status: ChangeFeedStatus | 'none') => void): () => void {
    return this.feedStatus.listen(listener);
  }

  /**
   * Calls `listener` once the storage is lost for good (`StorageTable.onLost`), at once when it is already: calls
   * needing it then reject with `StorageError` (say to reload). Returns a function that removes the listener.
   */
  onStorageLost(listener: (reason: StorageLostReason) => void): () => void {
    return this.storage.onLost?.(listener) ?? (() => undefined);
  }

  /** Stops following changes (`followChanges`); resolves once stopped. The table stays usable. */
  async close(): Promise<void> {
    await this.follower?.stop();
  }

  /**
   * Resolves once every adjust and refresh begun so far has committed or
   * failed, the refresh that answered a read from its fetch included.
   */
  async idle(): Promise<void> {
    await this.writer.run(async () => undefined);
  }

  /** A copy of the counters. */
  stats(): CachedTableStats {
    return { ...this.counters, reads: { ...this.counters.reads } };
  }

  /** When anyone listens for changes: a function collecting each touched record's scores, per index. */
  private changeCollector(): ScoreCollector<R> | null {
    return this.changeListeners.collector(this.indexes);
  }
}
