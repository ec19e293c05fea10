import { describe, expect, it } from 'vitest';
import { TableCacheError } from '../../src/core/errors';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { readings, readingScorer } from '../support/records';
import { describeStorageTable } from './describeStorageTable';

describeStorageTable('MemoryStorageTable', async (scorer) => new MemoryStorageTable(scorer as never));

describe('MemoryStorageTable', () => {
  it('should refuse a scorer without indexes', () => {
    expect(() => new MemoryStorageTable({ ...readingScorer, indexNames: [] })).toThrow(TableCacheError);
  });

  it('should count its committed records', async () => {
    const table = new MemoryStorageTable(readingScorer, { name: 'counted' });
    await table.putRecords(readings(4));
    await table.scratchPutRecords(readings(10));
    expect(table.size).toBe(4);
    await table.scratchMerge();
    expect(table.size).toBe(10);
    expect(table.name).toBe('counted');
  });
});
