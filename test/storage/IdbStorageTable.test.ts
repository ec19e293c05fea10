import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { describeIdbStorageTable } from './fixtures/describeIdbStorageTable';
import { describeStorageTable } from './describeStorageTable';

describeStorageTable('IdbStorageTable (fake-indexeddb)', (scorer) =>
  IdbStorageTable.open(scorer, { name: 'contract', indexedDB: new IDBFactory(), IDBKeyRange, readBatchSize: 64 }),
);

describeIdbStorageTable('IdbStorageTable (fake-indexeddb)', {
  database: () => ({ indexedDB: new IDBFactory(), IDBKeyRange, dbName: 'test' }),
  randomizedSteps: 600,
});
