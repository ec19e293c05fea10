import { describe, expect, it } from 'vitest';
import { Interval } from '../../src/core/Interval';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { byId, collect, readings, readingScorer } from '../support/records';
import { describeStorageTable } from './describeStorageTable';
import { browserTables } from './fixtures/browserTables';
import { describeIdbStorageTable } from './fixtures/describeIdbStorageTable';

const { open, track, dbName: newDbName } = browserTables('tablecache-test', { readBatchSize: 64 });
const { open: openWithoutMemory } = browserTables('tablecache-test-idb', { readBatchSize: 64, memoryRecords: 0 });

// Reads served from the in-memory copy (the default) and from IndexedDB itself.
describeStorageTable('IdbStorageTable (real browser)', open);
describeStorageTable('IdbStorageTable (real browser, memoryRecords 0)', openWithoutMemory);

for (const memoryRecords of [undefined, 0]) {
  describeIdbStorageTable('IdbStorageTable (real browser)', {
    database: () => ({ indexedDB, IDBKeyRange, dbName: newDbName('specifics') }),
    randomizedSteps: 150,
    memoryRecords,
  });
}

describe('IdbStorageTable (real browser, one writer per database)', () => {
  describe('open', () => {
    it('should refuse a second table of an open database after lockTimeout, and open it once the first closes', async () => {
      const dbName = newDbName('lock');
      const first = track(await IdbStorageTable.open(readingScorer, { name: 'first', dbName }));
      await expect(IdbStorageTable.open(readingScorer, { name: 'second', dbName, lockTimeout: 0 })).rejects.toThrow(
        /held by another IdbStorageTable/,
      );
      await first.putRecords(readings(3));
      const third = IdbStorageTable.open(readingScorer, { name: 'third', dbName, lockTimeout: 30_000 });
      first.close();
      const table = track(await third);
      expect(byId(await collect(table.getRecords(new StorageRecordsSpec('ts', [Interval.everything()]))))).toEqual(readings(3));
    });
  });
});
