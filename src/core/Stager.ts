import { abortableRecords, abortReasonOr } from './abortable';
import { keptRecords } from './asyncIterators';
import type { Adjustment } from './Adjustment';
import { Interval } from './Interval';
import { isValidKey, keyToString, type PrimaryKey } from './keys';
import { persistedState } from './persistedState';
import { ReadAhead } from './readAhead';
import type { ReadThrough } from './readThrough';
import { sameRecord } from './sameRecord';
import { StorageRecordsSpec } from './StorageRecordsSpec';
import type { DbAccess, DbAccessOptions, Indexes, IndexSpec, StorageTable } from './types';

/**
 * Records a refresh fetches ahead of storage (and, once compared, changed
 * records it holds for the write lock): a bound on the memory a slow
 * storage lets the fetch take.
 */
const READ_AHEAD_RECORDS = 10_000;

/** Observes the records a staged change removes and adds. */
export interface StagingObserver<R> {
  expired(record: R): void;
  loaded(record: R): void;
}

/** A delete-by-old, load-by-new pair, as an invalidation or a stale refresh stages it. */
export interface StagedRefresh<R, D> {
  readonly oldStorageSpec: StorageRecordsSpec<R>;
  readonly newDbSpec: D;
  /** Keeps what the fetch returns for a read that waits for this refresh (see `ReadThrough`). */
  readonly readThrough?: ReadThrough<R> | undefined;
}

/** Records to refetch by primary key and place where their new scores say. */
export interface KeysRefresh {
  readonly keys: readonly PrimaryKey[];
  /** Keys known to be deleted on the backend (by `keyToString`): dropped without a fetch. */
  readonly gone?: ReadonlySet<string>;
}

/** One step of a refresh. */
export type RefreshStep<R, D> = StagedRefresh<R, D> | KeysRefresh;

/** What one staging has done so far, for the steps that follow. */
interface StagingSession<R> {
  /** The records staged so far, by `keyToString` of their keys. */
  readonly staged: Map<string, R>;
  /** Keys staged or discarded so far: their committed version is no longer what the scratch space holds. */
  readonly touched: Set<string>;
}

/**
 * Writes of a `CachedTable` through the storage's scratch space: stages
 * deletions and backend fetches, then merges them and adopts the new
 * coverage as one step for readers, which wait at `commitGate` meanwhile.
 * The caller runs one write at a time.
 */
export class Stager<R, PK, S extends IndexSpec, D> {
  /** Set while storage and coverage switch to a new state; reads wait for it. */
  commitGate: Promise<void> | null = null;
  /** When the Indexes' state was last committed by a load or adjust (epoch ms). */
  committedAt = 0;
  /** The change feed cursor committed with the current state (`followChanges`); `null`: none. */
  changeCursor: string | null = null;
  /** What is stale now, persisted with the cursor (see `StaleRecords.snapshot`). */
  staleSnapshot: () => unknown = () => null;
  /** Set when aborting the scratch space failed; the next write aborts it again first. */
  private scratchDirty = false;

  /**
   * @param keysPerFetch most keys per backend fetch of a key refresh.
   */
  constructor(
    private readonly indexes: Indexes<R, PK, S, D>,
    private readonly db: DbAccess<R, D>,
    private readonly storage: StorageTable<R>,
    private readonly keysPerFetch: number,
  ) {}

  /** Runs `stage` with a clean scratch space; on failure drops the scratch space and rethrows. */
  async staging(stage: () => Promise<void>): Promise<void> {
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
   * Refreshes `steps` alone in one clean scratch space: stages them
   * (`stageRefresh`), then commits with `then` and the feed's `cursor`
   * after them. On failure or abort drops the scratch space and throws
   * (`signal.reason` when aborted).
   */
  async refresh(
    steps: readonly RefreshStep<R, D>[],
    observer: StagingObserver<R> | null,
    commit: { then: () => void; cursor: string | undefined },
    signal?: AbortSignal,
  ): Promise<void> {
    await this.staging(async () => {
      await this.stageRefresh(steps, null, observer, signal);
      signal?.throwIfAborted();
      await this.commitAndMerge(null, commit.then, commit.cursor);
    }).catch((error: unknown) => {
      throw abortReasonOr(error, signal);
    });
  }

  /**
   * Stages each refresh step, in order: a spec pair deletes by the old spec
   * and loads by the new one; a keys step refetches those keys and places
   * each where its new scores say. `staged`, when given, tracks the records
   * staged so far, so that a later discard that drops one of them is
   * observed too.
   */
  async stageRefresh(
    steps: readonly RefreshStep<R, D>[],
    staged: Map<string, R> | null,
    observer: StagingObserver<R> | null,
    signal?: AbortSignal,
  ): Promise<void> {
    const session: StagingSession<R> = { staged: staged ?? new Map(), touched: new Set() };
    for (const step of steps) {
      signal?.throwIfAborted();
      if ('keys' in step) await this.stageKeys(step.keys, step.gone, session, observer, signal);
      else await this.stageSpecs(step, session, observer, signal);
    }
  }

  /**
   * Replaces the records of `step.oldStorageSpec` by those of
   * `step.newDbSpec`, writing only the difference: each fetched record is
   * compared with the stored one of the same key, and only changed or new
   * ones are staged; only stored records the fetch no longer returns are
   * discarded. An unchanged record costs its comparison, not a rewrite.
   *
   * The fetch starts at once and runs ahead of the stored read and of the
   * storage's write lock (which a background load of its key directory may
   * hold), so that a refresh of mostly unchanged records costs about the
   * fetch.
   */
  private async stageSpecs(
    step: StagedRefresh<R, D>,
    session: StagingSession<R>,
    observer: StagingObserver<R> | null,
    signal?: AbortSignal,
  ): Promise<void> {
    const { staged, touched } = session;
    const { oldStorageSpec } = step;
    const source = this.fetch(step.newDbSpec, signal);
    const { readThrough } = step;
    // A read waits for this fetch alone (ReadThrough), which keeps every record anyway: the fetch runs unbounded, and
    // the storage work that would share this thread with it (the stored read, comparing, writing) waits for its end.
    const fetched = new ReadAhead(source, readThrough ? Infinity : READ_AHEAD_RECORDS, readThrough);
    if (readThrough) await fetched.settled;
    let changed: ReadAhead<R> | null = null;
    try {
      const stored = new Map<string, R>();
      for await (const record of this.storage.getRecords(oldStorageSpec, { shared: true })) stored.set(this.keyOf(record), record);
      // What earlier steps staged in the old spec is what the scratch space holds there now.
      for (const [key, record] of staged) {
        if (oldStorageSpec.matches(this.indexes.score(oldStorageSpec.indexName, record), record)) stored.set(key, record);
      }
      const seen = new Set<string>();
      // Compared as they come, so that only the changed records wait for the storage's write lock.
      changed = new ReadAhead(
        keptRecords(fetched, (record) => {
          const key = this.keyOf(record);
          seen.add(key);
          const previous = stored.get(key);
          if (previous !== undefined && !touched.has(key) && sameRecord(previous, record)) return false;
          if (previous !== undefined) observer?.expired(previous);
          staged.set(key, record);
          touched.add(key);
          observer?.loaded(record);
          return true;
        }),
        READ_AHEAD_RECORDS,
      );
      await this.storage.scratchPutRecords(changed);
      signal?.throwIfAborted();
      const vanished = [...stored].filter(([key]) => !seen.has(key)).map(([, record]) => record);
      await this.discardExactly(vanished, session, observer);
    } finally {
      changed?.cancel();
      fetched.cancel();
    }
  }

  /**
   * Refetches `keys` and places each record where its new scores say: kept
   * (replaced, unless unchanged) when the Indexes' coverage holds it, dropped
   * when it moved out or was deleted on the backend. Other records are not
   * touched; keys neither held nor now covered cost only the look-ups.
   */
  private async stageKeys(
    keys: readonly PrimaryKey[],
    gone: ReadonlySet<string> | undefined,
    session: StagingSession<R>,
    observer: StagingObserver<R> | null,
    signal?: AbortSignal,
  ): Promise<void> {
    const { storage, indexes } = this;
    const wanted = new Set(keys.map((key) => keyToString(key)));
    const committed = new Map<string, R>();
    for (const record of (await storage.getRecordsByKeys?.(keys, { shared: true })) ?? []) committed.set(this.keyOf(record), record);
    const fetched = new Map<string, R>();
    const toFetch = gone && gone.size > 0 ? keys.filter((key) => !gone.has(keyToString(key))) : keys;
    for (let start = 0; start < toFetch.length; start += this.keysPerFetch) {
      const chunk = toFetch.slice(start, start + this.keysPerFetch) as unknown as readonly PK[];
      const spec = indexes.dbRecordsSpecForKeys?.(chunk) as D;
      for await (const record of this.fetch(spec, signal)) {
        const key = this.keyOf(record);
        // A backend that answers with more than was asked for is not trusted with the other records.
        if (wanted.has(key)) fetched.set(key, record);
      }
    }
    signal?.throwIfAborted();
    const puts: R[] = [];
    const drops: R[] = [];
    for (const key of wanted) {
      const stored = session.staged.get(key) ?? (session.touched.has(key) ? undefined : committed.get(key));
      const next = fetched.get(key);
      if (next !== undefined && indexes.coversRecord?.(next)) {
        if (stored !== undefined && !session.touched.has(key) && sameRecord(stored, next)) continue;
        if (stored !== undefined) observer?.expired(stored);
        puts.push(next);
        session.staged.set(key, next);
        session.touched.add(key);
        observer?.loaded(next);
      } else {
        const old = committed.get(key);
        if (old !== undefined) drops.push(old);
        const staged = session.staged.get(key);
        if (staged !== undefined) drops.push(staged);
      }
    }
    await this.discardExactly(drops, session, observer);
    if (puts.length > 0) await storage.scratchPutRecords(puts);
  }

  /** A backend fetch that rejects as soon as `signal` aborts (see `abortableRecords`). */
  private fetch(dbSpec: D, signal: AbortSignal | undefined, onTotal?: (total: number) => void): AsyncIterable<R> {
    return abortableRecords(this.db.getRecords(dbSpec, dbAccessOptions(signal, onTotal)), signal);
  }

  /** Discards exactly these records (committed or staged), found by their scores in the first index and rechecked by key. */
  private async discardExactly(records: readonly R[], session: StagingSession<R>, observer: StagingObserver<R> | null): Promise<void> {
    if (records.length === 0) return;
    const { indexes } = this;
    const keys = new Set(records.map((record) => this.keyOf(record)));
    const indexName = indexes.indexNames[0] as string;
    const scores = [...new Set(records.map((record) => indexes.score(indexName, record)))].sort((a, b) => a - b);
    const spec = new StorageRecordsSpec<R>(
      indexName,
      scores.map((score) => Interval.onlyContaining(score)),
      (record) => keys.has(this.keyOf(record)),
    );
    this.dropStaged(session.staged, spec, observer);
    await this.storage.scratchDiscardRecords(spec, observer?.expired);
    for (const key of keys) session.touched.add(key);
  }

  /** The record's key as a string; `''` for an invalid key, which storage rejects with its own error when staging it. */
  private keyOf(record: R): string {
    const key: unknown = this.indexes.primaryKey(record);
    return isValidKey(key) ? keyToString(key) : '';
  }

  /** Stages the records of a backend fetch; `onTotal` hears how many the backend says it sends. */
  async stagePut(
    dbSpec: D,
    staged: Map<string, R> | null,
    onLoaded?: (record: R) => void,
    signal?: AbortSignal,
    onTotal?: (total: number) => void,
  ): Promise<void> {
    await this.storage.scratchPutRecords(
      observed(this.fetch(dbSpec, signal, onTotal), (record) => {
        staged?.set(this.keyOf(record), record);
        onLoaded?.(record);
      }),
    );
  }

  /** Forgets (and observes as expired) the staged records that a discard of `spec` drops. */
  dropStaged(staged: Map<string, R>, spec: StorageRecordsSpec<R>, observer: StagingObserver<R> | null): number {
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
   * it, and rolled back if the merge fails. `then` runs before readers go on.
   * `changeCursor`, when given, is committed with the merge (every change
   * through it is applied by now).
   */
  async commitAndMerge(adjustment: Adjustment<R, D> | null, then?: () => void, changeCursor?: string): Promise<void> {
    let open!: () => void;
    this.commitGate = new Promise((resolve) => (open = resolve));
    try {
      const { snapshotState, restoreState } = this.indexes;
      if (snapshotState && restoreState) {
        const previous = adjustment ? snapshotState.call(this.indexes) : undefined;
        if (adjustment) this.indexes.commitAdjustment(adjustment);
        const committedAt = adjustment ? Date.now() : this.committedAt;
        try {
          const feed = { changeCursor: changeCursor ?? this.changeCursor, fresh: this.staleSnapshot() };
          await this.storage.scratchMerge(persistedState(this.indexes.indexNames, snapshotState.call(this.indexes), committedAt, feed));
        } catch (error) {
          if (adjustment) restoreState.call(this.indexes, previous);
          throw error;
        }
        this.committedAt = committedAt;
      } else {
        await this.storage.scratchMerge();
        if (adjustment) this.indexes.commitAdjustment(adjustment);
      }
      if (changeCursor !== undefined) this.changeCursor = changeCursor;
      then?.();
    } finally {
      this.commitGate = null;
      open();
    }
  }
}

/** `records`, calling `observe` with each as it passes (see `keptRecords`: when it throws, `records` is closed). */
export function observed<R>(records: AsyncIterable<R>, observe: (record: R) => void): AsyncIterableIterator<R, undefined> {
  return keptRecords(records, (record) => {
    observe(record);
    return true;
  });
}

/** A backend fetch's options: only those given (`undefined` when none), as a `DbAccess` has always been called. */
export function dbAccessOptions(
  signal: AbortSignal | undefined,
  onTotal: ((total: number) => void) | undefined,
): DbAccessOptions | undefined {
  if (!signal && !onTotal) return undefined;
  return { ...(signal && { signal }), ...(onTotal && { onTotal }) };
}
