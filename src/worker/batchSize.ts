import { TableCacheError } from '../core/errors';

/**
 * Records per message when none is configured. In headless Chromium 156,
 * records of about 180 bytes deserialize at about 1.2 µs each: a batch of
 * 500 costs the UI thread about 0.6 ms (median; 0.8 ms at p90), well under
 * a 16.7 ms frame, while end-to-end throughput of a 20k-record read is the
 * same from 100 to 5,000 records per batch (docs/worker-boundary.md#batch-size).
 */
export const DEFAULT_BATCH_SIZE = 500;

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
