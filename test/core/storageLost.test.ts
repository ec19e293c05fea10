import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { StorageError } from '../../src/core/errors';
import type { RangeSpec } from '../../src/indexes/RangeIndexes';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { collect, readings, tsIndexes, type Reading } from '../support/records';

const ts = (ge: number, lt: number): RangeSpec<'ts'> => ({ indexName: 'ts', ge, lt });

describe('CachedTable.onStorageLost', () => {
  it("should pass on the IndexedDB storage's loss when another connection upgrades its database, and reads then reject", async () => {
    const indexedDB = new IDBFactory();
    const indexes = tsIndexes();
    const storage = await IdbStorageTable.open(indexes, { name: 'readings', dbName: 'lost', indexedDB, IDBKeyRange });
    const table = new CachedTable(indexes, new MemoryDbAccess(readings(100)), storage);
    await table.load(ts(0, 50));
    const heard: string[] = [];
    const stop = table.onStorageLost((reason) => heard.push(reason));
    table.onStorageLost((reason) => heard.push(`second: ${reason}`));
    stop();
    const upgrade = indexedDB.open('lost', 1000);
    upgrade.onupgradeneeded = () => upgrade.result.createObjectStore('other');
    // Not blocked: the storage closed its connection in its versionchange handler.
    await new Promise((resolve) => (upgrade.onsuccess = resolve));
    upgrade.result.close();
    expect(heard).toEqual(['second: versionchange']);
    await expect(collect(table.getRecords(ts(0, 10)))).rejects.toBeInstanceOf(StorageError);
    // Lost already: a listener added now hears of it at once.
    table.onStorageLost((reason) => heard.push(`late: ${reason}`));
    expect(heard).toEqual(['second: versionchange', 'late: versionchange']);
  });

  it('should never call the listener over a storage that cannot be lost', async () => {
    const indexes = tsIndexes();
    const table = new CachedTable(indexes, new MemoryDbAccess(readings(10)), new MemoryStorageTable<Reading>(indexes));
    const heard: string[] = [];
    const stop = table.onStorageLost((reason) => heard.push(reason));
    await table.load(ts(0, 10));
    stop();
    expect(heard).toEqual([]);
  });
});
