import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { Interval } from '../../src/core/Interval';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { byId, collect, reading, readings, TwoIndexes, type Reading, type TwoIndexSpec } from '../support/records';

const ts = (ge: number, lt: number): TwoIndexSpec => ({ indexName: 'ts', ge, lt });
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A table holding ts [0, 100) of readings with `ts = id * 10`. */
async function loaded() {
  const indexes = new TwoIndexes();
  const db = new MemoryDbAccess(readings(20, 10));
  const storage = new MemoryStorageTable<Reading>(indexes);
  const table = new CachedTable(indexes, db, storage, { name: 'readings' });
  await table.load(ts(0, 100));
  db.requests.length = 0;
  const stored = async () => byId(await collect(storage.getRecords(new StorageRecordsSpec('ts', [Interval.everything()]))));
  return { indexes, db, storage, table, stored };
}

class Cancelled extends Error {}

describe('CachedTable', () => {
  describe('adjust with a signal', () => {
    it('should reject with the reason and leave records, coverage and invalid marks as they were', async () => {
      const { table, db, indexes, stored } = await loaded();
      const before = await stored();
      db.upsert(reading(3, 30, 333));
      table.invalidateRecords([ts(30, 31)], [ts(30, 31)], { forceRefreshOnNextRead: false });
      const release = db.hold();
      const controller = new AbortController();
      const adjusting = table.adjust(ts(50, 150), { signal: controller.signal });
      await settle();
      controller.abort(new Cancelled('user left'));
      await expect(adjusting).rejects.toBeInstanceOf(Cancelled);
      release();
      expect(await stored()).toEqual(before);
      expect(indexes.range?.toString()).toBe('[0, 100)');
      await table.refreshInvalid();
      expect((await table.getFirstRecord(ts(30, 31))).value).toBe(333);
    });

    it('should let two reads waiting behind it proceed once cancelled', async () => {
      const { table, db } = await loaded();
      const release = db.hold();
      const controller = new AbortController();
      const adjusting = table.adjust(ts(50, 150), { signal: controller.signal });
      adjusting.catch(() => {});
      await settle();
      db.upsert(reading(2, 20, 222));
      table.invalidateRecords([ts(20, 21)], [ts(20, 21)]);
      const reads = [collect(table.getRecords(ts(0, 30))), collect(table.getRecords(ts(20, 21)))];
      await settle();
      controller.abort();
      release();
      const [first, second] = await Promise.all(reads);
      expect(byId(first!).map((record) => record.value)).toEqual([0, 10, 222]);
      expect(second!.map((record) => record.value)).toEqual([222]);
      await expect(adjusting).rejects.toMatchObject({ name: 'AbortError' });
    });

    it('should reject at once when the signal has already aborted, without waiting for the load', async () => {
      const indexes = new TwoIndexes();
      const table = new CachedTable(indexes, new MemoryDbAccess([]), new MemoryStorageTable<Reading>(indexes));
      await expect(table.adjust(ts(0, 10), { signal: AbortSignal.abort(new Cancelled()) })).rejects.toBeInstanceOf(Cancelled);
    });
  });

  describe('load with a signal', () => {
    it('should reject with the reason and leave the table unloaded, to be loaded again', async () => {
      const indexes = new TwoIndexes();
      const db = new MemoryDbAccess(readings(20, 10));
      const table = new CachedTable(indexes, db, new MemoryStorageTable<Reading>(indexes));
      const release = db.hold();
      const controller = new AbortController();
      const loading = table.load(ts(0, 100), { signal: controller.signal });
      await settle();
      controller.abort(new Cancelled());
      await expect(loading).rejects.toBeInstanceOf(Cancelled);
      release();
      expect(table.isLoaded).toBe(false);
      await table.load(ts(0, 100));
      expect(await collect(table.getRecords(ts(0, 100)))).toHaveLength(10);
    });
  });

  describe('refreshInvalid with a signal', () => {
    it('should reject with the reason and keep storage and every mark', async () => {
      const { table, db, stored } = await loaded();
      const before = await stored();
      db.upsert(reading(4, 40, 444));
      table.invalidateRecords([ts(40, 41)], [ts(40, 41)], { forceRefreshOnNextRead: false });
      const release = db.hold();
      const controller = new AbortController();
      const refreshing = table.refreshInvalid({ signal: controller.signal });
      await settle();
      controller.abort(new Cancelled());
      await expect(refreshing).rejects.toBeInstanceOf(Cancelled);
      release();
      expect(await stored()).toEqual(before);
      await table.refreshInvalid();
      expect((await table.getFirstRecord(ts(40, 41))).value).toBe(444);
    });
  });

  describe('invalidateKeys with a signal', () => {
    it('should reject with the reason, keep storage, and remove its own marks', async () => {
      const { table, db, stored } = await loaded();
      const before = await stored();
      db.upsert(reading(5, 50, 555));
      const release = db.hold();
      const controller = new AbortController();
      const invalidating = table.invalidateKeys([5], { signal: controller.signal });
      await settle();
      controller.abort(new Cancelled());
      await expect(invalidating).rejects.toBeInstanceOf(Cancelled);
      release();
      expect(await stored()).toEqual(before);
      db.requests.length = 0;
      const read = await table.readRecords(ts(50, 51));
      expect(read.refreshed).toBe(false);
      expect(db.requests).toHaveLength(0);
    });
  });

  describe('readRecords with a signal', () => {
    it('should reject with the reason while it waits for a refresh, which goes on for the other reads', async () => {
      const { table, db } = await loaded();
      db.upsert(reading(6, 60, 666));
      table.invalidateRecords([ts(60, 61)], [ts(60, 61)]);
      const release = db.hold();
      const controller = new AbortController();
      const cancelled = table.readRecords(ts(60, 61), { signal: controller.signal });
      const other = table.readRecords(ts(60, 61));
      await settle();
      controller.abort(new Cancelled());
      await expect(cancelled).rejects.toBeInstanceOf(Cancelled);
      release();
      expect((await collect((await other).records)).map((record) => record.value)).toEqual([666]);
    });

    it('should cancel a backend fetch of a miss, rejecting the iteration with the reason', async () => {
      const { table, db } = await loaded();
      const release = db.hold();
      const controller = new AbortController();
      const read = await table.readRecords(ts(500, 600), { signal: controller.signal });
      expect(read.from).toBe('db');
      const consuming = collect(read.records);
      await settle();
      controller.abort(new Cancelled());
      await expect(consuming).rejects.toBeInstanceOf(Cancelled);
      release();
    });
  });
});
