// Small helpers of `CachedTable`: backend failures, first records, option checks.
import { DbAccessError, TableCacheError } from './errors';

/**
 * `records` once its first record (or its end) has arrived: rejects with
 * the source's error when that fails, closing it.
 */
export async function withFirstRecord<R>(records: AsyncIterable<R>): Promise<AsyncIterable<R>> {
  const iterator = records[Symbol.asyncIterator]();
  const first = await iterator.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    yield* { [Symbol.asyncIterator]: () => iterator };
  })();
}

/** Whether a backend failure means it could not be reached (so stale records may be served instead). */
export function isUnreachable(error: unknown): boolean {
  return error instanceof DbAccessError && (error.offline || error.timedOut || (error.status !== undefined && error.status >= 500));
}

/** @throws {TableCacheError} unless `keysPerFetch` is a whole number of at least 1. */
export function checkKeysPerFetch(keysPerFetch = 1000): number {
  if (!Number.isInteger(keysPerFetch) || keysPerFetch < 1) {
    throw new TableCacheError(`keysPerFetch must be a whole number of at least 1, not ${String(keysPerFetch)}.`);
  }
  return keysPerFetch;
}

/**
 * Waits for the first answer of each backend read of a partial hit. Resolves
 * with the reads (first records kept), or `'unreachable'` when one says the
 * backend cannot be reached (all of them closed); rejects with any other
 * failure, closing the storage reads too.
 */
export async function probeDbReads<R>(
  dbReads: readonly AsyncIterable<R>[],
  storageReads: readonly AsyncIterable<R>[],
): Promise<AsyncIterable<R>[] | 'unreachable'> {
  const probed = await Promise.allSettled(dbReads.map((read) => withFirstRecord(read)));
  const failed = probed.find((result) => result.status === 'rejected');
  const reads = probed.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  if (!failed) return reads;
  await Promise.allSettled(reads.map((read) => read[Symbol.asyncIterator]().return?.()));
  if (isUnreachable(failed.reason)) return 'unreachable';
  await Promise.allSettled(storageReads.map((read) => read[Symbol.asyncIterator]().return?.()));
  throw failed.reason;
}

/**
 * `records`, calling `then` once: when their iteration ends or is left, or
 * after `ms` if it has not begun to end by then (a read nobody iterates must
 * not hold `then` back for good).
 */
export function afterRead<R>(records: AsyncIterable<R>, then: () => void, ms = 1000): AsyncIterable<R> {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    then();
  };
  const timer = setTimeout(run, ms);
  return (async function* () {
    try {
      yield* records;
    } finally {
      run();
    }
  })();
}
