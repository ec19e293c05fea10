import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { InvalidSpecError } from '../../src/core/errors';
import { Interval } from '../../src/core/Interval';
import { RangeIndexes, type RangeSpec } from '../../src/indexes/RangeIndexes';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { byId, collect, readings, type FilterSpec, type Reading } from '../support/records';

type Load = { ge: number; lt: number };

function timeIndexes() {
  return new RangeIndexes<Reading, number, Load, 'ts'>({
    indexName: 'ts',
    primaryKey: (record) => record.id,
    score: (record) => record.ts,
    dbRecordsSpecForRange: (ge, lt) => ({ ge, lt }),
  });
}

const spec = (ge: number, lt: number): RangeSpec<'ts'> => ({ indexName: 'ts', ge, lt });

/** Prepares an adjustment from `held` (committed first) to `wanted`. */
function adjustmentFrom(held: [number, number] | null, wanted: [number, number]) {
  const indexes = timeIndexes();
  if (held) indexes.commitAdjustment(indexes.prepareAdjustment(spec(...held)));
  return indexes.prepareAdjustment(spec(...wanted));
}

const intervalsOf = (adjustment: ReturnType<typeof adjustmentFrom>) =>
  adjustment.expireSpec?.intervals.map((interval) => [interval.ge, interval.lt]) ?? null;

describe('RangeIndexes', () => {
  describe('specSchema', () => {
    it('should parse numbers, Dates and ISO strings into epoch ms', () => {
      const { specSchema } = timeIndexes();
      expect(specSchema.parse({ indexName: 'ts', ge: 5, lt: 10 })).toEqual(spec(5, 10));
      expect(specSchema.parse({ indexName: 'ts', ge: new Date(5), lt: '2026-11-01T00:00:00Z' })).toEqual(
        spec(5, Date.parse('2026-11-01T00:00:00Z')),
      );
      expect(specSchema.parse({ indexName: 'ts', ge: -Infinity, lt: Infinity })).toEqual(spec(-Infinity, Infinity));
    });

    it('should refuse a wrong index, a NaN, a string that is not a date, and ge above lt', () => {
      const { specSchema } = timeIndexes();
      expect(specSchema.safeParse({ indexName: 'id', ge: 0, lt: 1 }).error?.issues[0]?.path).toEqual(['indexName']);
      expect(specSchema.safeParse({ indexName: 'ts', ge: Number.NaN, lt: 1 }).error?.issues[0]?.path).toEqual(['ge']);
      expect(specSchema.safeParse({ indexName: 'ts', ge: 0, lt: 'soon' }).error?.issues[0]?.path).toEqual(['lt']);
      expect(specSchema.safeParse({ indexName: 'ts', ge: 2, lt: 1 }).error?.issues[0]?.path).toEqual(['lt']);
    });
  });

  describe('covers', () => {
    it('should cover nothing but empty ranges before the first commit', () => {
      const indexes = timeIndexes();
      expect(indexes.covers(spec(0, 1))).toBe(false);
      expect(indexes.covers(spec(3, 3))).toBe(true);
    });

    it('should cover exactly the sub-ranges of the committed range', () => {
      const indexes = timeIndexes();
      indexes.commitAdjustment(indexes.prepareAdjustment(spec(10, 20)));
      expect(indexes.covers(spec(10, 20))).toBe(true);
      expect(indexes.covers(spec(12, 13))).toBe(true);
      expect(indexes.covers(spec(9, 13))).toBe(false);
      expect(indexes.covers(spec(19, 21))).toBe(false);
      expect(indexes.heldRange).toEqual(new Interval(10, 20));
    });

    it('should throw InvalidSpecError naming the field for a bad spec', () => {
      const indexes = timeIndexes();
      expect(() => indexes.covers(spec(5, 1))).toThrow(InvalidSpecError);
      expect(() => indexes.covers({ indexName: 'other' } as never)).toThrow(/no index 'other'/);
    });
  });

  describe('prepareAdjustment', () => {
    it('should load the whole range and expire nothing on the first load', () => {
      const adjustment = adjustmentFrom(null, [0, 10]);
      expect(adjustment.expireSpec).toBeNull();
      expect(adjustment.loadSpec).toEqual({ ge: 0, lt: 10 });
    });

    it('should not change what the Indexes cover', () => {
      const indexes = timeIndexes();
      indexes.commitAdjustment(indexes.prepareAdjustment(spec(0, 10)));
      indexes.prepareAdjustment(spec(50, 60));
      expect(indexes.covers(spec(0, 10))).toBe(true);
      expect(indexes.covers(spec(50, 60))).toBe(false);
    });

    it('should load only the new part when the range grows on the right', () => {
      const adjustment = adjustmentFrom([0, 10], [5, 20]);
      expect(adjustment.loadSpec).toEqual({ ge: 10, lt: 20 });
      expect(intervalsOf(adjustment)).toEqual([
        [-Infinity, 5],
        [20, Infinity],
      ]);
    });

    it('should load only the new part when the range grows on the left', () => {
      const adjustment = adjustmentFrom([10, 20], [0, 15]);
      expect(adjustment.loadSpec).toEqual({ ge: 0, lt: 10 });
    });

    it('should load the whole new range when it grows on both sides', () => {
      expect(adjustmentFrom([10, 20], [0, 30]).loadSpec).toEqual({ ge: 0, lt: 30 });
    });

    it('should load nothing when the range shrinks', () => {
      const adjustment = adjustmentFrom([0, 100], [20, 30]);
      expect(adjustment.loadSpec).toBeNull();
      expect(intervalsOf(adjustment)).toEqual([
        [-Infinity, 20],
        [30, Infinity],
      ]);
    });

    it('should load the whole new range when it is disjoint from the held one', () => {
      expect(adjustmentFrom([0, 10], [50, 60]).loadSpec).toEqual({ ge: 50, lt: 60 });
    });

    it('should expire everything for an empty range', () => {
      const adjustment = adjustmentFrom([0, 10], [5, 5]);
      expect(adjustment.loadSpec).toBeNull();
      expect(intervalsOf(adjustment)).toEqual([[-Infinity, Infinity]]);
    });
  });

  describe('snapshotState and restoreState', () => {
    it('should carry the held range, infinite bounds included, through a structured clone', () => {
      const indexes = timeIndexes();
      indexes.commitAdjustment(indexes.prepareAdjustment(spec(-Infinity, Infinity)));
      const restored = timeIndexes();
      restored.restoreState(structuredClone(indexes.snapshotState()));
      expect(restored.heldRange).toEqual(new Interval(-Infinity, Infinity));
      restored.restoreState({ range: null });
      expect(restored.covers(spec(0, 1))).toBe(false);
    });

    it('should refuse what snapshotState cannot have made', () => {
      expect(() => timeIndexes().restoreState({ range: [0, Number.NaN] })).toThrow(/cannot restore/);
      expect(() => timeIndexes().restoreState({ range: [2, 1] })).toThrow();
    });
  });

  describe('with a CachedTable', () => {
    it('should fetch only the missing part and keep storage equal to the range', async () => {
      const indexes = timeIndexes();
      const records = readings(100, 10);
      const db = new MemoryDbAccess(records);
      const filterDb = {
        requests: [] as Load[],
        getRecords(load: Load) {
          this.requests.push(load);
          return db.getRecords({ description: '', where: (r) => r.ts >= load.ge && r.ts < load.lt } satisfies FilterSpec);
        },
      };
      const storage = new MemoryStorageTable(indexes);
      const table = new CachedTable(indexes, filterDb, storage);
      await table.load(spec(0, 200));
      await table.adjust(spec(100, 400));
      await table.adjust(spec(50, 300));
      expect(filterDb.requests).toEqual([
        { ge: 0, lt: 200 },
        { ge: 200, lt: 400 },
        { ge: 50, lt: 100 },
      ]);
      const stored = byId(await collect(storage.getRecords(indexes.storageRecordsSpec(spec(-Infinity, Infinity)))));
      expect(stored).toEqual(records.filter((record) => record.ts >= 50 && record.ts < 300));
      expect(table.stats()).toMatchObject({ adjustments: 3, loaded: 20 + 20 + 5, expired: 10 + 10 });
    });
  });

  describe('coversRecord and dbRecordsSpecForKeys', () => {
    it('should cover a record whose score lies in the held range, and nothing before the first commit', () => {
      const indexes = timeIndexes();
      expect(indexes.coversRecord(readings(1)[0]!)).toBe(false);
      indexes.commitAdjustment(indexes.prepareAdjustment(spec(10, 20)));
      expect(indexes.coversRecord({ ...readings(1)[0]!, ts: 10 })).toBe(true);
      expect(indexes.coversRecord({ ...readings(1)[0]!, ts: 20 })).toBe(false);
    });

    it('should fetch by keys only when given the option', () => {
      expect(timeIndexes().dbRecordsSpecForKeys).toBeUndefined();
      const byKeys = new RangeIndexes<Reading, number, unknown, 'ts'>({
        indexName: 'ts',
        primaryKey: (record) => record.id,
        score: (record) => record.ts,
        dbRecordsSpecForRange: (ge, lt) => ({ ge, lt }),
        dbRecordsSpecForKeys: (keys) => ({ ids: keys }),
      });
      expect(byKeys.dbRecordsSpecForKeys?.([1, 2])).toEqual({ ids: [1, 2] });
    });
  });

  describe('bad-spec messages', () => {
    it('should say what a bound accepts and what it got', () => {
      const indexes = timeIndexes();
      expect(() => indexes.covers({ indexName: 'ts', ge: 'soon', lt: 5 } as never)).toThrow(
        /invalid spec at 'ge': expected a number \(not NaN; ±Infinity allowed\), a valid Date, or an ISO 8601 date-time string .*got "soon"/,
      );
      expect(() => indexes.covers({ indexName: 'ts', ge: 1 } as never)).toThrow(
        /at 'lt': expected a number.*got nothing \(the field is missing\)/,
      );
    });
  });
});
