/// <reference lib="webworker" />
// The figures of big tables (issue 14): adjusts of 20k → 200k readings, a refresh and a warm start over 200k, a range
// read from 1M records, and the worker memory a record costs. Part of the bench worker's API (bench.worker.ts).
import { transfer } from 'comlink';
import {
  CachedTable,
  Interval,
  RangeIndexes,
  RestDbAccess,
  StorageRecordsSpec,
  type CachedTableOptions,
  type RangeSpec,
  type DbAccess,
  type RestRecordsSpec,
} from 'tablecache-web';
import { IdbStorageTable } from 'tablecache-web/idb';
import { exposeCachedTable } from 'tablecache-web/worker';
import { readingSchema } from '../demo/shared';
import type { Reading } from '../demo/ui/types';
import { makeRecords, type BenchRecord } from './data';
import { count, deleteDatabase, openRawDatabase, rawPut, requestResult, timed, timeIndexes, tsOf } from './idbHelpers';

/** A time range of readings, `[ge, lt)` in epoch ms, as the demo's spec. */
export type TimeSpec = { indexName: 'ts'; ge: number; lt: number };
type Range = { ge: number; lt: number };

const BIG_TABLE = 'bench-big';
const BIG_RAW = 'bench-big-raw';
const READINGS_PATH = '/api/readings';

/** The demo's Indexes: readings by time, fetched from the reference backend. */
const readingIndexes = () =>
  new RangeIndexes<Reading, number, RestRecordsSpec, 'ts'>({
    indexName: 'ts',
    primaryKey: (reading) => reading.id,
    score: (reading) => reading.ts,
    dbRecordsSpecForRange: (ge, lt) => ({ path: READINGS_PATH, query: { ge, lt } }),
  });

// A minute per response, not the default 5 s: the bench runs on a shared, often loaded machine (it is not the figure).
const restAccess = (apiUrl: string) =>
  new RestDbAccess({ baseUrl: apiUrl, schema: readingSchema, timeoutMs: 60_000, connectTimeoutMs: 60_000 });

/** A warm start serves stale records at once after `resume()` and refreshes them in the background (issue 14 item 2). */
const staleWhileRevalidate: CachedTableOptions = { staleWhileRevalidate: true };

/** The backend's readings held in memory: what `adjust.bigVsRawPut` adjusts from, with no network in the way. */
class ReadingsInMemory implements DbAccess<Reading, RestRecordsSpec> {
  constructor(private readonly readings: readonly Reading[]) {}
  async *getRecords(spec: RestRecordsSpec): AsyncGenerator<Reading> {
    const ge = Number(spec.query?.['ge'] ?? -Infinity);
    const lt = Number(spec.query?.['lt'] ?? Infinity);
    for (const reading of this.readings) if (reading.ts >= ge && reading.ts < lt) yield reading;
  }
}

let readings: Reading[] | null = null;
let big: { table: CachedTable<Reading, number, RangeSpec<'ts'>, RestRecordsSpec>; storage: IdbStorageTable<Reading> } | null = null;
let memoryTable: IdbStorageTable<BenchRecord> | null = null;

function closeBig(): void {
  big?.storage.close();
  big = null;
}

const inRange = (range: Range) => (reading: Reading) => reading.ts >= range.ge && reading.ts < range.lt;

export const bigApi = {
  /** Fetches every reading of `range` once, for the in-memory backend; resolves with how many. */
  async bigFetchReadings(apiUrl: string, range: Range): Promise<number> {
    const all: Reading[] = [];
    for await (const reading of restAccess(apiUrl).getRecords({ path: READINGS_PATH, query: { ...range } })) all.push(reading);
    readings = all;
    return all.length;
  },

  /**
   * A new table of readings loaded with `window`, from the reference backend (`'rest'`) or the same readings in
   * memory (`'memory'`), exposed on the returned port (the page subscribes to it as the demo does).
   */
  async bigPrepare(apiUrl: string, source: 'rest' | 'memory', window: TimeSpec): Promise<MessagePort> {
    closeBig();
    await deleteDatabase(`tablecache-web:${BIG_TABLE}`);
    const indexes = readingIndexes();
    const storage = await IdbStorageTable.open<Reading>(indexes, { name: BIG_TABLE });
    if (source === 'memory' && !readings) throw new Error('bigFetchReadings first');
    const db = source === 'rest' ? restAccess(apiUrl) : new ReadingsInMemory(readings!);
    const table = new CachedTable(indexes, db, storage);
    await table.load(window);
    await storage.idle();
    big = { table, storage };
    const channel = new MessageChannel();
    exposeCachedTable(table, channel.port2);
    return transfer(channel.port1, [channel.port1]);
  },

  /** Adjusts the prepared table to `window`; resolves with the time taken and the records it loaded. */
  async bigAdjust(window: TimeSpec): Promise<{ ms: number; records: number }> {
    if (!big) throw new Error('bigPrepare first');
    const before = big.table.stats().loaded;
    const { ms } = await timed(() => big!.table.adjust(window));
    return { ms, records: big.table.stats().loaded - before };
  },

  /** Closes the prepared table (its database stays, for the warm start and the refresh). */
  async bigClose(): Promise<void> {
    if (big) await big.storage.idle();
    closeBig();
  },

  /** Fetching and parsing the readings of `range` from the backend, through `RestDbAccess`. */
  async bigFetch(apiUrl: string, range: Range): Promise<{ ms: number; records: number }> {
    const { ms, result } = await timed(() => count(restAccess(apiUrl).getRecords({ path: READINGS_PATH, query: { ...range } })));
    return { ms, records: result };
  },

  /**
   * Raw relaxed `put` of the fetched readings of `range`, one per row, in 1,000-row transactions, timed, after the
   * other readings (untimed): the raw database then holds every reading, for the warm start's baseline.
   */
  async bigRawPut(range: Range): Promise<{ ms: number; records: number }> {
    if (!readings) throw new Error('bigFetchReadings first');
    const db = await openRawDatabase(BIG_RAW);
    const added = readings.filter(inRange(range));
    await rawPut(
      db,
      readings.filter((reading) => !inRange(range)(reading)),
    );
    const { ms } = await timed(() => rawPut(db, added));
    db.close();
    return { ms, records: added.length };
  },

  /**
   * In a fresh worker: open the big table's database, `resume()`, and read `view` to its end (stale records allowed:
   * the table serves them with `staleWhileRevalidate`).
   */
  async warmStartLibrary(
    apiUrl: string,
    view: TimeSpec,
  ): Promise<{ ms: number; records: number; stale: boolean; refreshed: boolean; phases: string }> {
    let info = { stale: false, refreshed: false };
    let phases = '';
    const { ms, result } = await timed(async () => {
      const t0 = performance.now();
      const indexes = readingIndexes();
      const storage = await IdbStorageTable.open<Reading>(indexes, { name: BIG_TABLE });
      const t1 = performance.now();
      const table = new CachedTable<Reading, number, RangeSpec<'ts'>, RestRecordsSpec>(
        indexes,
        restAccess(apiUrl),
        storage,
        staleWhileRevalidate,
      );
      await table.resume();
      const t2 = performance.now();
      const read = await table.readRecords(view);
      const t3 = performance.now();
      info = { stale: read.stale, refreshed: read.refreshed };
      const n = await count(read.records);
      const t4 = performance.now();
      phases = `open ${(t1 - t0).toFixed(1)} ms, resume ${(t2 - t1).toFixed(1)} ms, read decided ${(t3 - t2).toFixed(1)} ms, records taken ${(t4 - t3).toFixed(1)} ms`;
      return n;
    });
    return { ms, records: result, ...info, phases };
  },

  /** In a fresh worker: open the raw database and `getAll` the rows of `view`, one per record. */
  async warmStartRaw(view: TimeSpec): Promise<{ ms: number; records: number }> {
    const { ms, result } = await timed(async () => {
      const db = await requestResult(indexedDB.open(BIG_RAW));
      const rows = await requestResult(
        db
          .transaction('rows')
          .objectStore('rows')
          .index('score:ts')
          .getAll(IDBKeyRange.bound(view.ge, view.lt, false, true)),
      );
      return rows.map((row: { r: Reading }) => row.r).length;
    });
    return { ms, records: result };
  },

  /**
   * The big table after `resume()` (every record stale; the backend has changed since): the first read of `view`,
   * its refresh included, and a plain fetch of the same records; `fetchFirst` orders the two.
   */
  async refreshRun(
    apiUrl: string,
    view: TimeSpec,
    fetchFirst: boolean,
  ): Promise<{ library: number; fetch: number; records: number; refreshed: boolean; fetchedAt: number }> {
    const indexes = readingIndexes();
    const storage = await IdbStorageTable.open<Reading>(indexes, { name: BIG_TABLE });
    try {
      const rest = restAccess(apiUrl);
      // When the table's fetch had its last record, from the start of its read: the rest is the table's own work.
      let fetchedAt = 0;
      let started = 0;
      const timedRest: DbAccess<Reading, RestRecordsSpec> = {
        async *getRecords(spec, options) {
          yield* rest.getRecords(spec, options);
          fetchedAt = performance.now() - started;
        },
      };
      const table = new CachedTable<Reading, number, RangeSpec<'ts'>, RestRecordsSpec>(indexes, timedRest, storage);
      await table.resume();
      let refreshed = false;
      const library = () =>
        timed(async () => {
          // Profiled with `--profile`: a no-op unless DevTools' profiler is enabled.
          console.profile('refresh.unchangedVsFetch');
          started = performance.now();
          try {
            const read = await table.readRecords(view);
            refreshed = read.refreshed;
            return await count(read.records);
          } finally {
            console.profileEnd('refresh.unchangedVsFetch');
          }
        });
      const fetch = () => timed(() => count(rest.getRecords(indexes.dbRecordsSpec(view))));
      const [a, b] = fetchFirst ? [await fetch(), await library()] : [await library(), await fetch()];
      const [fetched, read] = fetchFirst ? [a, b] : [b, a];
      if (read.result !== fetched.result) throw new Error(`refresh read ${read.result} records, the backend ${fetched.result}`);
      await storage.idle();
      return { library: read.ms, fetch: fetched.ms, records: read.result, refreshed, fetchedAt };
    } finally {
      storage.close();
    }
  },

  /**
   * A `total`-record table over `memoryRecords` (IndexedDB serves its reads) and a raw one-row-per-record database
   * of the same records; `runs` reads of `size` records from each, alternating which goes first.
   */
  async rangeBig(total: number, size: number, runs: number, memoryRecords: number | undefined, log: (line: string) => void) {
    const name = 'bench-range-big';
    await deleteDatabase(`tablecache-web:${name}`);
    const storage = await IdbStorageTable.open<BenchRecord>(timeIndexes(), {
      name,
      ...(memoryRecords === undefined ? {} : { memoryRecords }),
    });
    const chunk = 10_000;
    const chunks = function* () {
      for (let first = 0; first < total; first += chunk) yield makeRecords(Math.min(chunk, total - first), first);
    };
    const write = await timed(async () => {
      await storage.putRecords(
        (function* () {
          for (const records of chunks()) yield* records;
        })(),
      );
      await storage.idle();
    });
    log(`range reads: ${total} records written by the library in ${(write.ms / 1000).toFixed(1)} s`);
    if (storage.readsFromMemory) throw new Error(`the ${total}-record table reads from memory; it must read IndexedDB`);
    const raw = await openRawDatabase('bench-range-big-raw');
    const rawWrite = await timed(async () => {
      for (const records of chunks()) await rawPut(raw, records);
    });
    log(`range reads: ${total} records written raw in ${(rawWrite.ms / 1000).toFixed(1)} s`);
    const times = { library: [] as number[], raw: [] as number[], writeLibrary: write.ms, writeRaw: rawWrite.ms };
    for (let run = 0; run < runs; run++) {
      const first = Math.floor((((run * 7919) % 97) / 97) * (total - size));
      const ge = tsOf(first);
      const lt = tsOf(first + size);
      const library = () => timed(() => count(storage.getRecords(new StorageRecordsSpec<BenchRecord>('ts', [new Interval(ge, lt)]))));
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
      const [x, y] = run % 2 ? [await rawRead(), await library()] : [await library(), await rawRead()];
      const [libraryRead, rawResult] = run % 2 ? [y, x] : [x, y];
      if (libraryRead.result !== size || rawResult.result !== size)
        throw new Error(`read ${libraryRead.result} and ${rawResult.result} records, not ${size}`);
      times.library.push(libraryRead.ms);
      times.raw.push(rawResult.ms);
    }
    raw.close();
    storage.close();
    await deleteDatabase('bench-range-big-raw');
    await deleteDatabase(`tablecache-web:${name}`);
    return times;
  },

  /** An empty table for the memory figure (the page measures the worker's heap now, then after `memoryFill`). */
  async memoryPrepare(): Promise<void> {
    memoryTable?.close();
    await deleteDatabase('tablecache-web:bench-memory');
    memoryTable = await IdbStorageTable.open<BenchRecord>(timeIndexes(), { name: 'bench-memory' });
  },

  /** Puts `size` records (made as they are written, so only the table keeps them); resolves with their mean JSON length. */
  async memoryFill(size: number): Promise<{ jsonLength: number; readsFromMemory: boolean }> {
    if (!memoryTable) throw new Error('memoryPrepare first');
    let jsonBytes = 0;
    await memoryTable.putRecords(
      (function* () {
        for (let first = 0; first < size; first += 1000) {
          for (const record of makeRecords(Math.min(1000, size - first), first)) {
            jsonBytes += JSON.stringify(record).length;
            yield record;
          }
        }
      })(),
    );
    await memoryTable.idle();
    // Whatever the table keeps in memory is measured; whether it reads from a copy of every record is printed beside.
    return { jsonLength: jsonBytes / size, readsFromMemory: memoryTable.readsFromMemory };
  },

  async memoryClose(): Promise<void> {
    memoryTable?.close();
    memoryTable = null;
    await deleteDatabase('tablecache-web:bench-memory');
  },
};
