import { afterEach } from 'vitest';
import type { RecordScorer } from '../../src/core/types';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
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
