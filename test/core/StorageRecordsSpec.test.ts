import { describe, expect, it } from 'vitest';
import { TableCacheError } from '../../src/core/errors';
import { Interval } from '../../src/core/Interval';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';

describe('StorageRecordsSpec', () => {
  describe('constructor', () => {
    it('should keep its index name, intervals and recheck', () => {
      const recheck = () => true;
      const spec = new StorageRecordsSpec('ts', [new Interval(0, 1)], recheck);
      expect(spec.indexName).toBe('ts');
      expect(spec.intervals).toEqual([new Interval(0, 1)]);
      expect(spec.recheck).toBe(recheck);
    });

    it('should throw TableCacheError for overlapping intervals, in any order', () => {
      expect(() => new StorageRecordsSpec('ts', [new Interval(5, 10), new Interval(0, 6)])).toThrow(TableCacheError);
      expect(() => new StorageRecordsSpec('ts', [new Interval(0, 10), new Interval(20, 30), new Interval(9, 11)])).toThrow(/overlapping/);
    });

    it('should accept adjacent and empty intervals', () => {
      expect(() => new StorageRecordsSpec('ts', [new Interval(0, 5), new Interval(5, 10), new Interval(7, 7)])).not.toThrow();
    });

    it('should refuse something that is not an Interval', () => {
      expect(() => new StorageRecordsSpec('ts', [{ ge: 0, lt: 1 } as Interval])).toThrow(TableCacheError);
    });
  });

  describe('matches', () => {
    it('should match a score inside one interval that passes the recheck', () => {
      const spec = new StorageRecordsSpec<{ ok: boolean }>('ts', [new Interval(0, 5), new Interval(10, 15)], (r) => r.ok);
      expect(spec.matches(12, { ok: true })).toBe(true);
      expect(spec.matches(12, { ok: false })).toBe(false);
      expect(spec.matches(7, { ok: true })).toBe(false);
    });
  });
});
