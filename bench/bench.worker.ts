/// <reference lib="webworker" />
import Dexie, { type Table } from 'dexie';
import { expose, transfer } from 'comlink';
import { CachedTable, Interval, RangeIndexes, RestDbAccess, StorageRecordsSpec, type DbAccess, type RangeSpec } from 'tablecache-web';
import { IdbStorageTable } from 'tablecache-web/idb';
import { exposeCachedTable } from 'tablecache-web/worker';
import { readingSchema } from '../demo/shared';
import type { Reading } from '../demo/ui/types';
import { bigApi } from './bigTables';
import { makeRecords, type BenchRecord } from './data';
import { count, deleteDatabase, openRawDatabase, rawPut, requestResult, timed, timeIndexes, transactionDone, tsOf } from './idbHelpers';

type Spec = RangeSpec<'ts'>;
type Range = { ge: number; lt: number };

/** A backend in memory: the records of a range, as a stream. */
class ArrayDbAccess implements DbAccess<BenchRecord, Range> {
  constructor(private readonly records: BenchRecord[]) {}
  async *getRecords(range: Range): AsyncGenerator<BenchRecord> {
    for (const record of this.records) if (record.ts >= range.ge && record.ts < range.lt) yield record;
  }
}

class DexieBench extends Dexie {
  records!: Table<BenchRecord, number>;
  constructor(name: string) {
    super(name);
    this.version(1).stores({ records: 'id, ts' });
  }
}

const api = {
  ...bigApi,

  /**
   * IdbStorageTable.getRecords (as configured by default: from its in-memory copy; and with memoryRecords 0: from
   * IndexedDB) vs raw index.getAll vs Dexie, on one range per size.
   */
  async rangeRead(sizes: number[], runs: number) {
    const total = Math.max(...sizes) + 1000;
    const records = makeRecords(total);
    const name = 'bench-range';
    await deleteDatabase(`tablecache-web:${name}`);
    await deleteDatabase(`tablecache-web:${name}-idb`);
    const storage = await IdbStorageTable.open<BenchRecord>(timeIndexes(), { name });
    await storage.putRecords(records);
    await storage.idle();
    if (!storage.readsFromMemory) throw new Error('the range bench table does not read from memory');
    const direct = await IdbStorageTable.open<BenchRecord>(timeIndexes(), { name: `${name}-idb`, memoryRecords: 0 });
    await direct.putRecords(records);
    // One row per record in a database of its own: IdbStorageTable stores pages, not the rows the baseline reads.
    const raw = await openRawDatabase(`${name}-raw`);
    await rawPut(raw, records);
    await deleteDatabase('bench-dexie');
    const dexie = new DexieBench('bench-dexie');
    await dexie.records.bulkPut(records);
    const results: Record<number, { library: number[]; fromIdb: number[]; raw: number[]; dexie: number[] }> = {};
    for (const size of sizes) {
      const times = { library: [] as number[], fromIdb: [] as number[], raw: [] as number[], dexie: [] as number[] };
      for (let run = 0; run < runs; run++) {
        const first = (run * 97) % (total - size);
        const ge = tsOf(first);
        const lt = tsOf(first + size);
        const spec = new StorageRecordsSpec<BenchRecord>('ts', [new Interval(ge, lt)]);
        const library = () => timed(() => count(storage.getRecords(spec)));
        const fromIdb = () => timed(() => count(direct.getRecords(spec)));
        const rawRead = () =>
          timed(async () => {
            const rows = await requestResult(
              raw
                .transaction('rows')
                .objectStore('rows')
                .index('score:ts')
                .getAll(IDBKeyRange.bound(ge, lt, false, true)),
            );
            return rows.map((row: { r: BenchRecord }) => row.r).length;
          });
        const dexieRead = () => timed(async () => (await dexie.records.where('ts').between(ge, lt).toArray()).length);
        const order = [library, fromIdb, rawRead, dexieRead];
        if (run % 2) order.reverse();
        const measured = new Map<unknown, { ms: number; result: number }>();
        for (const measure of order) measured.set(measure, await measure());
        for (const [measure, key] of [
          [library, 'library'],
          [fromIdb, 'fromIdb'],
          [rawRead, 'raw'],
          [dexieRead, 'dexie'],
        ] as const) {
          const { ms, result } = measured.get(measure)!;
          if (result !== size) throw new Error(`${key} read ${result} records, not ${size}`);
          times[key].push(ms);
        }
      }
      results[size] = times;
    }
    raw.close();
    dexie.close();
    storage.close();
    direct.close();
    return results;
  },

  /** CachedTable.load from an in-memory backend vs raw batched put, of `size` records. */
  async ingest(size: number, runs: number) {
    const records = makeRecords(size);
    const name = 'bench-ingest';
    await deleteDatabase(`tablecache-web:${name}`);
    const storage = await IdbStorageTable.open<BenchRecord>(timeIndexes(), { name });
    const rawDb = await openRawDatabase('bench-ingest-raw');
    const times = { library: [] as number[], raw: [] as number[] };
    for (let run = 0; run < runs; run++) {
      const load = async () => {
        const indexes = timeIndexes();
        const table = new CachedTable(indexes, new ArrayDbAccess(records), storage);
        return (await timed(() => table.load({ indexName: 'ts', ge: -Infinity, lt: Infinity }))).ms;
      };
      const put = async () => {
        const clearing = rawDb.transaction('rows', 'readwrite');
        clearing.objectStore('rows').clear();
        await transactionDone(clearing);
        return (await timed(() => rawPut(rawDb, records))).ms;
      };
      if (run % 2) {
        times.raw.push(await put());
        times.library.push(await load());
      } else {
        times.library.push(await load());
        times.raw.push(await put());
      }
    }
    rawDb.close();
    storage.close();
    return times;
  },

  /** scratchMerge time with `small` and with `large` records staged. */
  async commit(small: number, large: number, runs: number) {
    const name = 'bench-commit';
    await deleteDatabase(`tablecache-web:${name}`);
    const storage = await IdbStorageTable.open<BenchRecord>(timeIndexes(), { name });
    await storage.putRecords(makeRecords(10_000));
    let next = 10_000;
    const merge = async (staged: number) => {
      await storage.scratchPutRecords(makeRecords(staged, next));
      next += staged;
      return (await timed(() => storage.scratchMerge({ run: next }))).ms;
    };
    const times = { small: [] as number[], large: [] as number[] };
    for (let run = 0; run < runs; run++) {
      times.small.push(await merge(small));
      times.large.push(await merge(large));
    }
    storage.close();
    return times;
  },

  /** Latencies of covered 100-record reads, idle and while an adjust loads `adjustSize` records. */
  async readStall(windowSize: number, adjustSize: number, samples: number) {
    const records = makeRecords(windowSize + adjustSize);
    const name = 'bench-stall';
    await deleteDatabase(`tablecache-web:${name}`);
    const storage = await IdbStorageTable.open<BenchRecord>(timeIndexes(), { name });
    const table = new CachedTable(timeIndexes(), new ArrayDbAccess(records), storage);
    await table.load({ indexName: 'ts', ge: tsOf(0), lt: tsOf(windowSize) });
    let seed = 1;
    const read = async () => {
      seed = (seed * 16807) % 2147483647;
      const first = seed % (windowSize - 100);
      const started = performance.now();
      const n = await count(table.getRecords({ indexName: 'ts', ge: tsOf(first), lt: tsOf(first + 100) }));
      if (n !== 100) throw new Error(`read ${n} records, not 100`);
      return performance.now() - started;
    };
    const idle: number[] = [];
    for (let i = 0; i < samples; i++) idle.push(await read());
    const during: number[] = [];
    let adjusting = true;
    const adjust = table.adjust({ indexName: 'ts', ge: tsOf(0), lt: tsOf(windowSize + adjustSize) }).finally(() => (adjusting = false));
    while (adjusting) during.push(await read());
    await adjust;
    storage.close();
    return { idle, during };
  },

  /** A table of `size` records exposed on a new port, for reads from the page; and the same read inside the worker. */
  async exposeForDelivery(size: number) {
    const name = 'bench-delivery';
    await deleteDatabase(`tablecache-web:${name}`);
    const storage = await IdbStorageTable.open<BenchRecord>(timeIndexes(), { name });
    const table = new CachedTable(timeIndexes(), new ArrayDbAccess(makeRecords(size + 150_000)), storage);
    await table.load({ indexName: 'ts', ge: tsOf(0), lt: tsOf(size) });
    deliveryTable = table;
    const channel = new MessageChannel();
    exposeCachedTable(table, channel.port2);
    return transferPort(channel.port1);
  },

  async readInWorker(size: number) {
    if (!deliveryTable) throw new Error('exposeForDelivery first');
    const { ms, result } = await timed(() => count(deliveryTable!.getRecords({ indexName: 'ts', ge: tsOf(0), lt: tsOf(size) })));
    if (result !== size) throw new Error(`read ${result} records, not ${size}`);
    return ms;
  },

  /** Grows the delivery table's window by `size` records (for the long-task figure). */
  async adjustDelivery(windowSize: number, size: number) {
    if (!deliveryTable) throw new Error('exposeForDelivery first');
    const { ms } = await timed(() => deliveryTable!.adjust({ indexName: 'ts', ge: tsOf(0), lt: tsOf(windowSize + size) }));
    return ms;
  },

  /** A covered read vs the same read from the reference backend; `partial` reads 90% inside the window. */
  async vsBackend(apiUrl: string, runs: number, quick: boolean) {
    // Validated as the demo validates the reference backend's readings.
    const rest = new RestDbAccess({ baseUrl: apiUrl, schema: readingSchema, timeoutMs: 60_000, connectTimeoutMs: 60_000 });
    const indexes = new RangeIndexes<Reading, number, { path: string; query: Record<string, number> }, 'ts'>({
      indexName: 'ts',
      primaryKey: (record) => record.id,
      score: (record) => record.ts,
      dbRecordsSpecForRange: (ge, lt) => ({ path: '/api/readings', query: { ge, lt } }),
    });
    const name = 'bench-backend';
    await deleteDatabase(`tablecache-web:${name}`);
    const storage = await IdbStorageTable.open<Reading>(indexes, { name });
    const table = new CachedTable(indexes, rest, storage);
    const end = Date.now();
    const hour = 3_600_000;
    const window = { ge: end - 72 * hour, lt: end };
    await table.load({ indexName: 'ts', ...window });
    const perHour = Math.max(1, (await count(table.getRecords({ indexName: 'ts', ...window }))) / 72);
    // About 1,000 records, within the cached window even when the seed is sparse (--quick).
    const hitHours = Math.min(36, (quick ? 200 : 1000) / perHour);
    const hitRange = { ge: Math.round(window.lt - hitHours * hour), lt: window.lt };
    // A larger read for the partial hit (about 10,000 records), so that it weighs records rather than round trips.
    const width = Math.min(72 / 0.9, (quick ? 2000 : 10_000) / perHour) * hour;
    const partialRange = { ge: Math.round(window.ge - width * 0.1), lt: Math.round(window.ge + width * 0.9) };
    const results = {
      hit: [] as number[],
      miss: [] as number[],
      partial: [] as number[],
      fullMiss: [] as number[],
      rawHit: [] as number[],
      hitRecords: 0,
      partialRecords: 0,
    };
    // One row per record in a database of its own: IdbStorageTable stores pages, not the rows the baseline reads.
    const raw = await openRawDatabase(`${name}-raw`);
    const held: Reading[] = [];
    for await (const record of table.getRecords({ indexName: 'ts', ...window })) held.push(record);
    await rawPut(raw, held as unknown as BenchRecord[]);
    for (let run = 0; run < runs; run++) {
      const rawHit = await timed(
        async () =>
          (
            await requestResult(
              raw
                .transaction('rows')
                .objectStore('rows')
                .index('score:ts')
                .getAll(IDBKeyRange.bound(hitRange.ge, hitRange.lt, false, true)),
            )
          ).length,
      );
      results.rawHit.push(rawHit.ms);
      const hit = await timed(() => count(table.getRecords({ indexName: 'ts', ...hitRange })));
      const miss = await timed(() => count(rest.getRecords(indexes.dbRecordsSpec({ indexName: 'ts', ...hitRange }))));
      const partial = await timed(() => count(table.getRecords({ indexName: 'ts', ...partialRange })));
      const fullMiss = await timed(() => count(rest.getRecords(indexes.dbRecordsSpec({ indexName: 'ts', ...partialRange }))));
      if (hit.result !== miss.result || partial.result !== fullMiss.result) {
        throw new Error(`record counts differ: hit ${hit.result} vs miss ${miss.result}, partial ${partial.result} vs ${fullMiss.result}`);
      }
      results.hit.push(hit.ms);
      results.miss.push(miss.ms);
      results.partial.push(partial.ms);
      results.fullMiss.push(fullMiss.ms);
      results.hitRecords = hit.result;
      results.partialRecords = partial.result;
    }
    raw.close();
    const stats = table.stats();
    if (stats.reads.cacheHit < runs || stats.reads.partialHit < runs)
      throw new Error(`unexpected read kinds: ${JSON.stringify(stats.reads)}`);
    storage.close();
    return results;
  },
};

let deliveryTable: CachedTable<BenchRecord, number, Spec, Range> | null = null;

function transferPort(port: MessagePort): MessagePort {
  return transfer(port, [port]);
}

export type BenchApi = typeof api;
expose(api);
