import { afterEach, describe, expect, it, vi } from 'vitest';
import { TableCacheError } from '../../src/core/errors';
import { connectCachedTable } from '../../src/worker/connectCachedTable';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../../src/worker/connectionWatch';
import { exposeCachedTable } from '../../src/worker/exposeCachedTable';
import { WorkerConnectionError } from '../../src/worker/WorkerConnectionError';
import type { TsSpec } from './fixtures/tableFixture';
import { makeSmallTable } from './fixtures/smallTable';
import type { Reading } from '../support/records';

/** Whether `promise` has settled, as far as this thread can tell now. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

describe('connectCachedTable', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function channel(): [MessagePort, MessagePort] {
    const { port1, port2 } = new MessageChannel();
    cleanups.push(
      () => port1.close(),
      () => port2.close(),
    );
    return [port1, port2];
  }

  describe('connectTimeoutMs', () => {
    it('should reject pending and later calls with a WorkerConnectionError when nothing exposes a table in time (default 15 s)', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const [page] = channel();
      const client = connectCachedTable<Reading, TsSpec>(page);
      const pending = client.stats();
      pending.catch(() => {});
      vi.advanceTimersByTime(DEFAULT_CONNECT_TIMEOUT_MS - 1);
      expect(await settled(pending)).toBe(false);
      vi.advanceTimersByTime(1);
      const error = await pending.catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(WorkerConnectionError);
      expect(error).toBeInstanceOf(TableCacheError);
      expect(error).toMatchObject({ reason: 'timeout', timeoutMs: DEFAULT_CONNECT_TIMEOUT_MS });
      expect((error as Error).message).toMatch(/exposeCachedTable/);
      await expect(client.getFirstRecord({ indexName: 'ts', ge: 0, lt: 1 })).rejects.toBe(error);
      expect(client.isClosed).toBe(true);
      await expect(client.close()).resolves.toBeUndefined();
    });

    it('should tell subscribers, and let close() resolve, when the connection times out', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const [page] = channel();
      const client = connectCachedTable<Reading, TsSpec>(page, { connectTimeoutMs: 50 });
      const updates: unknown[] = [];
      client.subscribe({ indexName: 'ts', ge: 0, lt: 5 }, (update) => updates.push(update));
      const closing = client.close();
      vi.advanceTimersByTime(50);
      await expect(closing).resolves.toBeUndefined();
      expect(updates).toEqual([]);

      const second = connectCachedTable<Reading, TsSpec>(page, { connectTimeoutMs: 50 });
      second.subscribe({ indexName: 'ts', ge: 0, lt: 5 }, (update) => updates.push(update));
      vi.advanceTimersByTime(50);
      expect(updates).toHaveLength(1);
      expect((updates[0] as { error?: unknown }).error).toBeInstanceOf(WorkerConnectionError);
    });

    it('should not time out once the worker has answered', async () => {
      const [page, worker] = channel();
      const exposed = exposeCachedTable(makeSmallTable(), worker);
      cleanups.push(() => exposed.close());
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const client = connectCachedTable<Reading, TsSpec>(page, { connectTimeoutMs: 1000 });
      expect((await client.stats()).loaded).toBe(0);
      // The answer to the connect request travels on another port than the call's: let it arrive too.
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
      vi.advanceTimersByTime(60_000);
      await client.load({ indexName: 'ts', ge: 0, lt: 10 });
      expect((await client.stats()).loaded).toBe(10);
      await client.close();
    });

    it('should wait forever with 0', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const [page, worker] = channel();
      const client = connectCachedTable<Reading, TsSpec>(page, { connectTimeoutMs: 0 });
      const stats = client.stats();
      vi.advanceTimersByTime(24 * 60 * 60 * 1000);
      expect(await settled(stats)).toBe(false);
      vi.useRealTimers();
      const exposed = exposeCachedTable(makeSmallTable(), worker);
      cleanups.push(() => exposed.close());
      expect((await stats).loaded).toBe(0);
      await client.close();
    });

    it('should throw a TableCacheError for a connectTimeoutMs that is not a number of milliseconds from 0', () => {
      const [page] = channel();
      for (const connectTimeoutMs of [-1, Number.NaN, 2 ** 31, '100' as unknown as number]) {
        expect(() => connectCachedTable(page, { connectTimeoutMs })).toThrow(TableCacheError);
      }
    });
  });
});
