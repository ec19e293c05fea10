import { releaseProxy, wrap } from 'comlink';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { DbAccessError, TableCacheError } from '../../src/core/errors';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import type { SharedConnectMessage } from '../../src/tabs/broadcastProtocol';
import { newConnection } from '../../src/worker/endpoint';
import { exposeSharedCachedTable } from '../../src/tabs/exposeSharedCachedTable';
import type { TableSessionApi } from '../../src/worker/protocol';
import { TableOwnerLostError } from '../../src/tabs/TableOwnerLostError';
import { UpdateQueue } from '../worker/describeTableClient';
import { byId, collect, reading, type Reading } from '../support/records';
import { FakeLockRegistry } from './FakeLocks';
import { TabsWorld, until, type TsSpec } from './TabsWorld';

const ts = (ge: number, lt: number): TsSpec => ({ indexName: 'ts', ge, lt });
const ids = (records: readonly Reading[]) => byId(records).map((record) => record.id);
const range = (ge: number, lt: number) => Array.from({ length: lt - ge }, (_, i) => ge + i);

/** Tabs whose tables live in one (fake) IndexedDB, as the tabs of one origin share theirs. */
function idbWorld(indexedDB = new IDBFactory()): TabsWorld {
  const world: TabsWorld = new TabsWorld({
    storage: (indexes) => IdbStorageTable.open(indexes, { name: 'readings', dbName: world.name, indexedDB, IDBKeyRange }),
    closeStorage: (storage) => (storage as IdbStorageTable<Reading>).close(),
  });
  return world;
}

describe('exposeSharedCachedTable', () => {
  const worlds: TabsWorld[] = [];
  const world = (made: TabsWorld = new TabsWorld()) => {
    worlds.push(made);
    return made;
  };
  afterEach(async () => {
    await Promise.allSettled(worlds.splice(0).map((each) => each.dispose()));
  });

  describe('ownership', () => {
    it('should open the table in one tab only and serve every tab from it', async () => {
      const tabs = world();
      const [a, b, c] = [await tabs.open('A'), await tabs.open('B'), await tabs.open('C')];
      expect([a.exposed.role, b.exposed.role, c.exposed.role]).toEqual(['owner', 'follower', 'follower']);
      const [clientA, clientB, clientC] = [a.connect(), b.connect(), c.connect()];
      await clientB.load(ts(0, 500));
      expect(ids(await collect(clientC.getRecords(ts(10, 20))))).toEqual(range(10, 20));
      await collect(clientA.getRecords(ts(20, 30)));
      const stats = await Promise.all([clientA.stats(), clientB.stats(), clientC.stats()]);
      expect(stats[0]?.reads.cacheHit).toBe(2);
      expect(stats[1]).toEqual(stats[0]);
      expect(stats[2]).toEqual(stats[0]);
      expect(tabs.opened.map((opened) => opened.tab)).toEqual(['A']);
      expect(a.exposed.hostedConnections).toBe(3);
    });

    it("should resolve resume() once another tab has loaded the table, and reject load() as one tab's table does", async () => {
      const tabs = world();
      const [a, b] = [await tabs.open('A'), await tabs.open('B')];
      const [clientA, clientB] = [a.connect(), b.connect()];
      await expect(clientA.resume()).rejects.toThrow(/nothing to resume/);
      await clientA.load(ts(0, 100));
      await clientB.resume();
      await expect(clientB.load(ts(0, 100))).rejects.toThrow(/already loaded/);
    });

    it('should let resume() in one tab wait for a load in progress in another', async () => {
      const tabs = world();
      const [a, b] = [await tabs.open('A'), await tabs.open('B')];
      const [clientA, clientB] = [a.connect(), b.connect()];
      await clientA.stats();
      const release = tabs.ownerTable().db.hold();
      const loading = clientA.load(ts(0, 100));
      const resuming = clientB.resume();
      await until(() => tabs.ownerTable().db.requests.length === 1, 'the load to reach the backend');
      release();
      await Promise.all([loading, resuming]);
      expect((await clientB.stats()).loaded).toBe(100);
    });

    it('should update the subscriptions of every tab after an adjust or an invalidation made in one', async () => {
      const tabs = world();
      const [a, b] = [await tabs.open('A'), await tabs.open('B')];
      const [clientA, clientB] = [a.connect(), b.connect()];
      await clientA.load(ts(0, 100));
      const inA = new UpdateQueue<Reading>();
      const inB = new UpdateQueue<Reading>();
      clientA.subscribe(ts(40, 60), inA.listener);
      clientB.subscribe(ts(40, 60), inB.listener);
      expect((await inB.nextRecords()).records).toHaveLength(20);
      await inA.nextRecords();

      tabs.ownerTable().db.upsert(reading(45, 45, 4545));
      await clientA.invalidateRecords([ts(45, 46)], [ts(45, 46)]);
      const invalidated = await inB.nextRecords();
      expect(invalidated.records.find((record) => record.id === 45)?.value).toBe(4545);
      await inA.nextRecords();

      await clientA.adjust(ts(50, 200));
      const adjusted = await inB.nextRecords();
      expect(adjusted.from).toBe('mixed');
      expect(ids(adjusted.records)).toEqual(range(40, 60));
    });

    it('should serve the calls made before the owner is known', async () => {
      const tabs = world();
      const a = await tabs.open('A');
      const locks = tabs.locks.context();
      const { port1, port2 } = new MessageChannel();
      const exposed = exposeSharedCachedTable(async () => a.exposed as never, { name: tabs.name, locks, target: port2 });
      try {
        const early = wrapSession(port1);
        const stats = early.remote.stats();
        expect(exposed.role).toBe('starting');
        await a.connect().load(ts(0, 10));
        expect((await stats).loaded).toBe(10);
        early.close();
      } finally {
        await exposed.close();
        port1.close();
      }
    });
  });

  describe('handover', () => {
    it('should let another tab take over when the owner goes away, resuming every committed record', async () => {
      const tabs = world(idbWorld());
      const [a, b, c] = [await tabs.open('A'), await tabs.open('B'), await tabs.open('C')];
      const clientB = b.connect();
      const clientC = c.connect();
      await clientB.load(ts(0, 300));
      await clientC.adjust(ts(100, 600));
      await a.kill();
      await until(() => tabs.opened.length === 2, 'a new owner to open the table');
      const owner = tabs.ownerTable();
      // The backend is unreachable: what the new owner serves comes from the storage the old one committed.
      owner.db.failNext(new DbAccessError('offline', { offline: true }));
      const read = await clientC.readRecords(ts(100, 600));
      expect(read).toMatchObject({ from: 'storage', stale: true });
      expect(ids(await collect(read.records))).toEqual(range(100, 600));
      expect(tabs.opened.map((opened) => opened.tab)).toEqual(['A', owner.tab]);
      expect(await clientB.stats()).toEqual(await clientC.stats());
    });

    it('should repeat a read that was in flight on the next owner', async () => {
      const tabs = world(idbWorld());
      const [a, b] = [await tabs.open('A'), await tabs.open('B')];
      const clientB = b.connect();
      await clientB.load(ts(0, 100));
      tabs.ownerTable().db.hold();
      const reading = collect(clientB.getRecords(ts(500, 520)));
      await until(() => tabs.ownerTable().db.requests.length === 2, 'the read to reach the backend');
      await a.kill();
      expect(ids(await reading)).toEqual(range(500, 520));
      expect(b.exposed.role).toBe('owner');
    });

    it('should reject an adjust that was in flight with a TableOwnerLostError saying it may or may not have been applied', async () => {
      const tabs = world(idbWorld());
      const [a, b] = [await tabs.open('A'), await tabs.open('B')];
      const clientB = b.connect();
      await clientB.load(ts(0, 100));
      tabs.ownerTable().db.hold();
      const adjusting = clientB.adjust(ts(0, 200));
      await until(() => tabs.ownerTable().db.requests.length === 2, 'the adjust to reach the backend');
      await a.kill();
      const error = await adjusting.catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(TableOwnerLostError);
      expect(error).toMatchObject({ method: 'adjust', mayHaveApplied: true });
      expect((error as Error).message).toMatch(/may or may not have been applied/);
      // The new owner resumed the state before it, and serves the next adjust.
      await clientB.adjust(ts(0, 200));
      expect(ids(await collect(clientB.getRecords(ts(150, 160))))).toEqual(range(150, 160));
    });

    it('should reject the rest of a read cut off by the owner going away', async () => {
      const tabs = world(idbWorld());
      const [a, b] = [await tabs.open('A'), await tabs.open('B')];
      const clientB = b.connect();
      await clientB.load(ts(0, 100));
      const iterator = clientB.getRecords(ts(0, 100), { batchSize: 10 })[Symbol.asyncIterator]();
      await iterator.next();
      await a.kill();
      const drain = async () => {
        for (;;) if ((await iterator.next()).done) return;
      };
      const error = await drain().catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(TableOwnerLostError);
      expect(error).toMatchObject({ method: 'getRecords', mayHaveApplied: false });
      expect(ids(await collect(clientB.getRecords(ts(0, 100))))).toEqual(range(0, 100));
    });

    it('should re-attach the subscriptions of every tab to the next owner', async () => {
      const tabs = world(idbWorld());
      const [a, b, c] = [await tabs.open('A'), await tabs.open('B'), await tabs.open('C')];
      const [clientB, clientC] = [b.connect(), c.connect()];
      await clientB.load(ts(0, 100));
      const inC = new UpdateQueue<Reading>();
      clientC.subscribe(ts(10, 20), inC.listener);
      expect((await inC.nextRecords()).from).toBe('storage');
      await a.kill();
      // Re-attached: a fresh result from the new owner, then the changes made there.
      expect(ids((await inC.nextRecords()).records)).toEqual(range(10, 20));
      await clientB.adjust(ts(15, 100));
      const adjusted = await inC.nextRecords();
      expect(adjusted.from).toBe('mixed');
      expect(ids(adjusted.records)).toEqual(range(10, 20));
    });
  });

  describe('versions', () => {
    it('should close the connections of an older version once a newer one starts, saying to reload', async () => {
      const tabs = world();
      const [a, b] = [await tabs.open('A'), await tabs.open('B')];
      const [clientA, clientB] = [a.connect(), b.connect()];
      await clientA.load(ts(0, 100));
      const inB = new UpdateQueue<Reading>();
      clientB.subscribe(ts(0, 10), inB.listener);
      await inB.nextRecords();
      const newer = await tabs.open('new', { version: 2 });
      expect(newer.exposed.role).toBe('owner');
      const update = await inB.next();
      expect(update.error).toBeInstanceOf(TableCacheError);
      expect(update.error?.message).toMatch(/version 2 of the app is open in another tab.*Reload this page/);
      await expect(clientA.stats()).rejects.toThrow(/Reload this page/);
      expect([a.exposed.role, b.exposed.role]).toEqual(['closed', 'closed']);
      const clientNew = newer.connect();
      await expect(clientNew.resume()).rejects.toThrow(/nothing to resume/);
    });

    it("should close every tab's connections when another connection upgrades the table's database, heard from the table itself", async () => {
      const indexedDB = new IDBFactory();
      const tabs = world(idbWorld(indexedDB));
      const [a, b] = [await tabs.open('A'), await tabs.open('B')];
      const [clientA, clientB] = [a.connect(), b.connect()];
      await clientA.load(ts(0, 100));
      const inB = new UpdateQueue<Reading>();
      clientB.subscribe(ts(0, 10), inB.listener);
      await inB.nextRecords();
      // A newer app that does not share the table, opening its database at a higher version (no second connection watches it).
      const upgrade = indexedDB.open(tabs.name, 1000);
      upgrade.onupgradeneeded = () => upgrade.result.createObjectStore('other');
      await new Promise((resolve) => (upgrade.onsuccess = resolve));
      upgrade.result.close();
      const update = await inB.next();
      expect(update.error).toBeInstanceOf(TableCacheError);
      expect(update.error?.message).toMatch(/another connection is upgrading or deleting its IndexedDB database.*Reload this page/);
      await expect(clientA.stats()).rejects.toThrow(/Reload this page/);
      await until(() => a.exposed.role === 'closed' && b.exposed.role === 'closed', 'both tabs to close');
    });
  });

  describe('connections of a shared worker', () => {
    it('should close the connection of a page that went away without closing it', async () => {
      const tabs = world();
      const a = await tabs.open('A');
      await a.connect().load(ts(0, 10));
      const page = tabs.locks.context();
      const pageLock = await new Promise<string>((resolve) => {
        void page.request('page-lock', {}, () => {
          resolve('page-lock');
          // Held until the page goes away.
          return new Promise<void>(() => {});
        });
      });
      const session = wrapSession(a.endpoint, pageLock);
      await session.remote.stats();
      expect(a.exposed.hostedConnections).toBe(2);
      page.kill();
      await until(() => a.exposed.hostedConnections === 1, 'the page connection to close');
      session.close();
    });

    it("should close the connection of a client whose ports closed without close(), cancelling its read's backend fetch on the owner", async () => {
      const tabs = world();
      const [a, b] = [await tabs.open('A'), await tabs.open('B')];
      await a.connect().load(ts(0, 10));
      const session = wrapSession(b.endpoint);
      const opened = await session.remote.openRead(ts(50, 100), 5);
      expect([opened.from, opened.done]).toEqual(['db', false]);
      expect([a.exposed.hostedConnections, b.exposed.connections]).toEqual([2, 1]);
      const db = tabs.ownerTable().db;
      expect(db.cancelled).toBe(0);
      session.goAway();
      await until(() => db.cancelled === 1, 'the backend fetch to be cancelled', 3000);
      await until(() => b.exposed.connections === 0 && a.exposed.hostedConnections === 1, 'the connection to close', 3000);
    });
  });

  it('should throw a TableCacheError without Web Locks, or for a version that is not a whole number', () => {
    const { port1, port2 } = new MessageChannel();
    try {
      expect(() => exposeSharedCachedTable(() => Promise.reject(new Error('never')), { name: 'x', target: port2 })).toThrow(
        TableCacheError,
      );
      expect(() =>
        exposeSharedCachedTable(() => Promise.reject(new Error('never')), {
          name: 'x',
          version: 1.5,
          locks: new FakeLockRegistry().context(),
          target: port2,
        }),
      ).toThrow(TableCacheError);
    } finally {
      port1.close();
      port2.close();
    }
  });
});

/** A raw session (Comlink) on `endpoint`, connected like a client would, optionally naming the page's lifetime lock. */
function wrapSession(
  endpoint: MessagePort,
  pageLock?: string,
): { remote: ReturnType<typeof wrap<TableSessionApi<Reading>>>; close(): void; goAway(): void } {
  const { message, transfer, sessionPort, updatesPort } = newConnection();
  endpoint.postMessage((pageLock ? { ...message, pageLock } : message) satisfies SharedConnectMessage, transfer);
  const remote = wrap<TableSessionApi<Reading>>(sessionPort);
  return {
    remote,
    close: () => {
      remote[releaseProxy]();
      sessionPort.close();
      updatesPort.close();
    },
    /** The client's context goes away: its ports close, without a word on the session. */
    goAway: () => {
      sessionPort.close();
      updatesPort.close();
    },
  };
}
