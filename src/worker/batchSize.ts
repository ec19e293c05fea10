import { TableCacheError } from '../core/errors';

/**
 * Records per message when none is configured. In headless Chromium 156,
 * records of about 180 bytes deserialize at about 1.2 µs each: a batch of
 * 1,000 costs the UI thread about 1.2 ms, well under a 16.7 ms frame. Each
 * message also leaves the page about 0.1 ms of Blink garbage collection to
 * do later, whatever its size, and it comes due in lumps: with a page
 * reading 1,000 records at a time without pause, its longest sweep took
 * 29–37 ms at 500 records a message, 10–15 ms at 1,000
 * (docs/worker-boundary.md#batch-size).
 */
export const DEFAULT_BATCH_SIZE = 1000;

/**
 * The most a message of records carries, in characters of their JSON (an
 * estimate of their structured clone): at the rate above, about 3.5 ms of
 * deserializing on the page. Records of 180 bytes fill it at about 2,900 a
 * message, so it only binds larger records: 1,000 of 10 KB would hold the
 * page for about 70 ms, and go as 51 a message instead.
 */
export const MAX_BATCH_CHARS = 512 * 1024;

/**
 * How many records like `sample` one message takes: `batchSize`, or fewer
 * when that many would pass {@link MAX_BATCH_CHARS}; at least 1. Records of
 * one read are alike, so the first of each message stands for the rest. A
 * record JSON cannot write (a `BigInt`, a cycle) leaves `batchSize` as is.
 */
export function recordsPerMessage(batchSize: number, sample: unknown): number {
  let chars: number;
  try {
    chars = JSON.stringify(sample)?.length ?? 0;
  } catch {
    return batchSize;
  }
  return chars > 0 ? Math.max(1, Math.min(batchSize, Math.floor(MAX_BATCH_CHARS / chars))) : batchSize;
}

/**
 * `batchSize` when it is a whole number of records, at least 1.
 * @throws {TableCacheError} otherwise.
 */
export function checkBatchSize(batchSize: unknown): number {
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new TableCacheError(`batchSize must be a whole number of records, at least 1; got ${String(batchSize)}.`);
  }
  return batchSize;
}
