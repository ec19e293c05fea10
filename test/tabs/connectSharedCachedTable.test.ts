import { afterEach, describe, expect, it } from 'vitest';
import { TableCacheError } from '../../src/core/errors';
import { connectSharedCachedTable } from '../../src/tabs/connectSharedCachedTable';
import type { SharedCachedTableClient } from '../../src/tabs/SharedCachedTableClient';
import type { Reading } from '../support/records';
import { TabsWorld, type TsSpec } from './TabsWorld';

describe('connectSharedCachedTable', () => {
  const worlds: TabsWorld[] = [];
  const clients: SharedCachedTableClient<Reading, TsSpec>[] = [];
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    await Promise.allSettled(worlds.splice(0).map((world) => world.dispose()));
  });

  it("should use this tab's own worker where SharedWorker is missing, and say so", async () => {
    const world = new TabsWorld();
    worlds.push(world);
    const owner = await world.open('A');
    const follower = await world.open('B');
    const viaOwner = connectSharedCachedTable<Reading, TsSpec>({ worker: () => owner.endpoint as unknown as Worker });
    const viaFollower = connectSharedCachedTable<Reading, TsSpec>({ worker: () => follower.endpoint as unknown as Worker });
    clients.push(viaOwner, viaFollower);
    expect(typeof SharedWorker).toBe('undefined');
    expect([viaOwner.mode, viaFollower.mode]).toEqual(['web-locks', 'web-locks']);
    await viaFollower.load({ indexName: 'ts', ge: 0, lt: 10 });
    await viaOwner.resume();
    expect((await viaOwner.stats()).loaded).toBe(10);
  });

  it("should connect through a shared worker's port in 'shared-worker' mode", async () => {
    const world = new TabsWorld();
    worlds.push(world);
    const shared = await world.open('shared');
    const sharedWorker = { port: shared.endpoint } as unknown as SharedWorker;
    const client = connectSharedCachedTable<Reading, TsSpec>({ mode: 'shared-worker', sharedWorker: () => sharedWorker });
    clients.push(client);
    expect(client.mode).toBe('shared-worker');
    expect(client.worker).toBe(sharedWorker);
    await client.load({ indexName: 'ts', ge: 0, lt: 5 });
    expect((await client.stats()).loaded).toBe(5);
  });

  it('should throw a TableCacheError when the factory of the chosen mode is missing, or for a bad batchSize', () => {
    expect(() => connectSharedCachedTable({})).toThrow(TableCacheError);
    expect(() => connectSharedCachedTable({ mode: 'shared-worker', worker: () => ({}) as Worker })).toThrow(/sharedWorker option/);
    expect(() => connectSharedCachedTable({ worker: () => ({}) as Worker, batchSize: 0 })).toThrow(TableCacheError);
  });
});
