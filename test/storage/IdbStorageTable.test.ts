import { vi } from 'vitest';
import { IDBCursor, IDBDatabase, IDBFactory, IDBIndex, IDBKeyRange, IDBObjectStore, IDBRequest, IDBTransaction } from 'fake-indexeddb';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { describeIdbStorageTable } from './fixtures/describeIdbStorageTable';
import { describeStorageTable } from './describeStorageTable';

// idb (under the suites' promise helpers) tells requests and transactions by the global IndexedDB classes, which
// Node lacks: fake-indexeddb's stand in for them in this file (the library itself never looks at these globals).
Object.assign(globalThis, { IDBCursor, IDBDatabase, IDBIndex, IDBObjectStore, IDBRequest, IDBTransaction });

// Reads served from the in-memory copy (the default) and from IndexedDB itself.
for (const memoryRecords of [undefined, 0]) {
  const variant = memoryRecords === undefined ? '' : `, memoryRecords ${memoryRecords}`;
  describeStorageTable(`IdbStorageTable (fake-indexeddb${variant})`, (scorer) =>
    IdbStorageTable.open(scorer, { name: 'contract', indexedDB: new IDBFactory(), IDBKeyRange, readBatchSize: 64, memoryRecords }),
  );
}

// Pages of 3 records: every operation crosses pages (5,000 records are 1,667 pages, slow in fake-indexeddb).
vi.setConfig({ testTimeout: 30_000 });
describeStorageTable('IdbStorageTable (fake-indexeddb, recordsPerPage 3)', (scorer) =>
  IdbStorageTable.open(scorer, { name: 'contract', indexedDB: new IDBFactory(), readBatchSize: 4, writeBatchSize: 30, recordsPerPage: 3 }),
);

// The default, IndexedDB alone, and a copy the random operations keep dropping and filling again.
for (const memoryRecords of [undefined, 0, 25]) {
  describeIdbStorageTable('IdbStorageTable (fake-indexeddb)', {
    database: () => ({ indexedDB: new IDBFactory(), IDBKeyRange, dbName: 'test' }),
    randomizedSteps: 600,
    memoryRecords,
  });
}
