/// <reference lib="webworker" />
// What the bench worker's figures share: IndexedDB requests as promises (the tests' helpers on idb), timing, and
// the raw baselines' rows.
import { RangeIndexes } from 'tablecache-web';
import { deleteDatabase, requestResult, transactionDone } from '../test/support/idbPromises';
import type { BenchRecord } from './data';

export { deleteDatabase, requestResult, transactionDone };

type Range = { ge: number; lt: number };

export const STEP = 1000;
export const START = Date.UTC(2026, 10, 1);
export const tsOf = (id: number) => START + id * STEP;

/** The bench records' Indexes: by time, fetched by range from an in-memory backend. */
export const timeIndexes = () =>
  new RangeIndexes<BenchRecord, number, Range, 'ts'>({
    indexName: 'ts',
    primaryKey: (record) => record.id,
    score: (record) => record.ts,
    dbRecordsSpecForRange: (ge, lt) => ({ ge, lt }),
  });

export async function count(records: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of records) n++;
  return n;
}

export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

/** The raw baselines' layout: one row per record, as `IdbStorageTable` wrote them for a one-index table. */
export async function openRawDatabase(name: string): Promise<IDBDatabase> {
  await deleteDatabase(name);
  const request = indexedDB.open(name, 1);
  request.onupgradeneeded = () => {
    const rows = request.result.createObjectStore('rows', { keyPath: 'k' });
    rows.createIndex('score:ts', 's0');
  };
  return requestResult(request);
}

/** Raw relaxed `put` of one row per record, `batch` rows per transaction. */
export async function rawPut(db: IDBDatabase, records: readonly { id: number; ts: number }[], batch = 1000): Promise<void> {
  for (let i = 0; i < records.length; i += batch) {
    const transaction = db.transaction('rows', 'readwrite', { durability: 'relaxed' });
    const store = transaction.objectStore('rows');
    for (const record of records.slice(i, i + batch)) store.put({ k: [record.id], r: record, s0: record.ts });
    await transactionDone(transaction);
  }
}
