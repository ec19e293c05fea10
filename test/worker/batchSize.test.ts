import { describe, expect, it } from 'vitest';
import { checkBatchSize, MAX_BATCH_CHARS, recordsPerMessage } from '../../src/worker/batchSize';
import { TableCacheError } from '../../src/core/errors';
import * as workerEntry from '../../src/worker';

describe('recordsPerMessage', () => {
  it('should keep the batch size for records well under the limit', () => {
    expect(recordsPerMessage(1000, { id: 1, sensor: 's1', ts: 0, value: 1.5 })).toBe(1000);
  });

  it('should take only as many large records as fit in MAX_BATCH_CHARS of JSON', () => {
    const record = { id: 1, note: 'x'.repeat(10_000) };
    const chars = JSON.stringify(record).length;
    expect(recordsPerMessage(1000, record)).toBe(Math.floor(MAX_BATCH_CHARS / chars));
    expect(recordsPerMessage(1000, record) * chars).toBeLessThanOrEqual(MAX_BATCH_CHARS);
  });

  it('should take at least one record, however large', () => {
    expect(recordsPerMessage(1000, { note: 'x'.repeat(MAX_BATCH_CHARS * 2) })).toBe(1);
  });

  it('should keep the batch size when JSON cannot write the record, or there is none', () => {
    expect(recordsPerMessage(700, { id: 1n })).toBe(700);
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(recordsPerMessage(700, cyclic)).toBe(700);
    expect(recordsPerMessage(700, undefined)).toBe(700);
  });
});

describe('the tablecache-web/worker entry', () => {
  it('should export the default batch size and the bound on a message', () => {
    expect(workerEntry.DEFAULT_BATCH_SIZE).toBe(1000);
    expect(workerEntry.MAX_BATCH_CHARS).toBe(MAX_BATCH_CHARS);
  });
});

describe('checkBatchSize', () => {
  it('should return a whole number of at least 1 and refuse anything else with a TableCacheError', () => {
    expect(checkBatchSize(1)).toBe(1);
    for (const bad of [0, -1, 2.5, Number.NaN, '10', undefined]) expect(() => checkBatchSize(bad)).toThrow(TableCacheError);
  });
});
