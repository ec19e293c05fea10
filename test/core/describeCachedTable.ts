import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import {
  DbAccessError,
  InvalidSpecError,
  RecordNotFoundError,
  StorageError,
  TableCacheError,
  UnsupportedIndexOperation,
} from '../../src/core/errors';
import { Interval } from '../../src/core/Interval';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import type { RecordScorer, StorageTable } from '../../src/core/types';
import { AllIndexes } from '../../src/indexes/AllIndexes';
import { RangeIndexes } from '../../src/indexes/RangeIndexes';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { describeFollowChanges } from './describeFollowChanges';
import { describeInvalidateKeys } from './describeInvalidateKeys';
import {
  allRecords,
  byId,
  collect,
  reading,
  readings,
  seededRandom,
  SplittingTwoIndexes,
  TwoIndexes,
  type FilterSpec,
  type Reading,
  type TwoIndexSpec,
} from '../support/records';

export type CreateStorageTable = <R>(scorer: RecordScorer<R, unknown>) => Promise<StorageTable<R>>;

export interface CachedTableSuiteOptions {
  /** Operations in the randomized concurrency test. Default 120. */
  randomizedOperations?: number;
}

const ts = (ge: number, lt: number): TwoIndexSpec => ({ indexName: 'ts', ge, lt });
const ids = (...list: number[]): TwoIndexSpec => ({ indexName: 'id', ids: list });
const at = (score: number): TwoIndexSpec => ts(score, score + 1);

/** Lets pending promise callbacks and timers run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Whether `promise` is still pending after everything else ready has run. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let pending = true;
  promise.then(
    () => (pending = false),
    () => (pending = false),
  );
  await settle();
  return pending;
}

/**
 * The behaviour of `CachedTable` (SPEC section 6), over any storage table.
 * Readings have `ts = id * 10` unless a test says otherwise.
 */
export function describeCachedTable(name: string, createStorage: CreateStorageTable, suiteOptions: CachedTableSuiteOptions = {}): void {
  async function setUp(records: Reading[] = readings(20, 10), indexes: TwoIndexes = new TwoIndexes()) {
    const db = new MemoryDbAccess(records);
    const storage = await createStorage<Reading>(indexes);
    const table = new CachedTable(indexes, db, storage, { name: 'readings' });
    return { indexes, db, storage, table };
  }

  async function loaded(spec: TwoIndexSpec = ts(0, 100), records?: Reading[], indexes?: TwoIndexes) {
    const setup = await setUp(records, indexes);
    await setup.table.load(spec);
    setup.db.requests.length = 0;
    return setup;
  }

  const read = async (table: CachedTable<Reading, number, TwoIndexSpec, FilterSpec>, spec: TwoIndexSpec) =>
    byId(await collect(table.getRecords(spec)));
  /** Everything in storage, read directly. */
  const stored = async (storage: StorageTable<Reading>, indexName = 'ts') =>
    byId(await collect(storage.getRecords(new StorageRecordsSpec(indexName, [Interval.everything()]))));
  const idsOf = (records: Reading[]) => records.map((record) => record.id);

  describe(`CachedTable over ${name}`, () => {
    describe('load', () => {
      it('should clear storage first, then hold exactly the records of the spec', async () => {
        const { table, storage } = await setUp();
        await storage.putRecords([reading(99, 55), reading(98, 5000)]);
        await table.load(ts(0, 50));
        expect(idsOf(await stored(storage))).toEqual([0, 1, 2, 3, 4]);
        expect(idsOf(await read(table, ts(0, 50)))).toEqual([0, 1, 2, 3, 4]);
      });

      it('should observe every loaded record and adopt the coverage', async () => {
        const { table, indexes } = await setUp();
        await table.load(ts(0, 30));
        expect(idsOf(byId(indexes.adjustments[0]!.loadedRecords))).toEqual([0, 1, 2]);
        expect(indexes.covers(ts(0, 30))).toBe(true);
        expect(indexes.covers(ids(0, 1, 2))).toBe(true);
      });

      it('should reject when the table is already loaded', async () => {
        const { table } = await loaded();
        await expect(table.load(ts(0, 10))).rejects.toThrow(/already loaded/);
        await expect(table.load(ts(0, 10))).rejects.toBeInstanceOf(TableCacheError);
      });

      it('should reject a second load while the first runs', async () => {
        const { table, db } = await setUp();
        const release = db.hold();
        const first = table.load(ts(0, 50));
        await expect(table.load(ts(0, 50))).rejects.toThrow(/being loaded/);
        release();
        await first;
      });

      it('should reject with UnsupportedIndexOperation when the index cannot be adjusted, and allow a load after', async () => {
        const { table } = await setUp();
        await expect(table.load(ids(1))).rejects.toBeInstanceOf(UnsupportedIndexOperation);
        await table.load(ts(0, 20));
        expect(idsOf(await read(table, ts(0, 20)))).toEqual([0, 1]);
      });

      it('should be retryable after a failure', async () => {
        const { table, db } = await setUp();
        db.failNext(new Error('backend down'), 3);
        await expect(table.load(ts(0, 100))).rejects.toThrow('backend down');
        expect(await isPending(table.loaded())).toBe(true);
        await table.load(ts(0, 100));
        expect(idsOf(await read(table, ts(0, 100)))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      });

      it('should report the end once when the count is a multiple of 1,000', async () => {
        const { table } = await setUp(readings(2000, 10));
        const progress: unknown[] = [];
        await table.load(ts(0, 20_000), { onProgress: (p) => progress.push(p) });
        expect(progress).toEqual([
          { loaded: 1000, expired: 0 },
          { loaded: 2000, expired: 0 },
        ]);
      });

      it('should report progress every 1,000 records and at the end', async () => {
        const { table } = await setUp(readings(2500, 10));
        const progress: unknown[] = [];
        await table.load(ts(0, 25_000), { onProgress: (p) => progress.push(p) });
        expect(progress).toEqual([
          { loaded: 1000, expired: 0 },
          { loaded: 2000, expired: 0 },
          { loaded: 2500, expired: 0 },
        ]);
      });

      it('should report the total the backend tells at once, then with every report', async () => {
        const { table, db } = await setUp(readings(2500, 10));
        db.tellsTotal = true;
        const progress: unknown[] = [];
        await table.load(ts(0, 25_000), { onProgress: (p) => progress.push(p) });
        expect(progress).toEqual([
          { loaded: 0, expired: 0, total: 2500 },
          { loaded: 1000, expired: 0, total: 2500 },
          { loaded: 2000, expired: 0, total: 2500 },
          { loaded: 2500, expired: 0, total: 2500 },
        ]);
      });

      it('should report the end once when the backend tells a total of nothing', async () => {
        const { table, db } = await setUp(readings(20, 10));
        db.tellsTotal = true;
        const progress: unknown[] = [];
        await table.load(ts(1000, 2000), { onProgress: (p) => progress.push(p) });
        expect(progress).toEqual([{ loaded: 0, expired: 0, total: 0 }]);
      });

      it('should count as an adjustment with its loaded records', async () => {
        const { table } = await loaded(ts(0, 50));
        expect(table.stats()).toMatchObject({ adjustments: 1, loaded: 5, expired: 0, refreshes: 0 });
      });
    });

    describe('loaded', () => {
      it('should resolve only once the first load has completed', async () => {
        const { table, db } = await setUp();
        const release = db.hold();
        const load = table.load(ts(0, 50));
        expect(await isPending(table.loaded())).toBe(true);
        release();
        await load;
        expect(await isPending(table.loaded())).toBe(false);
      });
    });

    describe('getRecords', () => {
      it('should wait until loaded', async () => {
        const { table } = await setUp();
        const reading = read(table, ts(0, 30));
        expect(await isPending(reading)).toBe(true);
        await table.load(ts(0, 50));
        expect(idsOf(await reading)).toEqual([0, 1, 2]);
      });

      it('should serve covered reads from storage, without the backend', async () => {
        const { table, db } = await loaded(ts(0, 100));
        db.upsert(reading(3, 30, -1));
        expect(await read(table, ts(20, 50))).toEqual([reading(2, 20), reading(3, 30), reading(4, 40)]);
        expect(db.requests).toEqual([]);
        expect(table.stats().reads).toEqual({
          cacheHit: 1,
          cacheHitWithRefresh: 0,
          cacheMiss: 0,
          partialHit: 0,
          servedStale: 0,
          servedIncomplete: 0,
        });
      });

      it('should serve uncovered reads from the backend, not at all from storage', async () => {
        const { table, db } = await loaded(ts(0, 100));
        db.upsert(reading(3, 30, -1));
        expect(await read(table, ts(20, 150))).toEqual([
          reading(2, 20),
          reading(3, 30, -1),
          ...[4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map((id) => reading(id, id * 10)),
        ]);
        expect(db.requests.map((request) => request.description)).toEqual(['ts in [20, 150)']);
        expect(table.stats().reads).toEqual({
          cacheHit: 0,
          cacheHitWithRefresh: 0,
          cacheMiss: 1,
          partialHit: 0,
          servedStale: 0,
          servedIncomplete: 0,
        });
      });

      it('should load by one index and read by another', async () => {
        const { table, db } = await loaded(ts(0, 50));
        expect(await read(table, ids(1, 3))).toEqual([reading(1, 10), reading(3, 30)]);
        expect(db.requests).toEqual([]);
        expect(await read(table, ids(3, 7))).toEqual([reading(3, 30), reading(7, 70)]);
        expect(db.requests.map((request) => request.description)).toEqual(['ids 3,7']);
      });

      it('should filter storage reads by the recheck predicate', async () => {
        const indexes = new AllIndexes<Reading, number, FilterSpec>({ primaryKey: (r) => r.id, dbRecordsSpec: allRecords });
        const table = new CachedTable(indexes, new MemoryDbAccess(readings(6)), await createStorage<Reading>(indexes));
        await table.load({ indexName: 'all' });
        const even = await collect(table.getRecords({ indexName: 'all', recheck: (record) => record.id % 2 === 0 }));
        expect(idsOf(byId(even))).toEqual([0, 2, 4]);
      });

      it('should reject when the index does not support covers', async () => {
        class NoIdCovers extends TwoIndexes {
          override covers(spec: TwoIndexSpec): boolean {
            if (spec.indexName === 'id') throw new UnsupportedIndexOperation('id', 'covers');
            return super.covers(spec);
          }
        }
        const indexes = new NoIdCovers();
        const table = new CachedTable(indexes, new MemoryDbAccess(readings(5, 10)), await createStorage<Reading>(indexes));
        await table.load(ts(0, 50));
        await expect(collect(table.getRecords(ids(1)))).rejects.toBeInstanceOf(UnsupportedIndexOperation);
      });

      it('should cancel the backend fetch when the loop is left early', async () => {
        const { table, db } = await loaded(ts(0, 50));
        for await (const record of table.getRecords(ts(0, 200))) {
          expect(record.ts).toBeLessThan(200);
          break;
        }
        expect(db.cancelled).toBe(1);
      });

      it('should propagate backend errors unchanged', async () => {
        const { table, db } = await loaded(ts(0, 50));
        const failure = new Error('backend says no');
        db.failNext(failure, 2);
        await expect(collect(table.getRecords(ts(0, 200)))).rejects.toBe(failure);
      });
    });

    describe('readRecords', () => {
      it('should say whether the records come from storage or the backend', async () => {
        const { table } = await loaded(ts(0, 50));
        const hit = await table.readRecords(ts(0, 30));
        expect(hit.from).toBe('storage');
        expect(idsOf(byId(await collect(hit.records)))).toEqual([0, 1, 2]);
        const miss = await table.readRecords(ts(0, 80));
        expect(miss.from).toBe('db');
        expect(idsOf(byId(await collect(miss.records)))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      });

      it('should pass shared on to the storage reads', async () => {
        const { table, storage } = await loaded(ts(0, 50));
        const seen: unknown[] = [];
        const getRecords = storage.getRecords.bind(storage);
        storage.getRecords = (spec, options) => {
          seen.push(options);
          return getRecords(spec, options);
        };
        await collect((await table.readRecords(ts(0, 30), { shared: true })).records);
        await collect((await table.readRecords(ts(0, 30))).records);
        expect(seen).toEqual([{ shared: true }, {}]);
      });
    });

    describe('getFirstRecord', () => {
      it('should resolve with the one matching record', async () => {
        const { table } = await loaded(ts(0, 50));
        expect(await table.getFirstRecord(ids(2))).toEqual(reading(2, 20));
        expect(await table.getFirstRecord(ts(70, 80))).toEqual(reading(7, 70));
      });

      it('should reject with RecordNotFoundError naming the table, index and spec', async () => {
        const { table } = await loaded(ts(0, 50));
        const error = await table.getFirstRecord(ts(11, 19)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RecordNotFoundError);
        expect((error as Error).message).toMatch(/readings/);
        expect((error as Error).message).toMatch(/'ts'/);
        expect((error as Error).message).toMatch(/"ge":11/);
      });
    });

    describe('adjust', () => {
      it('should wait until loaded', async () => {
        const { table } = await setUp();
        const adjusting = table.adjust(ts(0, 30));
        expect(await isPending(adjusting)).toBe(true);
        await table.load(ts(0, 50));
        await adjusting;
        expect(idsOf(await read(table, ts(0, 30)))).toEqual([0, 1, 2]);
      });

      it('should expire and load exactly what the adjustment says, observing each record', async () => {
        const { table, db, indexes, storage } = await loaded(ts(0, 50));
        await table.adjust(ts(30, 80));
        expect(db.requests.map((request) => request.description)).toEqual(['ts in [50, 80)']);
        const adjustment = indexes.adjustments.at(-1)!;
        expect(idsOf(byId(adjustment.expiredRecords))).toEqual([0, 1, 2]);
        expect(idsOf(byId(adjustment.loadedRecords))).toEqual([5, 6, 7]);
        expect(idsOf(await stored(storage))).toEqual([3, 4, 5, 6, 7]);
        expect(idsOf(await stored(storage, 'id'))).toEqual([3, 4, 5, 6, 7]);
        expect(indexes.covers(ids(3, 7))).toBe(true);
        expect(indexes.covers(ids(0))).toBe(false);
        db.requests.length = 0;
        expect(idsOf(await read(table, ts(30, 80)))).toEqual([3, 4, 5, 6, 7]);
        expect(db.requests).toEqual([]);
        expect(table.stats()).toMatchObject({ adjustments: 2, expired: 3, loaded: 8 });
      });

      it('should report the progress of its expiring and loading', async () => {
        const { table } = await loaded(ts(0, 15_000), readings(3000, 10));
        const progress: { loaded: number; expired: number }[] = [];
        await table.adjust(ts(10_000, 30_000), { onProgress: (p) => progress.push(p) });
        expect(progress.at(-1)).toEqual({ loaded: 1500, expired: 1000 });
        expect(progress.slice(0, -1).map((p) => p.loaded + p.expired)).toEqual([1000, 2000]);
      });

      it('should report the total of the records it loads once the backend tells it, beside what it expired', async () => {
        const { table, db } = await loaded(ts(0, 15_000), readings(3000, 10));
        db.tellsTotal = true;
        const progress: { loaded: number; expired: number; total?: number }[] = [];
        await table.adjust(ts(10_000, 30_000), { onProgress: (p) => progress.push(p) });
        // 1,000 expire first (0–10,000), then the 1,500 of 15,000–30,000 load.
        expect(progress[0]).toEqual({ loaded: 0, expired: 1000 });
        expect(progress[1]).toEqual({ loaded: 0, expired: 1000, total: 1500 });
        expect(progress.at(-1)).toEqual({ loaded: 1500, expired: 1000, total: 1500 });
        expect(progress.slice(1).every((p) => p.total === 1500)).toBe(true);
      });

      it('should never introduce duplicates, even for a record that moved in the backend', async () => {
        const { table, db } = await loaded(ts(0, 50));
        db.upsert(reading(2, 65, 7));
        await table.adjust(ts(0, 100));
        const all = await read(table, ts(0, 100));
        expect(idsOf(all)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(all.find((record) => record.id === 2)).toEqual(reading(2, 65, 7));
        expect(await read(table, ts(20, 21))).toEqual([]);
      });

      it('should reject with UnsupportedIndexOperation and change nothing', async () => {
        const { table } = await loaded(ts(0, 50));
        await expect(table.adjust(ids(1))).rejects.toBeInstanceOf(UnsupportedIndexOperation);
        expect(idsOf(await read(table, ts(0, 50)))).toEqual([0, 1, 2, 3, 4]);
      });

      it('should let reads see the old state until the merge and the new state after it', async () => {
        const { table, db, indexes } = await loaded(ts(0, 50));
        const release = db.hold();
        const adjusting = table.adjust(ts(20, 90));
        await settle();
        expect(idsOf(await read(table, ts(0, 50)))).toEqual([0, 1, 2, 3, 4]);
        expect(indexes.covers(ts(60, 70))).toBe(false);
        release();
        await adjusting;
        expect(idsOf(await read(table, ts(20, 90)))).toEqual([2, 3, 4, 5, 6, 7, 8]);
        expect(table.stats().reads.cacheHit).toBe(2);
      });

      it('should switch storage and coverage together for readers, even while the merge completes', async () => {
        const { table, storage } = await loaded(ts(0, 50));
        const merge = storage.scratchMerge.bind(storage);
        let during: Promise<Reading[]> | undefined;
        storage.scratchMerge = async (state?: unknown) => {
          await merge(state);
          during = read(table, ts(0, 50));
          await settle();
        };
        await table.adjust(ts(30, 80));
        expect(idsOf(await during!)).toEqual([0, 1, 2, 3, 4]);
        expect(table.stats().reads.cacheMiss).toBe(1);
      });

      it('should refresh invalid records first and observe them into the adjustment', async () => {
        const { table, db, indexes } = await loaded(ts(0, 50));
        db.upsert(reading(1, 10, 111));
        table.invalidateRecords([at(10)], [at(10)]);
        await table.adjust(ts(0, 80));
        const adjustment = indexes.adjustments.at(-1)!;
        expect(adjustment.expiredRecords).toEqual([reading(1, 10)]);
        expect(byId(adjustment.loadedRecords)).toEqual([reading(1, 10, 111), reading(5, 50), reading(6, 60), reading(7, 70)]);
        expect((await read(table, at(10)))[0]).toEqual(reading(1, 10, 111));
        expect(table.stats()).toMatchObject({ refreshes: 1, reads: { cacheHit: 1, cacheHitWithRefresh: 0 } });
      });

      it('should observe a refreshed record that the adjustment then expires', async () => {
        const { table, db, indexes, storage } = await loaded(ts(0, 50));
        db.upsert(reading(1, 10, 111));
        table.invalidateRecords([at(10)], [at(10)]);
        await table.adjust(ts(30, 50));
        const adjustment = indexes.adjustments.at(-1)!;
        expect(byId(adjustment.expiredRecords)).toEqual([reading(0, 0), reading(1, 10), reading(1, 10, 111), reading(2, 20)]);
        expect(indexes.ids).toEqual(new Set([3, 4]));
        expect(idsOf(await stored(storage))).toEqual([3, 4]);
      });

      it('should leave storage, coverage and invalid marks as before when the backend fails half-way', async () => {
        const { table, db, indexes, storage } = await loaded(ts(0, 50));
        db.upsert(reading(2, 20, 222));
        table.invalidateRecords([at(20)], [at(20)], { forceRefreshOnNextRead: false });
        db.failNext(new Error('lost connection'), 2);
        await expect(table.adjust(ts(30, 100))).rejects.toThrow('lost connection');
        expect(indexes.covers(ts(0, 50))).toBe(true);
        expect(indexes.covers(ts(50, 60))).toBe(false);
        expect(await stored(storage)).toEqual(readings(5, 10));
        expect(await stored(storage, 'id')).toEqual(readings(5, 10));
        expect(table.stats()).toMatchObject({ adjustments: 1, refreshes: 0 });
        await table.refreshInvalid();
        expect((await read(table, at(20)))[0]).toEqual(reading(2, 20, 222));
        await table.adjust(ts(30, 100));
        expect(idsOf(await stored(storage))).toEqual([3, 4, 5, 6, 7, 8, 9]);
      });

      it('should leave the table as before when the refresh part fails', async () => {
        const { table, db } = await loaded(ts(0, 50));
        table.invalidateRecords([at(20)], [at(20)]);
        db.failNext(new Error('refresh failed'));
        await expect(table.adjust(ts(0, 100))).rejects.toThrow('refresh failed');
        expect(await read(table, ts(0, 50))).toEqual(readings(5, 10));
        expect(db.requests.at(-1)?.description).toBe('ts in [20, 21)');
      });

      it('should leave the table as before when storage rejects a record', async () => {
        const { table, db, storage, indexes } = await loaded(ts(0, 50));
        db.upsert(reading(7, 70, 1), { ...reading(8, 85), id: Number.NaN });
        const error = await table.adjust(ts(0, 100)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect(await stored(storage)).toEqual(readings(5, 10));
        expect(indexes.covers(ts(0, 100))).toBe(false);
        db.records = db.records.filter((record) => !Number.isNaN(record.id));
        await table.adjust(ts(0, 100));
        expect(await stored(storage)).toEqual([...readings(7, 10), reading(7, 70, 1), ...readings(10, 10).slice(8)]);
      });

      it('should run adjusts one at a time, each prepared against the state the previous one committed', async () => {
        const storage = await createStorage<Reading>({
          ...new TwoIndexes(),
          indexNames: ['t'],
          score: (_i, r) => r.ts,
          primaryKey: (r) => r.id,
        });
        const indexes = new RangeIndexes<Reading, number, FilterSpec, 't'>({
          indexName: 't',
          primaryKey: (record) => record.id,
          score: (record) => record.ts,
          dbRecordsSpecForRange: (ge, lt) => ({ description: `[${ge}, ${lt})`, where: (r) => r.ts >= ge && r.ts < lt }),
        });
        const db = new MemoryDbAccess(readings(20, 10));
        const table = new CachedTable(indexes, db, storage);
        await table.load({ indexName: 't', ge: 0, lt: 20 });
        await Promise.all([
          table.adjust({ indexName: 't', ge: 0, lt: 50 }),
          table.adjust({ indexName: 't', ge: 0, lt: 100 }),
          table.adjust({ indexName: 't', ge: 40, lt: 100 }),
        ]);
        expect(db.requests.map((request) => request.description)).toEqual(['[0, 20)', '[20, 50)', '[50, 100)']);
        const all = byId(await collect(storage.getRecords(new StorageRecordsSpec('t', [Interval.everything()]))));
        expect(idsOf(all)).toEqual([4, 5, 6, 7, 8, 9]);
      });
    });

    describe('invalidateRecords', () => {
      it('should throw before the first load', async () => {
        const { table } = await setUp();
        expect(() => table.invalidateRecords([at(10)], [at(10)])).toThrow(TableCacheError);
      });

      it('should throw InvalidSpecError for an empty list', async () => {
        const { table } = await loaded();
        expect(() => table.invalidateRecords([], [at(10)])).toThrow(InvalidSpecError);
        expect(() => table.invalidateRecords([at(10)], [])).toThrow(/newSpecs is empty/);
      });

      it('should throw InvalidSpecError for an index named twice in a list', async () => {
        const { table } = await loaded();
        expect(() => table.invalidateRecords([at(10), at(20)], [at(10)])).toThrow(InvalidSpecError);
        expect(() => table.invalidateRecords([at(10)], [ids(1), ids(2)])).toThrow(/more than once/);
      });

      it('should throw InvalidSpecError for a spec that is not covered', async () => {
        const { table } = await loaded(ts(0, 50));
        expect(() => table.invalidateRecords([at(10)], [at(60)])).toThrow(InvalidSpecError);
        expect(() => table.invalidateRecords([ids(9)], [at(10)])).toThrow(/not covered/);
      });

      it('should throw UnsupportedIndexOperation when covers is not supported', async () => {
        class NoCovers extends TwoIndexes {
          override covers(spec: TwoIndexSpec): boolean {
            throw new UnsupportedIndexOperation(spec.indexName, 'covers');
          }
        }
        const indexes = new NoCovers();
        const table = new CachedTable(indexes, new MemoryDbAccess(readings(5, 10)), await createStorage<Reading>(indexes));
        await table.load(ts(0, 50));
        expect(() => table.invalidateRecords([at(10)], [at(10)])).toThrow(UnsupportedIndexOperation);
      });

      it('should leave no mark when it throws', async () => {
        const { table, db } = await loaded(ts(0, 50));
        expect(() => table.invalidateRecords([at(10)], [at(60)])).toThrow();
        await read(table, at(10));
        expect(db.requests).toEqual([]);
      });

      it('should serve neither stale nor missing records after a score changed in one index', async () => {
        const { table, db } = await loaded(ts(0, 100));
        db.upsert(reading(5, 65, 5));
        table.invalidateRecords([at(50), ids(5)], [at(65), ids(5)]);
        expect(await read(table, ts(0, 100))).toEqual([...readings(5, 10), reading(5, 65, 5), ...readings(10, 10).slice(6)]);
        expect(await read(table, at(50))).toEqual([]);
        expect(await read(table, at(65))).toEqual([reading(5, 65, 5)]);
        expect(await read(table, ids(5))).toEqual([reading(5, 65, 5)]);
        expect(table.stats().refreshes).toBe(1);
      });

      it('should not refresh reads of unaffected intervals', async () => {
        const { table, db } = await loaded(ts(0, 100));
        table.invalidateRecords([at(50), ids(5)], [at(50), ids(5)]);
        expect(idsOf(await read(table, ts(0, 50)))).toEqual([0, 1, 2, 3, 4]);
        expect(idsOf(await read(table, ts(51, 100)))).toEqual([6, 7, 8, 9]);
        expect(await read(table, ids(4, 6))).toHaveLength(2);
        expect(db.requests).toEqual([]);
        expect(table.stats().reads).toMatchObject({ cacheHit: 3, cacheHitWithRefresh: 0, cacheMiss: 0 });
        await read(table, ts(45, 55));
        expect(table.stats().reads.cacheHitWithRefresh).toBe(1);
      });

      it('should make an index without a spec in both lists dirty, so every read of it refreshes', async () => {
        const { table, db } = await loaded(ts(0, 100));
        db.upsert(reading(5, 50, 555));
        table.invalidateRecords([at(50), ids(5)], [at(50)]);
        expect(await read(table, ids(1))).toEqual([reading(1, 10)]);
        expect(db.requests.map((request) => request.description)).toEqual(['ts in [50, 51)']);
        expect(await read(table, ids(5))).toEqual([reading(5, 50, 555)]);
        expect(table.stats().reads.cacheHitWithRefresh).toBe(1);
      });

      it('should keep serving old records until refreshInvalid() when forceRefreshOnNextRead is false', async () => {
        const { table, db } = await loaded(ts(0, 100));
        db.upsert(reading(5, 50, 555));
        table.invalidateRecords([at(50)], [at(50)], { forceRefreshOnNextRead: false });
        expect(await read(table, at(50))).toEqual([reading(5, 50)]);
        expect(await read(table, ids(5))).toEqual([reading(5, 50)]);
        expect(db.requests).toEqual([]);
        await table.refreshInvalid();
        expect(await read(table, at(50))).toEqual([reading(5, 50, 555)]);
      });

      it('should add records that appeared in the backend', async () => {
        const { table, db } = await loaded(ts(0, 100));
        db.upsert(reading(42, 55));
        table.invalidateRecords([ts(55, 56)], [ts(55, 56)]);
        expect(idsOf(await read(table, ts(50, 60)))).toEqual([5, 42]);
      });

      it('should delete records that disappeared from the backend', async () => {
        const { table, db } = await loaded(ts(0, 100));
        db.remove(3);
        table.invalidateRecords([at(30), ids(3)], [at(30), ids(3)]);
        expect(idsOf(await read(table, ts(0, 100)))).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
      });

      it('should refresh with the first old and the first new spec only', async () => {
        const { table, db } = await loaded(ts(0, 100));
        table.invalidateRecords([at(10), ids(1)], [at(20), ids(2)]);
        await table.refreshInvalid();
        expect(db.requests.map((request) => request.description)).toEqual(['ts in [20, 21)']);
      });

      it('should not block reads of valid records while a refresh runs', async () => {
        const { table, db } = await loaded(ts(0, 100));
        table.invalidateRecords([at(50)], [at(50)]);
        const release = db.hold();
        const refreshing = table.refreshInvalid();
        await settle();
        expect(idsOf(await read(table, ts(0, 30)))).toEqual([0, 1, 2]);
        const waiting = read(table, ts(40, 60));
        expect(await isPending(waiting)).toBe(true);
        release();
        await refreshing;
        expect(idsOf(await waiting)).toEqual([4, 5]);
      });
    });

    describe('refreshInvalid', () => {
      it('should return at once when nothing is invalid', async () => {
        const { table, db } = await loaded(ts(0, 100));
        await table.refreshInvalid();
        expect(db.requests).toEqual([]);
        expect(table.stats().refreshes).toBe(0);
      });

      it('should delete by the old spec and load by the new one, staged and merged at once', async () => {
        const { table, db, storage } = await loaded(ts(0, 100));
        db.upsert(reading(2, 25, 2));
        table.invalidateRecords([at(20)], [ts(25, 26)]);
        const release = db.hold();
        const refreshing = table.refreshInvalid();
        await settle();
        expect((await stored(storage)).find((record) => record.id === 2)).toEqual(reading(2, 20));
        expect(await read(table, ts(0, 20))).toEqual(readings(2, 10));
        release();
        await refreshing;
        expect(await read(table, ts(20, 30))).toEqual([reading(2, 25, 2)]);
        expect(table.stats()).toMatchObject({ refreshes: 1, adjustments: 1, loaded: 10, expired: 0 });
      });

      it('should keep an invalidation that arrives while it runs, and refresh it later', async () => {
        const { table, db } = await loaded(ts(0, 100));
        table.invalidateRecords([at(10)], [at(10)]);
        const release = db.hold();
        const refreshing = table.refreshInvalid();
        await settle();
        db.upsert(reading(7, 70, 777));
        table.invalidateRecords([at(70)], [at(70)]);
        release();
        await refreshing;
        expect(await read(table, at(70))).toEqual([reading(7, 70, 777)]);
        expect(db.requests.map((request) => request.description)).toEqual(['ts in [10, 11)', 'ts in [70, 71)']);
      });

      it('should keep every mark and leave storage unchanged when it fails', async () => {
        const { table, db } = await loaded(ts(0, 100));
        db.upsert(reading(1, 10, 1), reading(2, 20, 2));
        table.invalidateRecords([at(10)], [at(10)]);
        table.invalidateRecords([at(20)], [at(20)]);
        db.failNext(new Error('flaky'), 0);
        db.requests.length = 0;
        await expect(table.refreshInvalid()).rejects.toThrow('flaky');
        db.failNext(new Error('flaky again'));
        await expect(read(table, at(20))).rejects.toThrow('flaky again');
        expect(table.stats().refreshes).toBe(0);
        await table.refreshInvalid();
        expect(await read(table, ts(10, 30))).toEqual([reading(1, 10, 1), reading(2, 20, 2)]);
      });
    });

    describe('partial hits', () => {
      const partial = (spec = ts(200, 500)) => loaded(spec, readings(100, 10), new SplittingTwoIndexes());
      const requested = (db: MemoryDbAccess) => db.requests.map((request) => request.description).sort();

      it('should read the held part from storage and fetch only the gap on the left', async () => {
        const { table, db, storage } = await partial();
        await storage.putRecords([reading(25, 250, -1)]);
        const result = await table.readRecords(ts(100, 300));
        expect(result.from).toBe('mixed');
        const records = byId(await collect(result.records));
        expect(idsOf(records)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
        expect(records.find((record) => record.id === 25)?.value).toBe(-1);
        expect(requested(db)).toEqual(['ts in [100, 200)']);
        expect(result.counts).toEqual({ storage: 10, db: 10 });
        expect(table.stats().reads).toMatchObject({ partialHit: 1, cacheMiss: 0, cacheHit: 0 });
      });

      it('should fetch only the gap on the right', async () => {
        const { table, db } = await partial();
        expect(idsOf(await read(table, ts(450, 600)))).toEqual([45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
        expect(requested(db)).toEqual(['ts in [500, 600)']);
      });

      it('should fetch both gaps when the read reaches past both sides', async () => {
        const { table, db } = await partial();
        expect(idsOf(await read(table, ts(150, 550)))).toEqual(
          readings(55)
            .slice(15)
            .map((r) => r.id),
        );
        expect(requested(db)).toEqual(['ts in [150, 200)', 'ts in [500, 550)']);
      });

      it('should be a plain miss when nothing of the range is held', async () => {
        const { table, db } = await partial();
        const result = await table.readRecords(ts(600, 700));
        expect(result.from).toBe('db');
        expect(idsOf(byId(await collect(result.records)))).toEqual([60, 61, 62, 63, 64, 65, 66, 67, 68, 69]);
        expect(requested(db)).toEqual(['ts in [600, 700)']);
        expect(table.stats().reads).toMatchObject({ partialHit: 0, cacheMiss: 1 });
      });

      it('should yield records on the gap boundaries exactly once', async () => {
        const records = [reading(1, 199.5), reading(2, 200), reading(3, 200), reading(4, 499.5), reading(5, 500), reading(6, 600)];
        const { table } = await loaded(ts(200, 500), records, new SplittingTwoIndexes());
        expect(idsOf(await read(table, ts(0, 1000)))).toEqual([1, 2, 3, 4, 5, 6]);
      });

      it('should yield a record that moved in the backend without an invalidation only once', async () => {
        const { table, db } = await partial();
        db.upsert(reading(30, 550, 7));
        const records = await read(table, ts(200, 600));
        expect(records.filter((record) => record.id === 30)).toHaveLength(1);
      });

      it('should split a set of keys into held and missing ones', async () => {
        const { table, db } = await partial();
        expect(idsOf(await read(table, ids(25, 70, 30, 99)))).toEqual([25, 30, 70, 99]);
        expect(requested(db)).toEqual(['ids 70,99']);
      });

      it('should refresh an invalidated interval of the held part first', async () => {
        const { table, db } = await partial();
        db.upsert(reading(30, 300, 333));
        table.invalidateRecords([at(300)], [at(300)]);
        const records = await read(table, ts(250, 650));
        expect(records.find((record) => record.id === 30)).toEqual(reading(30, 300, 333));
        expect(requested(db)).toEqual(['ts in [300, 301)', 'ts in [500, 650)']);
        expect(table.stats()).toMatchObject({ refreshes: 1, reads: { partialHit: 1 } });
      });

      it('should reject when a gap fails, leaving storage untouched', async () => {
        const { table, db, storage } = await partial();
        const before = await stored(storage);
        db.failNext(new Error('gap failed'), 3);
        await expect(read(table, ts(400, 700))).rejects.toThrow('gap failed');
        expect(await stored(storage)).toEqual(before);
        expect(idsOf(await read(table, ts(200, 300)))).toHaveLength(10);
      });

      it('should close both sources when the loop is left early', async () => {
        const { table, db } = await partial();
        let seen = 0;
        for await (const record of table.getRecords(ts(100, 700))) {
          expect(record.ts).toBeGreaterThanOrEqual(100);
          if (++seen === 3) break;
        }
        expect(db.cancelled).toBe(2);
      });
    });

    describe('resume', () => {
      /** A table loaded and then "reopened": a second CachedTable over the same storage. */
      async function reopened(options: { offline?: boolean } = {}) {
        const first = await loaded(ts(0, 50));
        await first.table.adjust(ts(0, 60));
        const indexes = new TwoIndexes();
        const db = new MemoryDbAccess(first.db.records);
        if (options.offline) db.failNext(new DbAccessError('offline', { offline: true }));
        const table = new CachedTable(indexes, db, first.storage, { name: 'readings' });
        return { table, db, indexes, storage: first.storage, first };
      }

      it('should become loaded from storage alone, restoring the coverage', async () => {
        const { table, db, indexes, storage } = await reopened();
        let storageReads = 0;
        const getRecords = storage.getRecords.bind(storage);
        storage.getRecords = (spec) => (storageReads++, getRecords(spec));
        await table.resume();
        expect(table.isLoaded).toBe(true);
        expect(indexes.covers(ts(0, 60))).toBe(true);
        expect(indexes.covers(ids(5))).toBe(true);
        expect(db.requests).toEqual([]);
        expect(storageReads).toBe(0);
      });

      it('should refresh what the first reads touch, then serve them from storage', async () => {
        const { table, db } = await reopened();
        db.upsert(reading(2, 20, 222));
        await table.resume();
        const result = await table.readRecords(ts(0, 30));
        expect(result).toMatchObject({ from: 'storage', refreshed: true, stale: false });
        expect(await collect(result.records)).toContainEqual(reading(2, 20, 222));
        expect(db.requests.map((request) => request.description)).toEqual(['ts in [0, 30)']);
        expect(idsOf(await read(table, ts(10, 20)))).toEqual([1]);
        expect(db.requests).toHaveLength(1);
        await read(table, ts(20, 40));
        expect(db.requests.map((request) => request.description)).toEqual(['ts in [0, 30)', 'ts in [20, 40)']);
        // Each read was answered from its refresh's fetch; the refresh commits after.
        await table.idle();
        expect(table.stats()).toMatchObject({ refreshes: 2, reads: { cacheHit: 1, cacheHitWithRefresh: 2 } });
      });

      it('should serve stale records, saying so, when the backend cannot be reached', async () => {
        const { table, db } = await reopened({ offline: true });
        await table.resume();
        const result = await table.readRecords(ts(0, 60));
        expect(result).toMatchObject({ from: 'storage', stale: true, refreshed: false });
        expect(byId(await collect(result.records))).toEqual(readings(6, 10));
        expect(table.stats().reads).toMatchObject({ servedStale: 1, cacheHit: 0 });
        db.upsert(reading(1, 10, 111));
        expect((await read(table, ts(0, 20)))[1]).toEqual(reading(1, 10, 111));
        expect(table.stats().reads).toMatchObject({ servedStale: 1, cacheHitWithRefresh: 1 });
      });

      it('should serve concurrent reads of stale records at once while the backend is unreachable, trying it once', async () => {
        const { table, db } = await reopened();
        await table.resume();
        let attempts = 0;
        db.getRecords = async function* () {
          attempts++;
          yield* [];
          throw new DbAccessError('offline', { offline: true });
        };
        const reads = await Promise.all([ts(0, 20), ts(20, 40), ts(40, 60), ts(0, 60)].map((spec) => table.readRecords(spec)));
        expect(reads.map((result) => result.stale)).toEqual([true, true, true, true]);
        expect(attempts).toBe(1);
      });

      it('should not mark a range fresh when a read with a recheck refreshed only part of it', async () => {
        class Rechecking extends TwoIndexes {
          override storageRecordsSpec(spec: TwoIndexSpec) {
            const plain = super.storageRecordsSpec(spec);
            return new StorageRecordsSpec<Reading>(plain.indexName, plain.intervals, (record) => record.id % 2 === 0);
          }
        }
        const first = await loaded(ts(0, 50));
        const indexes = new Rechecking();
        const table = new CachedTable(indexes, first.db, first.storage, { name: 'readings' });
        await table.resume();
        await read(table, ts(0, 50));
        first.db.requests.length = 0;
        expect((await table.readRecords(ts(0, 50))).refreshed).toBe(true);
        expect(first.db.requests).toHaveLength(1);
      });

      it('should reject a read whose refresh fails for another reason than an unreachable backend', async () => {
        const { table, db } = await reopened();
        await table.resume();
        db.failNext(new DbAccessError('forbidden', { status: 403 }));
        await expect(read(table, ts(0, 20))).rejects.toThrow('forbidden');
      });

      it('should reject when storage holds nothing to resume', async () => {
        const { table } = await setUp();
        await expect(table.resume()).rejects.toThrow(/nothing to resume/);
        await table.load(ts(0, 20));
        expect(idsOf(await read(table, ts(0, 20)))).toEqual([0, 1]);
      });

      it('should reject a state older than maxAge', async () => {
        const { table } = await reopened();
        await expect(table.resume({ maxAge: -1 })).rejects.toThrow(/maxAge/);
        await table.resume({ maxAge: 60_000 });
      });

      it('should reject a state committed with other indexes, and when already loaded', async () => {
        const { storage, first } = await reopened();
        const other = new (class extends TwoIndexes {
          override readonly indexNames = ['id', 'ts', 'extra'] as never;
        })();
        await expect(new CachedTable(other, first.db, storage).resume()).rejects.toThrow(/indexes \[id, ts\]/);
        await expect(first.table.resume()).rejects.toThrow(/already loaded/);
      });

      it('should persist the coverage of every adjust and refresh, and keep the table usable after', async () => {
        const { table, storage } = await reopened();
        await table.resume();
        await table.adjust(ts(30, 90));
        const again = new TwoIndexes();
        await new CachedTable(again, new MemoryDbAccess(), storage).resume();
        expect(again.covers(ts(30, 90))).toBe(true);
        expect(again.covers(ts(0, 30))).toBe(false);
      });

      it('should keep the old coverage when the merge fails', async () => {
        const { table, indexes, storage } = await loaded(ts(0, 50));
        const merge = storage.scratchMerge.bind(storage);
        storage.scratchMerge = async () => {
          throw new StorageError('disk full', { table: 'readings', operation: 'scratchMerge' });
        };
        await expect(table.adjust(ts(0, 80))).rejects.toThrow('disk full');
        expect(indexes.covers(ts(0, 50))).toBe(true);
        expect(indexes.covers(ts(50, 80))).toBe(false);
        storage.scratchMerge = merge;
        await table.adjust(ts(0, 80));
        expect(idsOf(await read(table, ts(0, 80)))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      });
    });

    describe('onChange', () => {
      it('should tell listeners which scores a load, adjust, refresh or invalidation touched', async () => {
        const { table, db } = await setUp();
        const changes: { kind: string; at15: boolean; at65: boolean; id5: boolean }[] = [];
        const stop = table.onChange((change) =>
          changes.push({
            kind: change.kind,
            at15: change.affects('ts', [new Interval(15, 16)]),
            at65: change.affects('ts', table.indexes.storageRecordsSpec(ts(60, 70)).intervals),
            id5: change.affects('id', table.indexes.storageRecordsSpec(ids(5)).intervals),
          }),
        );
        await table.load(ts(0, 50));
        await table.adjust(ts(0, 70));
        db.upsert(reading(1, 10, 1));
        table.invalidateRecords([at(10)], [at(10)]);
        await table.refreshInvalid();
        stop();
        await table.adjust(ts(0, 100));
        expect(changes).toEqual([
          { kind: 'load', at15: true, at65: true, id5: true },
          { kind: 'adjust', at15: false, at65: true, id5: true },
          { kind: 'invalidate', at15: false, at65: false, id5: true },
          { kind: 'refresh', at15: false, at65: false, id5: false },
        ]);
      });

      it('should tell a listener added while a refresh waited for the backend that the refreshed records may have changed', async () => {
        const { table, db } = await setUp();
        await table.load(ts(0, 50));
        const fetchRecords = db.getRecords.bind(db);
        let release!: () => void;
        let held!: () => void;
        const asked = new Promise<void>((resolve) => (held = resolve));
        db.getRecords = async function* (spec, options) {
          held();
          await new Promise<void>((resolve) => (release = resolve));
          yield* fetchRecords(spec, options);
        };
        db.upsert(reading(1, 10, 1));
        table.invalidateRecords([at(10)], [at(10)]);
        const refreshed = table.refreshInvalid();
        await asked;
        // Like a subscription made while the refresh waits: it reads the old record, and must hear of the new one.
        const changes: { kind: string; at10: boolean }[] = [];
        table.onChange((change) => changes.push({ kind: change.kind, at10: change.affects('ts', [new Interval(10, 11)]) }));
        release();
        await refreshed;
        expect(changes).toEqual([{ kind: 'refresh', at10: true }]);
        db.getRecords = fetchRecords;
      });
    });

    describe('under concurrency', () => {
      it('should give every read the whole old or the whole new state, never a mix or a duplicate', async () => {
        const random = seededRandom(20261127);
        const count = 60;
        const { table, db, indexes } = await loaded(ts(0, 300), readings(count, 10));
        /** The lowest value each record may have when read, raised by each invalidation. */
        const minimumValue = new Map(readings(count, 10).map((record) => [record.id, record.value]));
        let version = 1000;
        const slowDb = db.getRecords.bind(db);
        db.getRecords = async function* (spec, options) {
          for await (const record of slowDb(spec, options)) {
            if (random() < 0.2) await settle();
            yield record;
          }
        };
        const checkRead = async (ge: number, lt: number) => {
          const started = new Map(minimumValue);
          const records = await collect(table.getRecords(ts(ge, lt)));
          const expected = readings(count, 10)
            .filter((record) => record.ts >= ge && record.ts < lt)
            .map((r) => r.id);
          expect(idsOf(byId(records))).toEqual(expected);
          for (const record of records) expect(record.value).toBeGreaterThanOrEqual(started.get(record.id)!);
        };
        const operations: (() => Promise<void>)[] = [];
        const total = suiteOptions.randomizedOperations ?? 120;
        for (let i = 0; i < total; i++) {
          const choice = random();
          const lo = Math.floor(random() * 40) * 10;
          const span = 10 + Math.floor(random() * 30) * 10;
          if (choice < 0.15) operations.push(() => table.adjust(ts(lo, lo + span)));
          else if (choice < 0.3) {
            operations.push(async () => {
              const range = indexes.range!;
              const id = Math.floor(random() * count);
              if (!range.contains(id * 10)) return;
              version++;
              db.upsert(reading(id, id * 10, version));
              table.invalidateRecords([at(id * 10), ids(id)], [at(id * 10), ids(id)]);
              minimumValue.set(id, version);
            });
          } else if (choice < 0.35) operations.push(() => table.refreshInvalid());
          else operations.push(() => checkRead(lo, lo + span));
        }
        for (let i = 0; i < operations.length; i += 6) {
          await Promise.all(operations.slice(i, i + 6).map((operation) => operation()));
        }
        const stats = table.stats();
        expect(stats.reads.cacheHit + stats.reads.cacheHitWithRefresh).toBeGreaterThan(0);
        expect(stats.reads.cacheMiss).toBeGreaterThan(0);
        expect(stats.adjustments).toBeGreaterThan(5);
        expect(stats.refreshes).toBeGreaterThan(0);
      });
    });

    it('should wrap a storage failure in a StorageError that names the table', async () => {
      const { table, db } = await loaded(ts(0, 50));
      db.upsert({ ...reading(3, 30), id: Number.NaN });
      table.invalidateRecords([at(30)], [at(30)]);
      const error = await table.refreshInvalid().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
    });
  });
  describeInvalidateKeys(name, createStorage);
  describeFollowChanges(name, createStorage);
}
