import { afterEach } from 'vitest';
import type { RecordScorer } from '../../src/core/types';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { describeCachedTable } from '../core/describeCachedTable';

const run = Math.random().toString(36).slice(2);
let count = 0;
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
  const dbName = `tablecache-cached-${run}-${count++}`;
  const table = await IdbStorageTable.open(scorer, { name: 'readings', dbName, readBatchSize: 16, writeBatchSize: 16 });
  opened.push({ table: table as IdbStorageTable<unknown>, dbName });
  return table;
}

describeCachedTable('IdbStorageTable (Chromium)', open, { randomizedOperations: 60 });
