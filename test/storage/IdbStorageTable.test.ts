import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { describeStorageTable } from './describeStorageTable';

describeStorageTable('IdbStorageTable (fake-indexeddb)', (scorer) =>
  IdbStorageTable.open(scorer, { name: 'contract', indexedDB: new IDBFactory(), IDBKeyRange, readBatchSize: 64 }),
);
