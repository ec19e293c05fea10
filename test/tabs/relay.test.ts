import { expose, wrap } from 'comlink';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { describeTableClient } from '../worker/describeTableClient';
import { CountingStorageTable } from '../worker/fixtures/CountingStorageTable';
import { sampleErrors } from '../worker/fixtures/sampleErrors';
import { fixtureRecordCount, type FixtureControl } from '../worker/fixtures/tableFixture';
import { TabsWorld, type Tab } from './TabsWorld';

// The whole client contract, through a follower tab's worker whose calls the owner's worker serves over BroadcastChannels.
describeTableClient("a follower tab's worker, relaying to the owner's over BroadcastChannels", async () => {
  let world!: TabsWorld;
  let owner!: Tab;
  let follower!: Tab;
  const start = async () => {
    world = new TabsWorld({
      records: fixtureRecordCount,
      storage: (indexes) => new CountingStorageTable(new MemoryStorageTable(indexes, { name: 'readings' })),
    });
    owner = await world.open('owner');
    follower = await world.open('follower');
  };
  await start();
  let release: (() => void) | null = null;
  const control: FixtureControl = {
    async reset() {
      release?.();
      release = null;
      await world.dispose();
      await start();
    },
    async counts() {
      const { db, storage } = world.ownerTable();
      return {
        storage: { ...(storage as CountingStorageTable<unknown>).counts },
        dbRequests: db.requests.length,
        dbCancelled: db.cancelled,
        connections: owner.exposed.hostedConnections,
      };
    },
    async failNext(name, after = 0) {
      world.ownerTable().db.failNext(sampleErrors[name](), after);
    },
    async upsert(records) {
      world.ownerTable().db.upsert(...records);
    },
    async holdBackend() {
      release = world.ownerTable().db.hold();
    },
    async releaseBackend() {
      release?.();
      release = null;
    },
    async tellTotals() {
      world.ownerTable().db.tellsTotal = true;
    },
  };
  const controlChannel = new MessageChannel();
  expose(control, controlChannel.port2);
  return {
    endpoint: { postMessage: (message, transfer) => follower.endpoint.postMessage(message, transfer) },
    control: wrap<FixtureControl>(controlChannel.port1),
    dispose: async () => {
      await world.dispose();
      controlChannel.port1.close();
      controlChannel.port2.close();
    },
  };
});
