import type { Adjustment } from './Adjustment';
import { keyToString, type PrimaryKey } from './keys';
import { persistedState } from './persistedState';
import type { StorageRecordsSpec } from './StorageRecordsSpec';
import type { DbAccess, Indexes, IndexSpec, StorageTable } from './types';

/** Observes the records a staged change removes and adds. */
export interface StagingObserver<R> {
  expired(record: R): void;
  loaded(record: R): void;
}

/** A delete-by-old, load-by-new pair, as an invalidation or a stale refresh stages it. */
export interface StagedRefresh<R, D> {
  readonly oldStorageSpec: StorageRecordsSpec<R>;
  readonly newDbSpec: D;
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
  /** Set when aborting the scratch space failed; the next write aborts it again first. */
  private scratchDirty = false;

  constructor(
    private readonly indexes: Indexes<R, PK, S, D>,
    private readonly db: DbAccess<R, D>,
    private readonly storage: StorageTable<R>,
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
   * Stages each refresh's delete-by-old and load-by-new, in order.
   * `staged`, when given, tracks the records staged so far, so that a later
   * discard that drops one of them is observed too.
   */
  async stageRefresh(
    refreshes: readonly StagedRefresh<R, D>[],
    staged: Map<string, R> | null,
    observer: StagingObserver<R> | null,
    signal?: AbortSignal,
  ): Promise<void> {
    for (const refresh of refreshes) {
      if (staged) this.dropStaged(staged, refresh.oldStorageSpec, observer);
      await this.storage.scratchDiscardRecords(refresh.oldStorageSpec, observer?.expired);
      await this.stagePut(refresh.newDbSpec, staged, observer?.loaded, signal);
    }
  }

  /** Stages the records of a backend fetch. */
  async stagePut(dbSpec: D, staged: Map<string, R> | null, onLoaded?: (record: R) => void, signal?: AbortSignal): Promise<void> {
    await this.storage.scratchPutRecords(
      observed(this.db.getRecords(dbSpec, signal ? { signal } : undefined), (record) => {
        staged?.set(keyToString(this.indexes.primaryKey(record) as PrimaryKey), record);
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
   */
  async commitAndMerge(adjustment: Adjustment<R, D> | null, then?: () => void): Promise<void> {
    let open!: () => void;
    this.commitGate = new Promise((resolve) => (open = resolve));
    try {
      const { snapshotState, restoreState } = this.indexes;
      if (snapshotState && restoreState) {
        const previous = adjustment ? snapshotState.call(this.indexes) : undefined;
        if (adjustment) this.indexes.commitAdjustment(adjustment);
        const committedAt = adjustment ? Date.now() : this.committedAt;
        try {
          await this.storage.scratchMerge(persistedState(this.indexes.indexNames, snapshotState.call(this.indexes), committedAt));
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
}

/** `records`, calling `observe` with each as it passes. */
export async function* observed<R>(records: AsyncIterable<R>, observe: (record: R) => void): AsyncGenerator<R> {
  for await (const record of records) {
    observe(record);
    yield record;
  }
}
