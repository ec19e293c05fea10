// What IdbStorageTable relies on in the engine it runs in, asserted in each (the `browser` project runs this file in
// Chromium, Firefox and WebKit): where engines differ, the expectation says so per engine, and the library's
// answer to the difference is tested. docs/engines.md describes each point.
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/core/errors';
import { Interval } from '../../src/core/Interval';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import type { Engine } from '../../browsers';
import { currentEngine } from '../engines/knownEngineDifferences';
import { byId, collect, reading, readings, readingScorer, type Reading } from '../support/records';
import { browserTables } from './fixtures/browserTables';

const { track, dbName: newDbName } = browserTables('tablecache-engines');
const engine: Engine = currentEngine();
const everything = () => new StorageRecordsSpec<Reading>('ts', [Interval.everything()]);

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** A raw database with two stores, closed and deleted after the test. */
const raw: { db: IDBDatabase; name: string }[] = [];
afterEach(async () => {
  for (const { db, name } of raw.splice(0)) {
    db.close();
    await request(indexedDB.deleteDatabase(name)).catch(() => undefined);
  }
});
async function rawDatabase(): Promise<IDBDatabase> {
  const name = newDbName('raw');
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => {
    open.result.createObjectStore('rows');
    open.result.createObjectStore('other');
  };
  const db = await request(open);
  raw.push({ db, name });
  return db;
}

describe(`IdbStorageTable in ${engine}: what it relies on`, () => {
  describe('transaction scheduling (the premise of write pacing)', () => {
    it('should run a read-only transaction created during a read-write one on the same store after that one commits, seeing its writes', async () => {
      const db = await rawDatabase();
      const events: string[] = [];
      const write = db.transaction(['rows'], 'readwrite', { durability: 'relaxed' });
      for (let i = 0; i < 2000; i++) write.objectStore('rows').put({ i, pad: 'x'.repeat(200) }, i);
      write.oncomplete = () => events.push('write committed');
      const read = db.transaction(['rows'], 'readonly').objectStore('rows').count();
      read.onsuccess = () => events.push(`read saw ${read.result}`);
      // A read of another store does not wait: the rule is per store, which is why pages and reads share one.
      const other = db.transaction(['other'], 'readonly').objectStore('other').count();
      other.onsuccess = () => events.push('other store read');
      await new Promise<void>((resolve) => (read.transaction!.oncomplete = () => resolve()));
      expect(events).toEqual(['other store read', 'write committed', 'read saw 2000']);
    });

    it('should deliver a small read created after a big read of the same store only after it (the premise of small fill transactions)', async () => {
      const db = await rawDatabase();
      const write = db.transaction(['rows'], 'readwrite');
      for (let i = 0; i < 5000; i++) write.objectStore('rows').put({ i, pad: 'x'.repeat(200) }, i);
      await new Promise<void>((resolve) => (write.oncomplete = () => resolve()));
      const events: string[] = [];
      const big = request(db.transaction(['rows'], 'readonly').objectStore('rows').getAll()).then(() => events.push('big read'));
      const small = request(db.transaction(['rows'], 'readonly').objectStore('rows').get(5)).then(() => events.push('small read'));
      await Promise.all([big, small]);
      expect(events).toEqual(['big read', 'small read']);
    });

    it('should serve a read of the committed state issued during a long staged write before that write ends', async () => {
      const table = track(
        await IdbStorageTable.open(readingScorer, {
          name: 'pacing',
          dbName: newDbName('pacing'),
          memoryRecords: 0,
          recordsPerPage: 64,
          writeBatchSize: 256,
        }),
      );
      await table.putRecords(readings(500));
      const order: string[] = [];
      let startRead!: () => void;
      const writing = new Promise<void>((resolve) => (startRead = resolve));
      async function* source() {
        for (let id = 1000; id < 21_000; id++) {
          if (id === 1300) startRead();
          yield reading(id, id);
        }
      }
      const write = table.scratchPutRecords(source()).then(() => order.push('staged write done'));
      await writing;
      const read = collect(table.getRecords(everything())).then((records) => order.push(`read of ${records.length} done`));
      await Promise.all([write, read]);
      expect(order).toEqual(['read of 500 done', 'staged write done']);
    });
  });

  describe('durability', () => {
    it("should start the table's transactions with relaxed durability, which every engine here honours", async () => {
      const db = await rawDatabase();
      // What IdbConnection.transaction asks for; an engine without the option would ignore the dictionary.
      const transaction = db.transaction(['rows'], 'readwrite', { durability: 'relaxed' });
      expect((transaction as IDBTransaction & { durability?: string }).durability).toBe('relaxed');
      expect((db.transaction(['rows'], 'readwrite') as IDBTransaction & { durability?: string }).durability).toBe('default');
    });
  });

  describe('structured clone', () => {
    it('should store and hand back Dates, Maps, Sets, typed arrays, BigInts and RegExps inside records', async () => {
      const table = track(await IdbStorageTable.open(readingScorer, { name: 'clone', dbName: newDbName('clone'), memoryRecords: 0 }));
      const rich = {
        ...reading(1, 1),
        at: new Date(5),
        tags: new Map([['a', 1]]),
        seen: new Set([2]),
        samples: new Float64Array([1.5]),
        big: 10n ** 20n,
        match: /x/g,
      };
      await table.putRecords([rich]);
      const [back] = (await collect(table.getRecords(everything()))) as (typeof rich)[];
      expect(back).toEqual(rich);
      expect(back?.at).toBeInstanceOf(Date);
      expect(back?.samples).toBeInstanceOf(Float64Array);
    });

    it(
      engine === 'webkit'
        ? 'should reject a batch holding a Blob with a StorageError that says WebKit did not store it, and write nothing of that batch'
        : 'should store a record holding a Blob and hand it back as a Blob',
      async () => {
        const table = track(await IdbStorageTable.open(readingScorer, { name: 'blob', dbName: newDbName('blob') }));
        await table.putRecords(readings(3));
        const withBlob = { ...reading(10, 10), attachment: new Blob(['hello']) };
        const written = await table.putRecords([reading(9, 9), withBlob]).then(
          () => undefined,
          (error: unknown) => error,
        );
        if (engine === 'webkit') {
          // WebKitGTK's automation session is ephemeral, like Safari's private browsing: no Blobs in IndexedDB.
          expect(written).toBeInstanceOf(StorageError);
          expect(written).toMatchObject({ operation: 'putRecords', message: /holds a Blob or File/ });
          expect((written as StorageError).cause).toBeInstanceOf(DOMException);
          expect(byId(await collect(table.getRecords(everything())))).toEqual(readings(3));
          await table.putRecords([reading(9, 9)]);
          expect(byId(await collect(table.getRecords(everything())))).toEqual([...readings(3), reading(9, 9)]);
        } else {
          expect(written).toBeUndefined();
          const back = (await collect(table.getRecords(everything()))).find((record) => record.id === 10) as typeof withBlob | undefined;
          expect(back?.attachment).toBeInstanceOf(Blob);
          expect(await back?.attachment.text()).toBe('hello');
        }
      },
    );
  });

  describe('versionchange', () => {
    it('should close the table at once when another connection deletes the database, so the delete never reports blocked', async () => {
      const dbName = newDbName('delete');
      const table = await IdbStorageTable.open(readingScorer, { name: 'deleted', dbName });
      await table.putRecords(readings(3));
      const events: string[] = [];
      const deletion = indexedDB.deleteDatabase(dbName);
      deletion.onblocked = () => events.push('blocked');
      await request(deletion);
      events.push('deleted');
      expect(events).toEqual(['deleted']);
      await expect(table.putRecords([reading(5, 5)])).rejects.toThrow(/closed: another connection is upgrading or deleting/);
    });
  });

  describe('Web Locks', () => {
    it('should open and write without Web Locks where navigator.locks is missing or has no request()', async () => {
      for (const locks of [undefined, {}]) {
        Object.defineProperty(navigator, 'locks', { value: locks, configurable: true });
        try {
          const table = track(await IdbStorageTable.open(readingScorer, { name: 'no-locks', dbName: newDbName('no-locks') }));
          await table.putRecords(readings(2));
          expect(await collect(table.getRecords(everything()))).toHaveLength(2);
        } finally {
          delete (navigator as { locks?: unknown }).locks;
        }
      }
      expect(typeof navigator.locks.request).toBe('function');
    });

    it('should give up waiting for the lock after lockTimeout where AbortSignal.timeout is missing (Safari before 16)', async () => {
      const dbName = newDbName('lock');
      const first = track(await IdbStorageTable.open(readingScorer, { name: 'first', dbName }));
      const timeout = Object.getOwnPropertyDescriptor(AbortSignal, 'timeout') as PropertyDescriptor;
      Object.defineProperty(AbortSignal, 'timeout', { value: undefined, configurable: true, writable: true });
      try {
        await expect(IdbStorageTable.open(readingScorer, { name: 'second', dbName, lockTimeout: 50 })).rejects.toThrow(
          /held by another IdbStorageTable/,
        );
      } finally {
        Object.defineProperty(AbortSignal, 'timeout', timeout);
      }
      first.close();
    });
  });

  describe('SharedWorker', () => {
    it('should exist in every engine here (Chrome for Android lacks it: the tabs suite covers the fallback to Web Locks)', () => {
      expect(typeof SharedWorker).toBe('function');
    });
  });
});
