import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { describeResume } from './describeResume';

const indexedDB = new IDBFactory();

describeResume('IdbStorageTable (fake-indexeddb)', (scorer, dbName) =>
  IdbStorageTable.open(scorer, { name: 'readings', dbName, indexedDB, IDBKeyRange }),
);
