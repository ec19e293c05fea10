import { describe, expect, it } from 'vitest';
import { TableCacheError } from '../../src/core/errors';
import { PrimaryKeyRangeIndexes } from '../../src/indexes/PrimaryKeyRangeIndexes';
import { reading } from '../support/records';

describe('PrimaryKeyRangeIndexes', () => {
  const indexes = () =>
    new PrimaryKeyRangeIndexes<{ id: unknown }, string>({
      primaryKey: (record) => record.id as number,
      dbRecordsSpecForRange: (ge, lt) => `ids ${ge}..${lt}`,
    });

  it('should have one index, primaryKey, scoring a record by its key', () => {
    const pk = indexes();
    expect(pk.indexNames).toEqual(['primaryKey']);
    expect(pk.score('primaryKey', reading(42, 0))).toBe(42);
    expect(pk.primaryKey(reading(42, 0))).toBe(42);
  });

  it('should refuse a primary key that is not a number', () => {
    expect(() => indexes().score('primaryKey', { id: 'x' })).toThrow(TableCacheError);
  });

  it('should adjust by key range, loading only the difference', () => {
    const pk = indexes();
    pk.commitAdjustment(pk.prepareAdjustment({ indexName: 'primaryKey', ge: 0, lt: 100 }));
    const adjustment = pk.prepareAdjustment({ indexName: 'primaryKey', ge: 50, lt: 150 });
    expect(adjustment.loadSpec).toBe('ids 100..150');
    pk.commitAdjustment(adjustment);
    expect(pk.covers({ indexName: 'primaryKey', ge: 60, lt: 150 })).toBe(true);
    expect(pk.covers({ indexName: 'primaryKey', ge: 10, lt: 60 })).toBe(false);
  });

  it('should parse its spec', () => {
    expect(indexes().specSchema.safeParse({ indexName: 'primaryKey', ge: 1, lt: 2 }).success).toBe(true);
    expect(indexes().specSchema.safeParse({ indexName: 'ts', ge: 1, lt: 2 }).success).toBe(false);
  });

  it('should pass dbRecordsSpecForKeys through, and cover the records of the held key range', () => {
    const pk = new PrimaryKeyRangeIndexes<{ id: unknown }, string>({
      primaryKey: (record) => record.id as number,
      dbRecordsSpecForRange: (ge, lt) => `ids ${ge}..${lt}`,
      dbRecordsSpecForKeys: (keys) => `ids ${keys.join(',')}`,
    });
    expect(pk.dbRecordsSpecForKeys?.([3, 4])).toBe('ids 3,4');
    pk.commitAdjustment(pk.prepareAdjustment({ indexName: 'primaryKey', ge: 0, lt: 10 }));
    expect(pk.coversRecord(reading(9, 0))).toBe(true);
    expect(pk.coversRecord(reading(10, 0))).toBe(false);
  });
});
