import { describe, expect, it, vi } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { DbAccessError } from '../../src/core/errors';
import { Interval } from '../../src/core/Interval';
import type { TableChange } from '../../src/core/TableChange';
import type { RangeSpec } from '../../src/indexes/RangeIndexes';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import type { SubscriptionMessage } from '../../src/worker/protocol';
import { Subscriptions } from '../../src/worker/Subscriptions';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { byId, collect, reading, readings, tsIndexes, type Reading } from '../support/records';

type Ts = RangeSpec<'ts'>;
const ts = (ge: number, lt: number): Ts => ({ indexName: 'ts', ge, lt });
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
/** A read whose records are taken, as a view takes them: a stale read's background refresh starts then. */
async function taken<R extends { records: AsyncIterable<unknown> }>(reading: Promise<R>): Promise<R> {
  const read = await reading;
  await collect(read.records);
  return read;
}

/** A table loaded with [0, 100) of readings `ts = id`, then a second table resumed over the same storage (as after a reload). */
async function resumed(options: { staleWhileRevalidate?: boolean } = {}) {
  const db = new MemoryDbAccess(readings(200));
  const first = tsIndexes();
  const storage = new MemoryStorageTable<Reading>(first);
  await new CachedTable(first, db, storage).load(ts(0, 100));
  const table = new CachedTable(tsIndexes(), db, storage, { name: 'readings', ...options });
  await table.resume();
  db.requests.length = 0;
  return { db, storage, table };
}

describe('CachedTable', () => {
  describe('readRecords with staleWhileRevalidate', () => {
    it('should serve stale records at once, marked stale, while the backend has not answered', async () => {
      const { table, db } = await resumed();
      db.upsert(reading(5, 5, 555));
      const release = db.hold();
      const result = await table.readRecords(ts(0, 10), { staleWhileRevalidate: true });
      expect(result).toMatchObject({ from: 'storage', stale: true, refreshed: false });
      expect(byId(await collect(result.records))).toEqual(readings(10));
      expect(table.stats().reads.servedStale).toBe(1);
      release();
      await settle();
      await table.refreshInvalid();
      const fresh = await table.readRecords(ts(0, 10), { staleWhileRevalidate: true });
      expect(fresh).toMatchObject({ from: 'storage', stale: false, refreshed: false });
      expect(byId(await collect(fresh.records)).find((record) => record.id === 5)?.value).toBe(555);
    });

    it('should start one background refresh per range however many reads ask', async () => {
      const { table, db } = await resumed({ staleWhileRevalidate: true });
      const release = db.hold();
      await Promise.all([taken(table.readRecords(ts(0, 10))), taken(table.readRecords(ts(0, 10))), taken(table.readRecords(ts(0, 10)))]);
      release();
      await settle();
      expect(db.requests).toHaveLength(1);
    });

    it('should start the background refresh once the stale records are taken, not while the read that served them runs', async () => {
      const { table, db } = await resumed({ staleWhileRevalidate: true });
      const read = await table.readRecords(ts(0, 10));
      expect(read.stale).toBe(true);
      await settle();
      // The paint that waits for these records does not share the worker with parsing the backend's answer.
      expect(db.requests).toHaveLength(0);
      expect(byId(await collect(read.records)).map((record) => record.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await settle();
      expect(db.requests).toHaveLength(1);
    });

    it('should start the background refresh of a stale read nobody takes after a second', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        const { table, db } = await resumed({ staleWhileRevalidate: true });
        expect((await table.readRecords(ts(0, 10))).stale).toBe(true);
        await vi.advanceTimersByTimeAsync(900);
        expect(db.requests).toHaveLength(0);
        await vi.advanceTimersByTimeAsync(200);
        expect(db.requests).toHaveLength(1);
      } finally {
        vi.useRealTimers();
      }
    });

    it('should follow the table option unless the read overrides it', async () => {
      const { table, db } = await resumed({ staleWhileRevalidate: true });
      expect((await table.readRecords(ts(0, 10))).stale).toBe(true);
      const waited = await table.readRecords(ts(20, 30), { staleWhileRevalidate: false });
      expect(waited).toMatchObject({ stale: false, refreshed: true });
      expect(db.requests.length).toBeGreaterThanOrEqual(1);
    });

    it('should tell change listeners once the refresh is committed, even when no record changed', async () => {
      const { table } = await resumed();
      const changes: TableChange[] = [];
      table.onChange((change) => changes.push(change));
      await taken(table.readRecords(ts(0, 10), { staleWhileRevalidate: true }));
      await settle();
      await table.refreshInvalid();
      expect(changes.some((change) => change.kind === 'refresh' && change.affects('ts', [new Interval(0, 10)]))).toBe(true);
    });

    it('should leave the records stale when the background refresh fails, without an unhandled rejection, and try again at the next read', async () => {
      const { table, db } = await resumed();
      db.failNext(new DbAccessError('backend error', { status: 400 }));
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        expect((await taken(table.readRecords(ts(0, 10), { staleWhileRevalidate: true }))).stale).toBe(true);
        await settle();
        await settle();
        expect((await taken(table.readRecords(ts(0, 10), { staleWhileRevalidate: true }))).stale).toBe(true);
        await settle();
        expect(db.requests).toHaveLength(2);
        expect((await table.readRecords(ts(0, 10), { staleWhileRevalidate: true })).stale).toBe(false);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
      expect(unhandled).toEqual([]);
    });

    it('should still refresh records marked invalid before serving them', async () => {
      const { table, db } = await resumed({ staleWhileRevalidate: true });
      db.upsert(reading(3, 3, 333));
      table.invalidateRecords([ts(3, 4)], [ts(3, 4)]);
      const result = await table.readRecords(ts(0, 10));
      expect(result.refreshed).toBe(true);
      expect(byId(await collect(result.records)).find((record) => record.id === 3)?.value).toBe(333);
    });
  });

  describe('subscriptions with staleWhileRevalidate', () => {
    it('should deliver the stale records at once, then the fresh ones once the refresh is committed', async () => {
      const { table, db } = await resumed();
      db.upsert(reading(4, 4, 444));
      const release = db.hold();
      const messages: SubscriptionMessage[] = [];
      const subscriptions = new Subscriptions(table, (message) => messages.push(message));
      subscriptions.add(1, ts(0, 10), 100, { staleWhileRevalidate: true });
      await settle();
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ type: 'records', info: { from: 'storage', stale: true } });
      release();
      for (let i = 0; i < 10 && messages.length < 2; i++) await settle();
      expect(messages).toHaveLength(2);
      expect(messages[1]).toMatchObject({ type: 'records', info: { from: 'storage', stale: false } });
      expect((messages[1] as { records: Reading[] }).records.find((record) => record.id === 4)?.value).toBe(444);
      subscriptions.dispose();
    });
  });
});
