import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { describeCachedTable } from '../core/describeCachedTable';

// Reads served from the in-memory copy (the default) and from IndexedDB itself, in pages of 8 records.
for (const memoryRecords of [undefined, 0]) {
  const variant = memoryRecords === undefined ? '' : `, memoryRecords ${memoryRecords}`;
  describeCachedTable(`IdbStorageTable (fake-indexeddb${variant})`, (scorer) =>
    IdbStorageTable.open(scorer, {
      name: 'readings',
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      readBatchSize: 16,
      writeBatchSize: 16,
      recordsPerPage: 8,
      memoryRecords,
    }),
  );
}
