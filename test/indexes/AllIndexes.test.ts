import { describe, expect, it } from 'vitest';
import { InvalidSpecError } from '../../src/core/errors';
import { Interval } from '../../src/core/Interval';
import { AllIndexes } from '../../src/indexes/AllIndexes';
import { reading, type Reading } from '../support/records';

describe('AllIndexes', () => {
  const indexes = () => new AllIndexes<Reading, number, string>({ primaryKey: (r) => r.id, dbRecordsSpec: () => 'everything' });

  it('should cover everything only once committed', () => {
    const all = indexes();
    expect(all.covers({ indexName: 'all' })).toBe(false);
    const adjustment = all.prepareAdjustment({ indexName: 'all' });
    expect(all.covers({ indexName: 'all' })).toBe(false);
    all.commitAdjustment();
    expect(all.covers({ indexName: 'all' })).toBe(true);
    expect(adjustment.loadSpec).toBe('everything');
    expect(adjustment.expireSpec?.intervals).toEqual([Interval.everything()]);
  });

  it('should read everything, filtered by the recheck', () => {
    const recheck = (record: Reading) => record.id > 1;
    const spec = indexes().storageRecordsSpec({ indexName: 'all', recheck });
    expect(spec.intervals).toEqual([Interval.everything()]);
    expect(spec.matches(0, reading(2, 0))).toBe(true);
    expect(spec.matches(0, reading(1, 0))).toBe(false);
  });

  it('should score every record 0 in its one index and refuse others', () => {
    const all = indexes();
    expect(all.indexNames).toEqual(['all']);
    expect(all.score('all')).toBe(0);
    expect(() => all.score('ts')).toThrow(InvalidSpecError);
    expect(() => all.covers({ indexName: 'ts' } as never)).toThrow(InvalidSpecError);
  });

  it('should refuse a recheck that is not a function', () => {
    expect(() => indexes().storageRecordsSpec({ indexName: 'all', recheck: 5 as never })).toThrow(/recheck/);
  });

  it('should cover every record once committed, and fetch by keys only when given the option', () => {
    const all = indexes();
    expect(all.coversRecord()).toBe(false);
    all.commitAdjustment();
    expect(all.coversRecord()).toBe(true);
    expect(all.dbRecordsSpecForKeys).toBeUndefined();
    const byKeys = new AllIndexes<Reading, number, string>({
      primaryKey: (r) => r.id,
      dbRecordsSpec: () => 'everything',
      dbRecordsSpecForKeys: (keys) => `ids ${keys.join(',')}`,
    });
    expect(byKeys.dbRecordsSpecForKeys?.([1, 2])).toBe('ids 1,2');
  });
});
