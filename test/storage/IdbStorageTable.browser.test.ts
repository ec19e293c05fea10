import { afterEach, describe, expect, it } from 'vitest';
import { Interval } from '../../src/core/Interval';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import type { RecordScorer } from '../../src/core/types';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { byId, collect, readings, readingScorer } from '../support/records';
import { describeStorageTable } from './describeStorageTable';
import { describeIdbStorageTable } from './fixtures/describeIdbStorageTable';

const run = Math.random().toString(36).slice(2);
let opened: { table: IdbStorageTable<unknown>; dbName: string }[] = [];

afterEach(async () => {
  const tables = opened;
  opened = [];
  for (const { table } of tables) table.close();
  await Promise.all(
    tables.map(
      ({ dbName }) =>
        new Promise((resolve, reject) => {
          const request = indexedDB.deleteDatabase(dbName);
          request.onsuccess = resolve;
          request.onerror = () => reject(request.error);
        }),
    ),
  );
});

async function open<R>(scorer: RecordScorer<R, unknown>): Promise<IdbStorageTable<R>> {
  const dbName = `tablecache-test-${run}-${opened.length}`;
  const table = await IdbStorageTable.open(scorer, { name: 'contract', dbName, readBatchSize: 64 });
  opened.push({ table: table as IdbStorageTable<unknown>, dbName });
  return table;
}

describeStorageTable('IdbStorageTable (Chromium)', open);

let databases = 0;
describeIdbStorageTable('IdbStorageTable (Chromium)', {
  database: () => ({ indexedDB, IDBKeyRange, dbName: `tablecache-test-${run}-specifics-${databases++}` }),
  // MemoryStorageTable, the oracle, does not load under Vite in the browser yet: `import BTree from 'sorted-btree'`
  // yields the CommonJS exports object there. The comparison runs in Node.
  randomizedSteps: 0,
});

describe('IdbStorageTable (Chromium, one writer per database)', () => {
  describe('open', () => {
    it('should refuse a second table of an open database after lockTimeout, and open it once the first closes', async () => {
      const dbName = `tablecache-test-${run}-lock`;
      const first = await IdbStorageTable.open(readingScorer, { name: 'first', dbName });
      opened.push({ table: first as IdbStorageTable<unknown>, dbName });
      await expect(IdbStorageTable.open(readingScorer, { name: 'second', dbName, lockTimeout: 0 })).rejects.toThrow(
        /held by another IdbStorageTable/,
      );
      await first.putRecords(readings(3));
      const third = IdbStorageTable.open(readingScorer, { name: 'third', dbName, lockTimeout: 30_000 });
      first.close();
      const table = await third;
      opened.push({ table: table as IdbStorageTable<unknown>, dbName });
      expect(byId(await collect(table.getRecords(new StorageRecordsSpec('ts', [Interval.everything()]))))).toEqual(readings(3));
    });
  });
});
