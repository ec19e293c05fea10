import { afterEach, describe, expect } from 'vitest';
import { Interval } from '../../src/core/Interval';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { itInEngines } from '../engines/knownEngineDifferences';
import { deleteDatabase, requestResult } from '../support/idbPromises';
import { byId, collect, reading, readings, readingScorer, type Reading } from '../support/records';
import type { CrashJob, CrashProgress } from './fixtures/crash.worker';

const run = Math.random().toString(36).slice(2);
let dbNames: string[] = [];
let tables: IdbStorageTable<Reading>[] = [];

afterEach(async () => {
  for (const table of tables) table.close();
  await Promise.all(dbNames.map((dbName) => deleteDatabase(dbName)));
  tables = [];
  dbNames = [];
});

async function open(dbName: string): Promise<IdbStorageTable<Reading>> {
  const table = await IdbStorageTable.open(readingScorer, { name: 'crash', dbName });
  tables.push(table);
  return table;
}

/** The committed state before the worker runs: ids 0..999 with `ts = id`, the first 100 replaced once (value 1). */
const firstState = byId([...readings(100).map((r) => reading(r.id, r.ts, 1)), ...readings(1000).slice(100)]);
const job = (dbName: string, pauseAt?: number): CrashJob => ({
  dbName,
  discard: { ge: 0, lt: 500 },
  stage: { from: 250, to: 20_250 },
  pauseAt,
});
/** The state the worker's merge commits: ids below 250 discarded, 250..20249 staged. */
const secondState = Array.from({ length: 20_000 }, (_, i) => reading(250 + i, 250 + i + 0.5, 2));

async function prepare(): Promise<string> {
  const dbName = `tablecache-crash-${run}-${dbNames.length}`;
  dbNames.push(dbName);
  const table = await open(dbName);
  await table.putRecords(readings(1000));
  await table.scratchPutRecords(readings(100).map((r) => reading(r.id, r.ts, 1)));
  await table.scratchMerge({ version: 1 });
  table.close();
  return dbName;
}

/** Runs the worker's job and terminates it as soon as `kill` says so. Resolves with the last progress seen. */
function runUntil(dbName: string, kill: (progress: CrashProgress) => boolean, pauseAt?: number): Promise<CrashProgress> {
  const worker = new Worker(new URL('./fixtures/crash.worker.ts', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onerror = (event) => reject(new Error(`worker failed: ${event.message}`));
    worker.onmessage = (event: MessageEvent<CrashProgress>) => {
      if (event.data.type === 'failed') reject(new Error(event.data.message));
      if (kill(event.data) || event.data.type === 'merged') {
        worker.terminate();
        resolve(event.data);
      }
    };
    worker.postMessage(job(dbName, pauseAt));
  });
}

/** Records in pages of the uncommitted generation, counted through a raw connection before the table recovers. */
async function uncommittedRows(dbName: string): Promise<number> {
  const db = await requestResult(indexedDB.open(dbName));
  try {
    const transaction = db.transaction(['dir', 'meta']);
    const { generation } = (await requestResult(transaction.objectStore('meta').get('generation'))) as { generation: number };
    const pages = (await requestResult(transaction.objectStore('dir').getAll())) as { g: number; n: number }[];
    return pages.filter((page) => page.g > generation).reduce((sum, page) => sum + page.n, 0);
  } finally {
    db.close();
  }
}

/** Records stored in pages, superseded and uncommitted ones included. */
async function storedRecords(db: IDBDatabase): Promise<number> {
  const pages = (await requestResult(db.transaction('pages').objectStore('pages').getAll())) as { r: unknown[] }[];
  return pages.reduce((sum, page) => sum + page.r.length, 0);
}

async function expectState(table: IdbStorageTable<Reading>, records: Reading[], state: unknown, dbName: string) {
  const everything = (indexName: string) => new StorageRecordsSpec<Reading>(indexName, [Interval.everything()]);
  expect(byId(await collect(table.getRecords(everything('ts'))))).toEqual(records);
  expect(byId(await collect(table.getRecords(everything('id'))))).toEqual(records);
  expect(await table.committedState()).toEqual(state);
  await table.idle();
  const db = await requestResult(indexedDB.open(dbName));
  try {
    expect(await storedRecords(db)).toBe(records.length);
  } finally {
    db.close();
  }
}

describe('IdbStorageTable (real browser, worker terminated)', () => {
  describe('open', () => {
    itInEngines(
      'should reopen to the last committed state when the worker dies while staging',
      async () => {
        const dbName = await prepare();
        const last = await runUntil(dbName, (progress) => progress.type === 'paused', 8000);
        expect(last).toMatchObject({ type: 'paused' });
        expect(await uncommittedRows(dbName)).toBeGreaterThan(1000);
        const table = await open(dbName);
        await expectState(table, firstState, { version: 1 }, dbName);
      },
      60_000,
    );

    itInEngines(
      'should reopen to exactly one committed state when the worker dies right after calling scratchMerge',
      async () => {
        const dbName = await prepare();
        await runUntil(dbName, (progress) => progress.type === 'merging');
        const table = await open(dbName);
        const state = await table.committedState();
        if ((state as { version: number }).version === 1) await expectState(table, firstState, { version: 1 }, dbName);
        else await expectState(table, secondState, { version: 2 }, dbName);
      },
      60_000,
    );
  });
});
