import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { IdbStorageTable } from '../../src/storage/IdbStorageTable';
import { collect, reading, type Reading } from '../support/records';
import { scriptedFeeds } from '../support/ScriptedFeed';
import { TabsWorld, until, type TsSpec } from './TabsWorld';

const ts = (ge: number, lt: number): TsSpec => ({ indexName: 'ts', ge, lt });

describe('exposeSharedCachedTable', () => {
  const worlds: TabsWorld[] = [];
  afterEach(async () => {
    await Promise.allSettled(worlds.splice(0).map((each) => each.dispose()));
  });

  /** Tabs sharing one (fake) IndexedDB, each of whose worker modules follows a scripted feed when it makes the table. */
  function followingWorld() {
    const indexedDB = new IDBFactory();
    const feeds = scriptedFeeds();
    const world: TabsWorld = new TabsWorld({
      storage: (indexes) => IdbStorageTable.open(indexes, { name: 'readings', dbName: world.name, indexedDB, IDBKeyRange }),
      closeStorage: (storage) => (storage as IdbStorageTable<Reading>).close(),
      follow: (table) => void table.followChanges(feeds.open),
    });
    worlds.push(world);
    return { world, feeds };
  }

  describe('followChanges in a shared table', () => {
    it(
      "should follow one feed per origin (the owner's), tell every tab its status, and let the next owner follow on from the stored cursor",
      { timeout: 30_000 },
      async () => {
        const { world, feeds } = followingWorld();
        const [a, b] = [await world.open('A'), await world.open('B')];
        const clientA = a.connect();
        const clientB = b.connect();
        const statusesA: string[] = [];
        const statusesB: string[] = [];
        clientA.onChangeFeedStatus((status) => statusesA.push(status));
        clientB.onChangeFeedStatus((status) => statusesB.push(status));
        await clientB.stats();
        await until(() => feeds.opened.length === 1, 'the owner to open its feed');
        feeds.current.setStatus('live', '1');
        await until(() => statusesA.at(-1) === 'live' && statusesB.at(-1) === 'live', 'every tab to hear that the feed is live');
        await clientB.load(ts(0, 300));

        const owner = world.ownerTable();
        owner.db.upsert(reading(5, 5, 555));
        feeds.current.changes('2', [5, 'upsert']);
        await until(() => feeds.opened.length === 1 && owner.table.stats().refreshes === 1, 'the batch to be applied');
        expect((await clientA.getFirstRecord(ts(5, 6))).value).toBe(555);
        expect(feeds.opened).toHaveLength(1);

        await world.tabs.find((tab) => tab.name === owner.tab)?.kill();
        const survivor = owner.tab === 'A' ? clientB : clientA;
        const survivorStatuses = owner.tab === 'A' ? statusesB : statusesA;
        await until(() => feeds.opened.length === 2, 'the next owner to open its feed');
        expect(feeds.opened[0]?.closed).toBe(true);
        expect(feeds.current.after).toBe('2');
        feeds.current.setStatus('live');
        await until(() => survivorStatuses.at(-1) === 'live', 'the surviving tab to hear that the new feed is live');
        expect(survivorStatuses).toContain('catching-up');
        // Resumed from the cursor: nothing stale, so no refresh and no backend request.
        const next = world.ownerTable();
        const read = await survivor.readRecords(ts(0, 300));
        expect(read).toMatchObject({ from: 'storage', stale: false, refreshed: false });
        expect((await collect(read.records)).find((record) => record.id === 5)?.value).toBe(555);
        expect(next.db.requests).toHaveLength(0);
      },
    );
  });
});
