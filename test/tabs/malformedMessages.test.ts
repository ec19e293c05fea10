import { afterEach, describe, expect, it } from 'vitest';
import { inboxChannelName, tableChannelName } from '../../src/tabs/tabNames';
import { postMalformedConnects } from '../worker/fixtures/malformedConnectMessages';
import { TabsWorld, until, type TsSpec } from './TabsWorld';

const ts = (ge: number, lt: number): TsSpec => ({ indexName: 'ts', ge, lt });

/** Resolves once messages posted so far have been delivered (a few macrotasks). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

const badError = { type: 'tablecache-web:error', kind: 'registered', className: 'TableCacheError', name: 'x', message: 'm', fields: null };

/** Messages on the table's channel that no node sends: wrong types, missing fields, a bad serialized error. */
function malformedChannelMessages(): unknown[] {
  return [
    null,
    'hello',
    42,
    [],
    { protocol: 1 },
    { protocol: 1, from: 5, version: 1, kind: 'owner', loaded: true },
    { protocol: 1, from: 'someone', version: '9', kind: 'hello' },
    { protocol: 1, from: 'someone', version: 2.5, kind: 'hello' },
    { protocol: 1, from: 'someone', version: 1, kind: 'owner', loaded: 'yes' },
    { protocol: 1, from: 'someone', version: 1, kind: 'shutdown', error: null },
    { protocol: 1, from: 'someone', version: 1, kind: 'shutdown', error: badError },
    { protocol: 1, from: 'someone', version: 1, kind: 'takeover' },
  ];
}

/** Messages to a node's inbox that no node sends. */
function malformedInboxMessages(owner: string): unknown[] {
  return [
    null,
    { protocol: 1, kind: 'request' },
    { protocol: 1, kind: 'request', from: 'someone', requestId: 'x', connection: {}, method: 'stats', args: 5, progress: 'yes' },
    { protocol: 1, kind: 'request', from: 'someone', requestId: 1, connection: 1, method: 'constructor', args: [], progress: false },
    { protocol: 1, kind: 'request', from: 'someone', requestId: 1, connection: 1, method: 'stats', args: null, progress: false },
    { protocol: 1, kind: 'reply', from: owner, requestId: 'x', value: 1 },
    { protocol: 1, kind: 'reply', from: owner, requestId: 1, error: badError },
    { protocol: 1, kind: 'progress', from: owner, requestId: 1, progress: null },
    { protocol: 1, kind: 'progress', from: owner, requestId: 1, progress: { loaded: 1, expired: 0, total: 'all' } },
    { protocol: 1, kind: 'update', from: owner, connection: 1, message: null },
    { protocol: 1, kind: 'update', from: owner, connection: 1, message: { type: 'records', subscriptionId: 1, records: 'many' } },
    { protocol: 1, kind: 'update', from: owner, connection: 1, message: { type: 'error', subscriptionId: 1, error: {} } },
  ];
}

describe('exposeSharedCachedTable', () => {
  const worlds: TabsWorld[] = [];
  const world = () => {
    const made = new TabsWorld();
    worlds.push(made);
    return made;
  };
  afterEach(async () => {
    await Promise.allSettled(worlds.splice(0).map((each) => each.dispose()));
  });

  describe('malformed messages', () => {
    it('should ignore malformed connect messages: no connection is opened, and close() resolves', async () => {
      const tabs = world();
      const a = await tabs.open('A');
      postMalformedConnects(a.endpoint);
      await settle();
      expect(a.exposed.connections).toBe(0);
      const client = a.connect();
      await client.load(ts(0, 10));
      expect([a.exposed.connections, a.exposed.hostedConnections]).toEqual([1, 1]);
      await client.close();
      await expect(a.exposed.close()).resolves.toBeUndefined();
    });

    it("should ignore malformed messages on the table's channel and the inboxes, and keep serving and electing", async () => {
      const tabs = world();
      const [a, b] = [await tabs.open('A'), await tabs.open('B')];
      const [clientA, clientB] = [a.connect(), b.connect()];
      await clientB.load(ts(0, 10));
      const channel = new BroadcastChannel(tableChannelName(tabs.name));
      const inboxes = [a, b].map((tab) => new BroadcastChannel(inboxChannelName(tabs.name, tab.exposed.nodeId)));
      try {
        for (const message of malformedChannelMessages()) channel.postMessage(message);
        for (const inbox of inboxes) for (const message of malformedInboxMessages(a.exposed.nodeId)) inbox.postMessage(message);
        await settle();
        expect([a.exposed.role, b.exposed.role]).toEqual(['owner', 'follower']);
        expect((await clientB.stats()).loaded).toBe(10);
        expect((await clientA.stats()).loaded).toBe(10);
        expect(a.exposed.hostedConnections).toBe(2);

        await a.kill();
        await until(() => b.exposed.role === 'owner', 'B to take over');
        // Each tab has a storage of its own here: the new owner's table starts empty.
        await clientB.load(ts(0, 5));
        expect((await clientB.stats()).loaded).toBe(5);
      } finally {
        channel.close();
        for (const inbox of inboxes) inbox.close();
      }
    });

    it('should find the real owner again after a message naming an owner that does not exist', async () => {
      const tabs = world();
      const [a, b] = [await tabs.open('A'), await tabs.open('B')];
      const clientB = b.connect();
      await clientB.load(ts(0, 10));
      const channel = new BroadcastChannel(tableChannelName(tabs.name));
      try {
        channel.postMessage({ protocol: 1, from: 'no-such-node', version: 1, kind: 'owner', loaded: true });
        await settle();
        expect(a.exposed.role).toBe('owner');
        expect((await clientB.stats()).loaded).toBe(10);
        expect(b.exposed.role).toBe('follower');
      } finally {
        channel.close();
      }
    });
  });
});
