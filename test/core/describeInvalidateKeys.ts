import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { InvalidSpecError, TableCacheError, UnsupportedOperationError } from '../../src/core/errors';
import { Interval } from '../../src/core/Interval';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import type { TableChange } from '../../src/core/TableChange';
import type { RecordSource, StorageTable } from '../../src/core/types';
import { RangeIndexes, type RangeSpec } from '../../src/indexes/RangeIndexes';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { byId, collect, idsFilter, reading, readings, tsRange, type FilterSpec, type Reading } from '../support/records';
import type { CreateStorageTable } from './describeCachedTable';

type Price = RangeSpec<'price'>;
const price = (ge: number, lt: number): Price => ({ indexName: 'price', ge, lt });

/** A product, as a reading whose `ts` is its price. */
const product = (id: number, at: number, value = id): Reading => reading(id, at, value);

function priceIndexes(options: { byKeys?: boolean } = {}) {
  return new RangeIndexes<Reading, number, FilterSpec, 'price'>({
    indexName: 'price',
    primaryKey: (record) => record.id,
    score: (record) => record.ts,
    dbRecordsSpecForRange: tsRange,
    ...(options.byKeys === false ? {} : { dbRecordsSpecForKeys: idsFilter }),
  });
}

/** Counts what a storage table is asked to stage. */
function spied<R>(storage: StorageTable<R>) {
  const counts = { stagedPuts: 0, discards: 0 };
  const scratchPutRecords = storage.scratchPutRecords.bind(storage);
  storage.scratchPutRecords = async (records: RecordSource<R>) => {
    const counted = (async function* () {
      for await (const record of records as AsyncIterable<R>) {
        counts.stagedPuts++;
        yield record;
      }
    })();
    await scratchPutRecords(counted);
  };
  const scratchDiscardRecords = storage.scratchDiscardRecords.bind(storage);
  storage.scratchDiscardRecords = async (spec, onDiscarded) =>
    scratchDiscardRecords(spec, (record) => {
      counts.discards++;
      onDiscarded?.(record);
    });
  return counts;
}

/** `CachedTable.invalidateKeys`, over any storage table. */
export function describeInvalidateKeys(name: string, createStorage: CreateStorageTable): void {
  async function setUp(records: Reading[], held: Price = price(150, 160), options: { byKeys?: boolean; keysPerFetch?: number } = {}) {
    const indexes = priceIndexes(options);
    const db = new MemoryDbAccess(records);
    const storage = await createStorage<Reading>(indexes);
    const table = new CachedTable(indexes, db, storage, { name: 'products', keysPerFetch: options.keysPerFetch });
    await table.load(held);
    db.requests.length = 0;
    const staged = spied(storage);
    return { indexes, db, storage, table, staged };
  }

  const read = async (table: CachedTable<Reading, number, Price, FilterSpec>, spec: Price) => {
    const result = await table.readRecords(spec);
    return { from: result.from, records: byId(await collect(result.records)) };
  };
  const stored = async (storage: StorageTable<Reading>) =>
    byId(await collect(storage.getRecords(new StorageRecordsSpec('price', [Interval.everything()]))));
  const backendIn = (db: MemoryDbAccess, ge: number, lt: number) => byId(db.records.filter((record) => record.ts >= ge && record.ts < lt));

  /** 504 products between 150 and 160, four of them at 155.01 (ids 1000–1003), and some outside. */
  function catalogue(): Reading[] {
    const products = Array.from({ length: 504 }, (_, i) => product(i, 150 + (i % 500) / 50));
    for (let id = 1000; id < 1004; id++) products.push(product(id, 155.01));
    products.push(product(2000, 140), product(2001, 170));
    return products;
  }

  describe(`CachedTable over ${name}`, () => {
    describe('invalidateKeys', () => {
      it('should keep the records that share the old score of a record that moved (what invalidateRecords with range specs loses)', async () => {
        const { table, db, storage } = await setUp(catalogue());
        db.upsert(product(1001, 155.55));
        await table.invalidateKeys([1001]);
        const { from, records } = await read(table, price(150, 160));
        expect(from).toBe('storage');
        expect(records).toHaveLength(508);
        expect(records).toEqual(backendIn(db, 150, 160));
        expect((await stored(storage)).filter((record) => record.ts === 155.01).map((record) => record.id)).toEqual([1000, 1002, 1003]);
      });

      it('should move a record within the held range, touching no other record', async () => {
        const { table, db, storage, staged } = await setUp(catalogue());
        const before = await stored(storage);
        db.upsert(product(7, 158.51, 77));
        await table.invalidateKeys([7]);
        expect(await stored(storage)).toEqual(byId([...before.filter((record) => record.id !== 7), product(7, 158.51, 77)]));
        expect((await read(table, price(158.51, 158.515))).records).toEqual([product(7, 158.51, 77)]);
        expect(staged).toEqual({ stagedPuts: 1, discards: 0 });
        expect(db.requests.map((request) => request.description)).toEqual(['ids 7']);
      });

      it('should drop a record that moved out of the held range', async () => {
        const { table, db, storage } = await setUp(catalogue());
        db.upsert(product(3, 180));
        await table.invalidateKeys([3]);
        expect((await stored(storage)).some((record) => record.id === 3)).toBe(false);
        expect((await read(table, price(150, 160))).records).toEqual(backendIn(db, 150, 160));
      });

      it('should add a record that moved into the held range', async () => {
        const { table, db, storage } = await setUp(catalogue());
        db.upsert(product(2000, 151.5, 5));
        await table.invalidateKeys([2000]);
        expect((await stored(storage)).find((record) => record.id === 2000)).toEqual(product(2000, 151.5, 5));
        const { from, records } = await read(table, price(150, 160));
        expect(from).toBe('storage');
        expect(records).toEqual(backendIn(db, 150, 160));
      });

      it('should remove a record deleted on the backend', async () => {
        const { table, db, storage } = await setUp(catalogue());
        db.remove(1002);
        await table.invalidateKeys([1002]);
        expect((await stored(storage)).some((record) => record.id === 1002)).toBe(false);
        expect((await read(table, price(150, 160))).records).toEqual(backendIn(db, 150, 160));
      });

      it('should only look up keys the table does not hold and that stay outside, staging nothing', async () => {
        const { table, db, storage, staged } = await setUp(catalogue());
        const before = await stored(storage);
        db.upsert(product(2001, 175));
        await table.invalidateKeys([2001, 9999]);
        expect(await stored(storage)).toEqual(before);
        expect(staged).toEqual({ stagedPuts: 0, discards: 0 });
        expect(db.requests).toHaveLength(1);
      });

      it('should not rewrite a record that did not change', async () => {
        const { table, db, staged } = await setUp(catalogue());
        db.upsert(product(12, 150 + 12 / 50, 99));
        await table.invalidateKeys([10, 11, 12, 13]);
        expect(staged.stagedPuts).toBe(1);
      });

      it('should apply many keys at once, fetching at most keysPerFetch keys per request', async () => {
        const { table, db } = await setUp(catalogue(), price(150, 160), { keysPerFetch: 2 });
        db.upsert(product(1, 140), product(2, 159.9), product(2000, 150.5));
        db.remove(3);
        await table.invalidateKeys([1, 2, 3, 4, 2000, 1]);
        expect(db.requests.map((request) => request.description)).toEqual(['ids 1,2', 'ids 3,4', 'ids 2000']);
        expect((await read(table, price(150, 160))).records).toEqual(backendIn(db, 150, 160));
      });

      it('should tell change listeners the old and the new scores of a moved record', async () => {
        const { table, db } = await setUp(catalogue());
        const changes: TableChange[] = [];
        table.onChange((change) => changes.push(change));
        db.upsert(product(1001, 158.75));
        await table.invalidateKeys([1001]);
        expect(changes).toHaveLength(1);
        expect(changes[0]!.kind).toBe('refresh');
        expect(changes[0]!.affects('price', [new Interval(155, 155.02)])).toBe(true);
        expect(changes[0]!.affects('price', [new Interval(158.7, 158.8)])).toBe(true);
        expect(changes[0]!.affects('price', [new Interval(151, 152)])).toBe(false);
      });

      it('should leave storage and the marks unchanged when the fetch fails, and refresh at the next read', async () => {
        const { table, db, storage } = await setUp(catalogue());
        const before = await stored(storage);
        db.upsert(product(1001, 155.55));
        db.failNext(new Error('backend down'));
        await expect(table.invalidateKeys([1001])).rejects.toThrow('backend down');
        expect(await stored(storage)).toEqual(before);
        db.requests.length = 0;
        expect((await read(table, price(150, 151))).records).toEqual(backendIn(db, 150, 151));
        expect(db.requests.map((request) => request.description)).toEqual(['ids 1001']);
        expect((await read(table, price(155.55, 155.56))).records.map((record) => record.id)).toEqual([1001]);
      });

      it('with forceRefreshOnNextRead false, should only mark the keys, and reads should keep serving the old records (as invalidateRecords with false)', async () => {
        const { table, db } = await setUp(catalogue());
        const before = byId(await collect(table.getRecords(price(150, 160))));
        db.upsert(product(1001, 155.55));
        await table.invalidateKeys([1001], { forceRefreshOnNextRead: false });
        expect(db.requests).toHaveLength(0);
        const result = await table.readRecords(price(150, 160));
        expect(result.refreshed).toBe(false);
        expect(byId(await collect(result.records))).toEqual(before);
        expect(db.requests).toHaveLength(0);
        await table.refreshInvalid();
        expect(db.requests.map((request) => request.description)).toEqual(['ids 1001']);
        expect((await read(table, price(155.55, 155.56))).records.map((record) => record.id)).toEqual([1001]);
      });

      it('with forceRefreshOnNextRead false, should be refreshed by refreshInvalid', async () => {
        const { table, db, storage } = await setUp(catalogue());
        db.remove(5);
        await table.invalidateKeys([5], { forceRefreshOnNextRead: false });
        expect((await stored(storage)).some((record) => record.id === 5)).toBe(true);
        await table.refreshInvalid();
        expect((await stored(storage)).some((record) => record.id === 5)).toBe(false);
      });

      it('should keep an invalidation that arrives during its refresh for the next one', async () => {
        const { table, db, storage } = await setUp(catalogue());
        db.upsert(product(1001, 155.55));
        const release = db.hold();
        const first = table.invalidateKeys([1001]);
        await new Promise((resolve) => setTimeout(resolve, 0));
        db.remove(1002);
        const second = table.invalidateKeys([1002], { forceRefreshOnNextRead: false });
        release();
        await Promise.all([first, second]);
        expect((await stored(storage)).some((record) => record.id === 1002)).toBe(true);
        await table.refreshInvalid();
        expect((await stored(storage)).some((record) => record.id === 1002)).toBe(false);
      });

      it('should reject invalid keys with an InvalidSpecError naming the key', async () => {
        const { table } = await setUp(readings(3));
        const error = await table.invalidateKeys([1, Number.NaN as number]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidSpecError);
        expect((error as InvalidSpecError).path).toEqual(['keys', 1]);
        await expect(table.invalidateKeys({} as never)).rejects.toBeInstanceOf(InvalidSpecError);
      });

      it('should resolve at once for no keys', async () => {
        const { table, db } = await setUp(readings(3));
        await table.invalidateKeys([]);
        expect(db.requests).toHaveLength(0);
      });

      it('should reject before the first load', async () => {
        const indexes = priceIndexes();
        const table = new CachedTable(indexes, new MemoryDbAccess([]), await createStorage<Reading>(indexes));
        await expect(table.invalidateKeys([1])).rejects.toBeInstanceOf(TableCacheError);
      });

      it('should reject with UnsupportedOperationError when the Indexes cannot fetch by keys', async () => {
        const { table } = await setUp(readings(3), price(0, 10), { byKeys: false });
        const error = await table.invalidateKeys([1]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsupportedOperationError);
        expect((error as UnsupportedOperationError).missing).toBe('Indexes.dbRecordsSpecForKeys');
      });

      it('should reject with UnsupportedOperationError when the storage cannot read by keys', async () => {
        const { table, storage } = await setUp(readings(3), price(0, 10));
        (storage as { getRecordsByKeys?: unknown }).getRecordsByKeys = undefined;
        const error = await table.invalidateKeys([1]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsupportedOperationError);
        expect((error as UnsupportedOperationError).missing).toBe('StorageTable.getRecordsByKeys');
      });
    });

    describe('refreshes (stale after resume, invalidateRecords)', () => {
      it('should stage only the changed records when refreshing stale records after resume, and discard only vanished ones', async () => {
        const { table, db, storage } = await setUp(catalogue());
        const resumed = new CachedTable(priceIndexes(), db, storage, { name: 'products' });
        await resumed.resume();
        const staged = spied(storage);
        db.upsert(product(10, 150.2, 1010));
        db.remove(11);
        const result = await resumed.readRecords(price(150, 151));
        expect(result).toMatchObject({ from: 'storage', refreshed: true, stale: false });
        expect(byId(await collect(result.records))).toEqual(backendIn(db, 150, 151));
        // The read was answered from the refresh's fetch; the refresh commits after.
        await resumed.idle();
        expect(staged).toEqual({ stagedPuts: 1, discards: 1 });
        expect(table.name).toBe('products');
      });

      it('should stage only the changed records of an invalidateRecords refresh', async () => {
        const { table, db, staged } = await setUp(catalogue());
        db.upsert(product(1001, 155.01, 5));
        table.invalidateRecords([price(155, 155.02)], [price(155, 155.02)]);
        await table.refreshInvalid();
        expect(staged).toEqual({ stagedPuts: 1, discards: 0 });
        expect((await read(table, price(155, 155.02))).records).toEqual(backendIn(db, 155, 155.02));
      });
    });
  });
}
