// The `meta` store's records a table writes on each merge: the committed generation, and the state stored with it.
import type { IdbConnection } from './IdbConnection';
import { abortQuietly, requestResult } from './idbRequests';
import { GENERATION_KEY, META, STATE_KEY, type CommittedGeneration } from './schema';

/**
 * Commits generation `next` (and `state`, when given) in one small
 * transaction of the `meta` store, calling `onCommitted` in the transaction's
 * `complete` event, before anything awaiting the commit resumes.
 * Rejects with `StorageError` when the write fails (e.g. `state` cannot be cloned).
 */
export async function commitGeneration(connection: IdbConnection, next: number, state: unknown, onCommitted: () => void): Promise<void> {
  const transaction = connection.transaction([META], 'readwrite', 'scratchMerge');
  const meta = transaction.objectStore(META);
  // Reads that start after the commit must see it. Registered before the completion promise's own listener:
  // browsers run promise continuations between two listeners of one event.
  transaction.addEventListener('complete', onCommitted);
  const done = connection.completion(transaction, 'scratchMerge');
  try {
    const generation: CommittedGeneration = { generation: next, committedAt: Date.now() };
    meta.put(generation, GENERATION_KEY);
    if (state !== undefined) meta.put({ value: state }, STATE_KEY);
  } catch (error) {
    abortQuietly(transaction);
    done.catch(() => undefined);
    throw connection.error('scratchMerge', `cannot store the committed state: ${String(error)}`, error);
  }
  await done;
}

/** The `state` stored by the last merge that had one (`undefined` when none, or after a clear). */
export async function readCommittedState(connection: IdbConnection): Promise<unknown> {
  const transaction = connection.transaction([META], 'readonly', 'committedState');
  try {
    const stored = (await requestResult(transaction.objectStore(META).get(STATE_KEY))) as { value: unknown } | undefined;
    return stored?.value;
  } catch (error) {
    throw connection.error('committedState', `cannot read the committed state: ${String(error)}`, error);
  }
}
