import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { DbAccessError } from '../../src/core/errors';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { byId, collect, readings, SplittingTwoIndexes, type Reading, type TwoIndexSpec } from '../support/records';

const ts = (ge: number, lt: number): TwoIndexSpec => ({ indexName: 'ts', ge, lt });

/** Holds ts [0, 100) of readings with `ts = id * 10`; reads of [50, 150) are partly covered. */
async function loaded() {
  const indexes = new SplittingTwoIndexes();
  const db = new MemoryDbAccess(readings(20, 10));
  const table = new CachedTable(indexes, db, new MemoryStorageTable<Reading>(indexes), { name: 'readings' });
  await table.load(ts(0, 100));
  return { db, table };
}

describe('CachedTable', () => {
  describe('readRecords with partialWhenOffline', () => {
    it('should serve the covered part of a partly covered spec, marked incomplete, when the backend is unreachable', async () => {
      const { table, db } = await loaded();
      db.failNext(new DbAccessError('offline', { offline: true }));
      const result = await table.readRecords(ts(50, 150), { partialWhenOffline: true });
      expect(result).toMatchObject({ from: 'storage', incomplete: true });
      expect(byId(await collect(result.records)).map((record) => record.id)).toEqual([5, 6, 7, 8, 9]);
      expect(table.stats().reads.servedIncomplete).toBe(1);
    });

    it('should reject as before without the option', async () => {
      const { table, db } = await loaded();
      db.failNext(new DbAccessError('offline', { offline: true }));
      await expect(collect(table.getRecords(ts(50, 150)))).rejects.toMatchObject({ offline: true });
    });

    it('should still reject a backend error that is not about reaching it', async () => {
      const { table, db } = await loaded();
      db.failNext(new DbAccessError('bad request', { status: 400 }));
      await expect(table.readRecords(ts(50, 150), { partialWhenOffline: true })).rejects.toMatchObject({ status: 400 });
    });

    it('should serve the whole spec, complete, when the backend answers', async () => {
      const { table } = await loaded();
      const result = await table.readRecords(ts(50, 150), { partialWhenOffline: true });
      expect(result).toMatchObject({ from: 'mixed', incomplete: false });
      expect(byId(await collect(result.records)).map((record) => record.id)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    });
  });
});
