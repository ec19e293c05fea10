import { afterEach, describe, expect, it } from 'vitest';
import { connectCachedTable } from '../../src/worker/connectCachedTable';
import { exposeCachedTable } from '../../src/worker/exposeCachedTable';
import { postMalformedConnects } from './fixtures/malformedConnectMessages';
import type { TsSpec } from './fixtures/tableFixture';
import { makeSmallTable } from './fixtures/smallTable';
import type { Reading } from '../support/records';

/** Resolves after the messages posted so far on a port have been delivered (one macrotask round trip is not enough in Node). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

describe('exposeCachedTable', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  describe('malformed connect messages', () => {
    it('should ignore them: no session is opened, a real client is served, and close() resolves', async () => {
      const { port1, port2 } = new MessageChannel();
      cleanups.push(
        () => port1.close(),
        () => port2.close(),
      );
      const exposed = exposeCachedTable(makeSmallTable(), port2);
      postMalformedConnects(port1);
      await settle();
      expect(exposed.connections).toBe(0);

      const client = connectCachedTable<Reading, TsSpec>(port1);
      await client.load({ indexName: 'ts', ge: 0, lt: 10 });
      postMalformedConnects(port1);
      expect((await client.stats()).loaded).toBe(10);
      await settle();
      expect(exposed.connections).toBe(1);
      await client.close();
      await expect(exposed.close()).resolves.toBeUndefined();
      expect(exposed.connections).toBe(0);
    });

    it('should ignore them while the table is still being made, and serve it once made', async () => {
      const { port1, port2 } = new MessageChannel();
      cleanups.push(
        () => port1.close(),
        () => port2.close(),
      );
      let resolveTable!: (table: ReturnType<typeof makeSmallTable>) => void;
      const exposed = exposeCachedTable(new Promise<ReturnType<typeof makeSmallTable>>((resolve) => (resolveTable = resolve)), port2);
      postMalformedConnects(port1);
      const client = connectCachedTable<Reading, TsSpec>(port1);
      await settle();
      resolveTable(makeSmallTable());
      expect((await client.stats()).loaded).toBe(0);
      expect(exposed.connections).toBe(1);
      await client.close();
      await expect(exposed.close()).resolves.toBeUndefined();
    });
  });
});
