import { TableCacheError } from '../core/errors';

/**
 * Records per message when none is configured. Measured in headless
 * Chromium with records of about 200 bytes (see docs/worker.md): PLACEHOLDER.
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
