import { afterEach, describe, expect, it, vi } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { DbAccessError } from '../../src/core/errors';
import type { DbAccess, DbAccessOptions, RecordScorer } from '../../src/core/types';
import { RangeIndexes } from '../../src/indexes/RangeIndexes';
import type { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { byId, collect, reading, readings, type Reading } from '../support/records';

type Range = { ge: number; lt: number };

/** A backend that can be switched off: offline, it fails at once as RestDbAccess does when the browser is offline. */
class SwitchableBackend implements DbAccess<Reading, Range> {
  online = true;
  /** Requests that reached the backend. */
  readonly requests: Range[] = [];
  constructor(public records: Reading[]) {}

  async *getRecords(range: Range, _options?: DbAccessOptions): AsyncGenerator<Reading> {
    if (!this.online) throw new DbAccessError('offline', { offline: true });
    this.requests.push(range);
    for (const record of this.records) if (record.ts >= range.ge && record.ts < range.lt) yield record;
  }
}

/** Opens the IndexedDB database `dbName` (the same one each time it is given the same name). */
export type OpenStorage = <R>(scorer: RecordScorer<R, unknown>, dbName: string) => Promise<IdbStorageTable<R>>;

const timeIndexes = () =>
  new RangeIndexes<Reading, number, Range, 'ts'>({
    indexName: 'ts',
    primaryKey: (record) => record.id,
    score: (record) => record.ts,
    dbRecordsSpecForRange: (ge, lt) => ({ ge, lt }),
  });

const range = (ge: number, lt: number) => ({ indexName: 'ts' as const, ge, lt });

/**
 * Offline-first over IndexedDB: load, close, reopen in a new table, resume.
 * `open` must return a table over the same database for the same name.
 */
export function describeResume(name: string, open: OpenStorage): void {
  let run = 0;
  const toClose: IdbStorageTable<unknown>[] = [];
  afterEach(() => {
    for (const storage of toClose.splice(0)) storage.close();
    vi.restoreAllMocks();
  });

  async function table(dbName: string, backend: SwitchableBackend, indexes = timeIndexes()) {
    const storage = await open<Reading>(indexes, dbName);
    toClose.push(storage as IdbStorageTable<unknown>);
    return { table: new CachedTable(indexes, backend, storage), storage, indexes };
  }

  /** Loads [0, 500) of 100 readings in a first "page", closes it, and opens a second one over the same database. */
  async function reloaded() {
    const dbName = `resume-${Date.now()}-${run++}`;
    const backend = new SwitchableBackend(readings(100, 10));
    const first = await table(dbName, backend);
    await first.table.load(range(0, 500));
    await first.table.adjust(range(100, 600));
    first.storage.close();
    backend.requests.length = 0;
    return { dbName, backend, ...(await table(dbName, backend)) };
  }

  describe(`CachedTable.resume over ${name}`, () => {
    it('should serve the stored records with zero backend requests while offline, marked stale', async () => {
      const { table, backend, indexes } = await reloaded();
      backend.online = false;
      await table.resume();
      expect(indexes.heldRange?.toString()).toBe('[100, 600)');
      const result = await table.readRecords(range(150, 300));
      expect(result).toMatchObject({ from: 'storage', stale: true });
      expect(byId(await collect(result.records))).toEqual(readings(30, 10).slice(15));
      expect(backend.requests).toEqual([]);
      expect(table.stats().reads).toMatchObject({ servedStale: 1, cacheMiss: 0 });
      await expect(collect(table.getRecords(range(0, 50)))).rejects.toMatchObject({ offline: true });
    });

    it('should refresh what the first online read touches, then serve it from storage', async () => {
      const { table, backend } = await reloaded();
      backend.records = backend.records.map((record) => (record.id === 20 ? reading(20, 200, 999) : record));
      await table.resume();
      const first = await table.readRecords(range(150, 300));
      expect(first).toMatchObject({ from: 'storage', refreshed: true, stale: false });
      expect((await collect(first.records)).find((record) => record.id === 20)).toEqual(reading(20, 200, 999));
      expect(backend.requests).toEqual([{ ge: 150, lt: 300 }]);
      expect((await table.readRecords(range(160, 200))).refreshed).toBe(false);
      expect(backend.requests).toHaveLength(1);
    });

    it('should refresh once the backend is back, on the next read', async () => {
      const { table, backend } = await reloaded();
      backend.online = false;
      await table.resume();
      expect((await table.readRecords(range(100, 200))).stale).toBe(true);
      backend.online = true;
      const next = await table.readRecords(range(100, 200));
      expect(next).toMatchObject({ stale: false, refreshed: true });
      await collect(next.records);
      expect(table.stats().reads).toMatchObject({ servedStale: 1, cacheHitWithRefresh: 1 });
    });

    it('should refuse a state older than maxAge', async () => {
      const { table } = await reloaded();
      const later = Date.now() + 60_000;
      vi.spyOn(Date, 'now').mockReturnValue(later);
      await expect(table.resume({ maxAge: 30_000 })).rejects.toThrow(/maxAge/);
      await table.resume({ maxAge: 120_000 });
    });

    it('should rebuild, not resume, a database whose indexes changed', async () => {
      const { dbName, backend, storage } = await reloaded();
      storage.close();
      const renamed = new RangeIndexes<Reading, number, Range, 'time'>({
        indexName: 'time',
        primaryKey: (record) => record.id,
        score: (record) => record.ts,
        dbRecordsSpecForRange: (ge, lt) => ({ ge, lt }),
      });
      const rebuilt = await open<Reading>(renamed, dbName);
      toClose.push(rebuilt as IdbStorageTable<unknown>);
      const next = new CachedTable(renamed, backend, rebuilt);
      await expect(next.resume()).rejects.toThrow(/nothing to resume/);
      await next.load({ indexName: 'time', ge: 0, lt: 100 });
      expect(byId(await collect(next.getRecords({ indexName: 'time', ge: 0, lt: 100 })))).toEqual(readings(10, 10));
    });

    it('should keep resuming the latest committed coverage after adjusts on the resumed table', async () => {
      const { table, dbName, backend, storage } = await reloaded();
      await table.resume();
      await table.adjust(range(300, 900));
      storage.close();
      const again = await (async () => {
        const indexes = timeIndexes();
        const reopened = await open<Reading>(indexes, dbName);
        toClose.push(reopened as IdbStorageTable<unknown>);
        await new CachedTable(indexes, backend, reopened).resume();
        return indexes;
      })();
      expect(again.heldRange?.toString()).toBe('[300, 900)');
    });
  });
}
