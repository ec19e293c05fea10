import { wrap } from 'comlink';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CachedTableClient } from '../../src/worker/CachedTableClient';
import { DEFAULT_BATCH_SIZE } from '../../src/worker/batchSize';
import { connectCachedTable } from '../../src/worker/connectCachedTable';
import { itInEngines } from '../engines/knownEngineDifferences';
import { collect, type Reading } from '../support/records';
import { describeTableClient, UpdateQueue, type ClientHarness } from './describeTableClient';
import type { SharedConnectMessage } from '../../src/tabs/broadcastProtocol';
import { PROTOCOL_VERSION, type TableSessionApi } from '../../src/worker/protocol';
import { connectFixtureControl, fixtureRecordCount, type FixtureCounts, type TsSpec } from './fixtures/tableFixture';

const ts = (ge: number, lt: number): TsSpec => ({ indexName: 'ts', ge, lt });

async function startFixtureWorker(): Promise<ClientHarness> {
  const worker = new Worker(new URL('./fixtures/table.worker.ts', import.meta.url), { type: 'module' });
  const failure = new Promise<never>((_, reject) =>
    worker.addEventListener('error', (event) => reject(new Error(`the fixture worker failed: ${event.message}`)), { once: true }),
  );
  failure.catch(() => {});
  const { control, close } = connectFixtureControl(worker);
  await Promise.race([control.counts(), failure]);
  return {
    endpoint: worker,
    control,
    dispose: async () => {
      await control.reset();
      close();
      worker.terminate();
    },
  };
}

describeTableClient('a module Worker in the browser (IdbStorageTable)', startFixtureWorker);

describe('CachedTableClient over a module Worker in the browser, with 20k records', () => {
  let harness: ClientHarness;
  let client: CachedTableClient<Reading, TsSpec>;

  beforeAll(async () => {
    harness = await startFixtureWorker();
    await harness.control.reset();
    client = connectCachedTable<Reading, TsSpec>(harness.endpoint);
    await client.load(ts(0, fixtureRecordCount));
  });
  afterAll(async () => {
    await client.close();
    await harness.dispose();
  });
  beforeEach(async () => {
    await client.refreshInvalid();
  });

  describe('getRecords', () => {
    it('should stream all 20k records from storage in default batches', async () => {
      const before = (await harness.control.counts()).storage;
      const records = await collect(client.getRecords(ts(0, fixtureRecordCount)));
      expect(records).toHaveLength(fixtureRecordCount);
      expect(new Set(records.map((record) => record.id)).size).toBe(fixtureRecordCount);
      const after = (await harness.control.counts()).storage;
      expect(after.finished - before.finished).toBe(1);
    });

    it('should release the worker-side read of 20k records when the loop breaks after 1000', async () => {
      const before = (await harness.control.counts()).storage;
      let seen = 0;
      for await (const _record of client.getRecords(ts(0, fixtureRecordCount))) {
        if (++seen === 1000) break;
      }
      const after = (await harness.control.counts()).storage;
      expect(after.closedEarly - before.closedEarly).toBe(1);
      expect(after.finished - before.finished).toBe(0);
      // The batches consumed, and at most two more pulled ahead.
      expect(after.recordsYielded - before.recordsYielded).toBeLessThanOrEqual(1000 + 2 * DEFAULT_BATCH_SIZE);
    });
  });

  describe('subscribe', () => {
    itInEngines('should fire on an adjust and on an invalidation then refresh, but not on an unrelated adjust', async () => {
      const updates = new UpdateQueue<Reading>();
      const unsubscribe = client.subscribe(ts(100, 200), updates.listener);
      expect((await updates.nextRecords()).records).toHaveLength(100);

      await client.adjust(ts(150, fixtureRecordCount));
      const adjusted = await updates.nextRecords();
      expect(adjusted).toMatchObject({ from: 'mixed', counts: { storage: 50, db: 50 } });

      const readsBefore = (await client.stats()).reads;
      await client.adjust(ts(150, 10_000));
      await harness.control.upsert([{ id: 160, sensor: 's1', ts: 160, value: -1 }]);
      await client.invalidateRecords([ts(160, 161)], [ts(160, 161)], { forceRefreshOnNextRead: false });
      await client.refreshInvalid();
      const refreshed = await updates.nextRecords();
      expect(refreshed.records.find((record) => record.id === 160)?.value).toBe(-1);
      expect(updates.received).toHaveLength(3);
      const readsAfter = (await client.stats()).reads;
      expect(readsAfter.partialHit - readsBefore.partialHit).toBe(1);
      unsubscribe();
    });
  });
});

describe('exposeCachedTable in a module Worker in Chromium', () => {
  describe('a client that goes away without closing', () => {
    let harness: ClientHarness;
    beforeAll(async () => {
      harness = await startFixtureWorker();
      await harness.control.reset();
    });
    /** What the client of the test below holds, kept reachable to the end of the suite. */
    const clientObjects: unknown[] = [];
    afterAll(async () => {
      clientObjects.length = 0;
      await harness.dispose();
    });

    /** Waits until the fixture's counts satisfy `condition` (a safety net fails after a few seconds). */
    async function untilCounts(condition: (counts: FixtureCounts) => boolean, what: string): Promise<void> {
      for (let tries = 0; tries < 300; tries++) {
        if (condition(await harness.control.counts())) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`Timed out waiting for ${what}.`);
    }

    /** Makes garbage for a while, so that whatever the test holds no reference to is likely collected. */
    async function collectGarbage(): Promise<void> {
      for (let round = 0; round < 30; round++) {
        const garbage: unknown[] = [];
        for (let i = 0; i < 100_000; i++) garbage.push({ i, text: `garbage ${i}` });
        if (garbage.length === 0) throw new Error('No garbage was made.');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    it("should cancel its open read's backend fetch when the frame holding its ports and lifetime lock is removed", async () => {
      const loader = connectCachedTable<Reading, TsSpec>(harness.endpoint);
      await loader.load(ts(0, 10));
      await loader.close();

      // The client lives in a frame (as in a page that navigates away): its ports belong to the frame's document.
      const frame = document.createElement('iframe');
      document.body.append(frame);
      const frameWindow = frame.contentWindow as unknown as typeof globalThis;
      const session = new frameWindow.MessageChannel();
      const updates = new frameWindow.MessageChannel();
      // Listened on, as a client's is: a port nobody references may be collected, and WebKit then closes its other
      // end, which the worker takes for the client going away (the session closed before this test looked at it).
      updates.port1.onmessage = () => undefined;
      // The lock a page holds for its lifetime, as connectCachedTable takes it for an endpoint that may outlive the page.
      const pageLock = `tablecache-web:page:test-${Math.random()}`;
      await new Promise<void>((resolve) => {
        void frameWindow.navigator.locks.request(pageLock, () => {
          resolve();
          return new Promise<never>(() => {});
        });
      });
      const connect = {
        type: 'tablecache-web:connect',
        protocol: PROTOCOL_VERSION,
        sessionPort: session.port2,
        updatesPort: updates.port2,
        pageLock,
      } satisfies SharedConnectMessage;
      (harness.endpoint as Worker).postMessage(connect, [session.port2, updates.port2]);
      const remote = wrap<TableSessionApi<Reading>>(session.port1);
      // The client's objects stay reachable while its page lives, as a client's are. A Comlink proxy that is
      // collected tells the worker to release the session (its finalizer), and WebKit keeps across an `await` only
      // the locals still used after it: unreferenced, the proxy was collected before the counts below.
      clientObjects.push(remote, session, updates);
      const opened = await remote.openRead(ts(50, 100), 5);
      expect([opened.from, opened.done]).toEqual(['db', false]);
      await collectGarbage();
      const before = await harness.control.counts();
      expect(before.connections).toBe(1);

      frame.remove();
      await untilCounts((counts) => counts.dbCancelled === before.dbCancelled + 1, 'the backend fetch to be cancelled');
      await untilCounts((counts) => counts.connections === 0, 'the session to close');
    });
  });
});

describe('exposeCachedTable in a SharedWorker', () => {
  const url = new URL('./fixtures/table.sharedworker.ts', import.meta.url);

  it('should serve every connection of every page, and tell each subscriber of the others’ changes', async () => {
    const first = connectCachedTable<Reading, TsSpec>(new SharedWorker(url, { type: 'module' }).port);
    const second = connectCachedTable<Reading, TsSpec>(new SharedWorker(url, { type: 'module' }).port);
    try {
      await first.load(ts(0, 100));
      await second.loaded();
      const updates = new UpdateQueue<Reading>();
      second.subscribe(ts(150, 160), updates.listener);
      expect((await updates.nextRecords()).from).toBe('db');
      await first.adjust(ts(0, 200));
      expect(await updates.nextRecords()).toMatchObject({ from: 'storage' });
      expect((await second.stats()).adjustments).toBe(2);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
