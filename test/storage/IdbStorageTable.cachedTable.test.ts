import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { describeCachedTable } from '../core/describeCachedTable';

describeCachedTable('IdbStorageTable (fake-indexeddb)', (scorer) =>
  IdbStorageTable.open(scorer, { name: 'readings', indexedDB: new IDBFactory(), IDBKeyRange, readBatchSize: 16, writeBatchSize: 16 }),
);
