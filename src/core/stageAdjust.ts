import { abortReasonOr } from './abortable';
import type { AdjustOptions } from './CachedTableOptions';
import type { ScoreCollector } from './ChangeListeners';
import { cursorAfter, type Invalidations } from './Invalidations';
import { ProgressCounter } from './ProgressCounter';
import type { Stager, StagingObserver } from './Stager';
import type { Indexes, IndexSpec, StorageTable } from './types';

/** What `stageAdjust` works on: the parts of a `CachedTable` an adjust writes. */
export interface AdjustContext<R, PK, S extends IndexSpec, D> {
  readonly indexes: Indexes<R, PK, S, D>;
  readonly storage: StorageTable<R>;
  readonly stager: Stager<R, PK, S, D>;
  readonly invalidations: Invalidations<R, D>;
  /** Collects the scores of every record stored or removed, when anyone listens for changes. */
  readonly changed: ScoreCollector<R> | null;
}

/** What a committed adjust did. */
export interface AdjustDone {
  readonly loaded: number;
  readonly expired: number;
  /** Whether it refreshed invalidated records on the way. */
  readonly refreshed: boolean;
}

/**
 * One adjust to `spec`, run by the table's writer: refreshes the pending
 * invalidations, expires and loads what the Indexes' adjustment says, all in
 * the scratch space, then merges it and adopts the new coverage at once.
 * On failure the scratch space is dropped and the error (or `signal.reason`)
 * is thrown; the table is as it was.
 */
export async function stageAdjust<R, PK, S extends IndexSpec, D>(
  context: AdjustContext<R, PK, S, D>,
  spec: S,
  options: AdjustOptions,
  signal: AbortSignal | undefined,
): Promise<AdjustDone> {
  signal?.throwIfAborted();
  const { indexes, storage, stager, changed } = context;
  const adjustment = indexes.prepareAdjustment(spec);
  const invalidations = context.invalidations.snapshot();
  const staged = invalidations.length > 0 ? new Map<string, R>() : null;
  const progress = new ProgressCounter(options.onProgress);
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
  await stager
    .staging(async () => {
      await stager.stageRefresh(invalidations, staged, observer, signal);
      if (adjustment.expireSpec) {
        if (staged) progress.addExpired(stager.dropStaged(staged, adjustment.expireSpec, observer));
        await storage.scratchDiscardRecords(adjustment.expireSpec, (record) => {
          observer.expired(record);
          progress.addExpired();
        });
      }
      if (adjustment.loadSpec !== null) {
        const onLoaded = (record: R) => {
          observer.loaded(record);
          progress.addLoaded();
        };
        await stager.stagePut(adjustment.loadSpec, null, onLoaded, signal, progress.onTotal);
      }
      signal?.throwIfAborted();
      progress.finish();
      await stager.commitAndMerge(adjustment, () => context.invalidations.forget(invalidations), cursorAfter(invalidations));
    })
    .catch((error: unknown) => {
      throw abortReasonOr(error, signal);
    });
  const { loaded, expired } = progress.progress;
  return { loaded, expired, refreshed: invalidations.length > 0 };
}
