import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CachedTableClient } from '../../src/worker/CachedTableClient';
import { connectCachedTable } from '../../src/worker/connectCachedTable';
import { itInEngines } from '../engines/knownEngineDifferences';
import { collect, type Reading } from '../support/records';
import { describeTableClient, UpdateQueue, type ClientHarness } from './describeTableClient';
import { connectFixtureControl, fixtureRecordCount, type TsSpec } from './fixtures/tableFixture';

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
      // Two batches of 500 consumed, at most two more pulled ahead.
      expect(after.recordsYielded - before.recordsYielded).toBeLessThanOrEqual(2000);
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
