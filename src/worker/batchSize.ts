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
 * `batchSize` when it is a whole number of records, at least 1.
 * @throws {TableCacheError} otherwise.
 */
export function checkBatchSize(batchSize: unknown): number {
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new TableCacheError(`batchSize must be a whole number of records, at least 1; got ${String(batchSize)}.`);
  }
  return batchSize;
}
