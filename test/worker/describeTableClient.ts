import type { Remote } from 'comlink';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DbAccessError, InvalidSpecError, RecordNotFoundError, TableCacheError } from '../../src/core/errors';
import type { CachedTableClient, SubscriptionUpdate } from '../../src/worker/CachedTableClient';
import { DEFAULT_BATCH_SIZE } from '../../src/worker/batchSize';
import { connectCachedTable, type ConnectOptions } from '../../src/worker/connectCachedTable';
import type { TableEndpoint } from '../../src/worker/endpoint';
import { byId, collect, reading, type Reading } from '../support/records';
import { sampleErrors, type SampleErrorName } from './fixtures/sampleErrors';
import type { FixtureControl, TsSpec } from './fixtures/tableFixture';

/** A table fixture served somewhere (`serveFixture`), and how to reach it. */
export interface ClientHarness {
  /** Where clients connect to the table. */
  readonly endpoint: TableEndpoint;
  readonly control: Remote<FixtureControl>;
  /** Ends the transport (terminates the worker, closes the ports). */
  dispose(): Promise<void>;
}

const ts = (ge: number, lt: number): TsSpec => ({ indexName: 'ts', ge, lt });
const ids = (records: readonly Reading[]) => byId(records).map((record) => record.id);
const range = (ge: number, lt: number) => Array.from({ length: lt - ge }, (_, i) => ge + i);

/** Collects a subscription's updates; `next()` waits for the next one not yet taken. */
export class UpdateQueue<R> {
  readonly received: SubscriptionUpdate<R>[] = [];
  private taken = 0;
  private waiter: (() => void) | null = null;
  readonly listener = (update: SubscriptionUpdate<R>) => {
    this.received.push(update);
    this.waiter?.();
  };

  async next(): Promise<SubscriptionUpdate<R>> {
    while (this.taken >= this.received.length) await new Promise<void>((resolve) => (this.waiter = resolve));
    this.waiter = null;
    return this.received[this.taken++] as SubscriptionUpdate<R>;
  }

  /** The next update, which must carry records. */
  async nextRecords(): Promise<{ records: R[]; from: string }> {
    const update = await this.next();
    if (update.error) throw update.error;
    return update;
  }
}

/** Collects the unhandled promise rejections of this thread (Node or browser) until `stop()`. */
function watchUnhandledRejections(): { stop(): unknown[] } {
  const seen: unknown[] = [];
  const onBrowserRejection = (event: PromiseRejectionEvent) => seen.push(event.reason);
  const onNodeRejection = (reason: unknown) => seen.push(reason);
  if (typeof process !== 'undefined' && typeof process.on === 'function') process.on('unhandledRejection', onNodeRejection);
  else globalThis.addEventListener('unhandledrejection', onBrowserRejection);
  return {
    stop() {
      if (typeof process !== 'undefined' && typeof process.off === 'function') process.off('unhandledRejection', onNodeRejection);
      else globalThis.removeEventListener('unhandledrejection', onBrowserRejection);
      return seen;
    },
  };
}

/** Reads served by the table so far (every kind), from its stats. */
async function readCount(client: CachedTableClient<Reading, TsSpec>): Promise<number> {
  const { reads } = await client.stats();
  return reads.cacheHit + reads.cacheHitWithRefresh + reads.cacheMiss;
}

/**
 * The behaviour of `connectCachedTable`'s client against a table exposed
 * with `exposeCachedTable`, over one transport. The table holds readings
 * with `ts = id` (ids 0..19999) in its backend and is unloaded at the start
 * of each test; clients use batches of 16 records unless a test says otherwise.
 */
export function describeTableClient(transport: string, open: () => Promise<ClientHarness>): void {
  describe(`CachedTableClient over ${transport}`, () => {
    let harness: ClientHarness;
    let control: Remote<FixtureControl>;
    const clients: CachedTableClient<Reading, TsSpec>[] = [];
    let client: CachedTableClient<Reading, TsSpec>;

    const connect = (options: ConnectOptions = { batchSize: 16 }) => {
      const connected = connectCachedTable<Reading, TsSpec>(harness.endpoint, options);
      clients.push(connected);
      return connected;
    };

    beforeAll(async () => {
      harness = await open();
      control = harness.control;
    });
    afterAll(async () => {
      await harness.dispose();
    });
    beforeEach(async () => {
      await control.reset();
      client = connect();
    });
    afterEach(async () => {
      await Promise.allSettled(clients.splice(0).map((each) => each.close()));
    });

    describe('load', () => {
      it('should load the records of the spec, then resolve loaded()', async () => {
        const loaded = client.loaded();
        await client.load(ts(0, 100));
        await loaded;
        expect((await client.stats()).loaded).toBe(100);
        expect(ids(await collect(client.getRecords(ts(0, 100))))).toEqual(range(0, 100));
      });

      it('should report progress to a callback in this thread', async () => {
        const progress: { loaded: number; expired: number }[] = [];
        await client.load(ts(0, 2500), { onProgress: (report) => progress.push(report) });
        // Every report came before the load resolved (they travel on a port of their own).
        expect(progress.at(-1)).toEqual({ loaded: 2500, expired: 0 });
        expect(progress.map((report) => report.loaded)).toEqual([1000, 2000, 2500]);
      });

      it("should report the backend's total in this thread, when the backend tells it", async () => {
        await control.tellTotals();
        const progress: { loaded: number; expired: number; total?: number }[] = [];
        await client.load(ts(0, 2500), { onProgress: (report) => progress.push(report) });
        expect(progress).toEqual([
          { loaded: 0, expired: 0, total: 2500 },
          { loaded: 1000, expired: 0, total: 2500 },
          { loaded: 2000, expired: 0, total: 2500 },
          { loaded: 2500, expired: 0, total: 2500 },
        ]);
      });

      it('should reject a second load with a TableCacheError naming the table', async () => {
        await client.load(ts(0, 10));
        const error = await client.load(ts(0, 20)).catch((thrown: unknown) => thrown);
        expect(error).toBeInstanceOf(TableCacheError);
        expect((error as Error).message).toContain("'readings'");
      });
    });

    describe('getRecords', () => {
      it('should stream every record of a covered spec from storage, a batch at a time', async () => {
        await client.load(ts(0, 100));
        const received: Reading[] = [];
        let yieldedAtFirstRecord = -1;
        for await (const record of client.getRecords(ts(0, 100))) {
          if (received.length === 0) yieldedAtFirstRecord = (await control.counts()).storage.recordsYielded;
          received.push(record);
        }
        expect(ids(received)).toEqual(range(0, 100));
        // The first batch, and at most the two requested ahead of need.
        expect(yieldedAtFirstRecord).toBeGreaterThanOrEqual(16);
        expect(yieldedAtFirstRecord).toBeLessThanOrEqual(48);
        expect((await control.counts()).storage).toMatchObject({ opened: 1, finished: 1, closedEarly: 0 });
      });

      it('should read from the backend when storage does not cover the spec', async () => {
        await client.load(ts(0, 100));
        const before = (await control.counts()).dbRequests;
        expect(ids(await collect(client.getRecords(ts(150, 160))))).toEqual(range(150, 160));
        expect((await control.counts()).dbRequests).toBe(before + 1);
        expect((await client.stats()).reads.cacheMiss).toBe(1);
      });

      it('should close the worker-side storage read when the loop breaks early', async () => {
        await client.load(ts(0, 1000));
        let seen = 0;
        for await (const _record of client.getRecords(ts(0, 1000))) {
          if (++seen === 20) break;
        }
        const { storage } = await control.counts();
        expect(storage).toMatchObject({ opened: 1, finished: 0, closedEarly: 1 });
        // Two batches handed out, two requested ahead.
        expect(storage.recordsYielded).toBeLessThanOrEqual(64);
      });

      it('should cancel the backend fetch when the loop returns early', async () => {
        await client.load(ts(0, 10));
        const first = async () => {
          for await (const record of client.getRecords(ts(100, 5000))) return record;
          return undefined;
        };
        expect((await first())?.id).toBe(100);
        expect((await control.counts()).dbCancelled).toBe(1);
      });

      it('should close the worker-side read when the loop body throws', async () => {
        await client.load(ts(0, 1000));
        const consume = async () => {
          for await (const record of client.getRecords(ts(0, 1000))) {
            if (record) throw new Error('the consumer failed');
          }
        };
        await expect(consume()).rejects.toThrow('the consumer failed');
        expect((await control.counts()).storage).toMatchObject({ opened: 1, closedEarly: 1 });
      });

      it('should yield the records read before a failure, then throw the failure as its class', async () => {
        await client.load(ts(0, 10));
        await control.failNext('DbAccessError', 40);
        const received: Reading[] = [];
        const consume = async () => {
          for await (const record of client.getRecords(ts(100, 1000))) received.push(record);
        };
        const error = await consume().catch((thrown: unknown) => thrown);
        expect(error).toBeInstanceOf(DbAccessError);
        expect((error as DbAccessError).status).toBe(503);
        expect(ids(received)).toEqual(range(100, 140));
      });

      it('should leave no unhandled rejection when the loop ends while the batch requested ahead fails', async () => {
        await client.load(ts(0, 10));
        await control.failNext('DbAccessError', 16);
        const watch = watchUnhandledRejections();
        try {
          for await (const record of client.getRecords(ts(100, 1000))) {
            expect(record.id).toBe(100);
            break;
          }
          // A round trip after the failed batch has been answered, and a task for rejections to be reported.
          await client.stats();
          await new Promise((resolve) => setTimeout(resolve, 0));
        } finally {
          expect(watch.stop()).toEqual([]);
        }
      });

      it('should reject a spec the Indexes refuse with an InvalidSpecError naming the field, and keep serving', async () => {
        await client.load(ts(0, 10));
        const bad = { indexName: 'ts', ge: 'soon', lt: 5 } as unknown as TsSpec;
        const error = await collect(client.getRecords(bad)).catch((thrown: unknown) => thrown);
        expect(error).toBeInstanceOf(InvalidSpecError);
        expect((error as InvalidSpecError).path).toEqual(['ge']);
        expect(ids(await collect(client.getRecords(ts(0, 3))))).toEqual([0, 1, 2]);
      });

      it('should reject a spec naming an unknown index with an InvalidSpecError on indexName', async () => {
        await client.load(ts(0, 10));
        const error = await collect(client.getRecords({ indexName: 'id', ge: 0, lt: 1 } as unknown as TsSpec)).catch(
          (thrown: unknown) => thrown,
        );
        expect(error).toBeInstanceOf(InvalidSpecError);
        expect((error as InvalidSpecError).path).toEqual(['indexName']);
      });

      it('should reject a spec that cannot be sent to the worker with an InvalidSpecError', async () => {
        await client.load(ts(0, 10));
        const spec = { ...ts(0, 3), recheck: () => true } as TsSpec;
        await expect(collect(client.getRecords(spec))).rejects.toBeInstanceOf(InvalidSpecError);
        expect(ids(await collect(client.getRecords(ts(0, 3))))).toEqual([0, 1, 2]);
      });

      it('should throw at once for a batchSize that is not a whole number of at least 1', () => {
        expect(() => client.getRecords(ts(0, 1), { batchSize: 0 })).toThrow(TableCacheError);
        expect(() => client.getRecords(ts(0, 1), { batchSize: 2.5 })).toThrow(TableCacheError);
      });

      it('should send DEFAULT_BATCH_SIZE (1,000) records per message when the client names no batch size', async () => {
        expect(DEFAULT_BATCH_SIZE).toBe(1000);
        const unconfigured = connect({});
        await unconfigured.load(ts(0, 2500));
        const before = (await control.counts()).storage.recordsYielded;
        // The first batch is at hand once the read has resolved, and nothing is asked for ahead before it is iterated.
        const read = await unconfigured.readRecords(ts(0, 2500));
        expect((await control.counts()).storage.recordsYielded - before).toBe(DEFAULT_BATCH_SIZE);
        expect(ids(await collect(read.records))).toEqual(range(0, 2500));
      });

      it('should use a batch size given for one read', async () => {
        await client.load(ts(0, 100));
        const iterator = client.getRecords(ts(0, 100), { batchSize: 3 })[Symbol.asyncIterator]();
        await iterator.next();
        expect((await control.counts()).storage.recordsYielded).toBeLessThanOrEqual(9);
        await iterator.return?.();
        expect((await control.counts()).storage.closedEarly).toBe(1);
      });
    });

    describe('errors thrown in the worker', () => {
      it.each(Object.keys(sampleErrors) as SampleErrorName[])(
        'should reach the caller as a %s of the same class, with its fields and cause',
        async (name) => {
          await client.load(ts(0, 10));
          await control.failNext(name);
          const error = await collect(client.getRecords(ts(100, 110))).catch((thrown: unknown) => thrown);
          const expected = sampleErrors[name]() as Error & Record<string, unknown>;
          expect(error).toBeInstanceOf(expected.constructor);
          const actual = error as Error & Record<string, unknown>;
          expect(actual.name).toBe(expected.name);
          expect(actual.message).toBe(expected.message);
          // The worker's stack, where the platform gives one (Chromium gives a DOMException none).
          expect(typeof actual.stack).toBe(typeof expected.stack);
          for (const key of Object.keys(expected)) expect(actual[key], key).toEqual(expected[key]);
          if (expected.cause instanceof Error || expected.cause instanceof DOMException) {
            const cause = actual.cause as Error;
            expect(cause).toBeInstanceOf(expected.cause.constructor);
            expect(cause.name).toBe(expected.cause.name);
            expect(cause.message).toBe(expected.cause.message);
          } else {
            expect(actual.cause).toBeUndefined();
          }
        },
      );
    });

    describe('readRecords', () => {
      it('should say where the records come from before they are iterated', async () => {
        await client.load(ts(0, 100));
        const hit = await client.readRecords(ts(10, 20));
        expect(hit).toMatchObject({ from: 'storage', refreshed: false, stale: false });
        expect(ids(await collect(hit.records))).toEqual(range(10, 20));
        const miss = await client.readRecords(ts(200, 210));
        expect(miss.from).toBe('db');
        expect(ids(await collect(miss.records))).toEqual(range(200, 210));
      });

      it('should count the records of a partial hit by source once iterated', async () => {
        await client.load(ts(0, 100));
        const read = await client.readRecords(ts(60, 140));
        expect(read.from).toBe('mixed');
        expect(ids(await collect(read.records))).toEqual(range(60, 140));
        expect(read.counts).toEqual({ storage: 40, db: 40 });
      });

      it('should say when invalid records were refreshed first', async () => {
        await client.load(ts(0, 100));
        await client.invalidateRecords([ts(5, 6)], [ts(5, 6)]);
        const read = await client.readRecords(ts(0, 10));
        expect(read).toMatchObject({ from: 'storage', refreshed: true });
        await collect(read.records);
      });
    });

    describe('resume', () => {
      it('should reject with a TableCacheError when storage holds nothing to resume', async () => {
        await expect(client.resume()).rejects.toBeInstanceOf(TableCacheError);
      });
    });

    describe('getFirstRecord', () => {
      it('should resolve with the record of a one-record spec', async () => {
        await client.load(ts(0, 100));
        expect(await client.getFirstRecord(ts(42, 43))).toEqual(reading(42, 42));
      });

      it('should reject with a RecordNotFoundError when no record matches', async () => {
        await client.load(ts(0, 100));
        await expect(client.getFirstRecord(ts(50, 50))).rejects.toBeInstanceOf(RecordNotFoundError);
      });
    });

    describe('adjust', () => {
      it('should serve the new range from storage once it resolves', async () => {
        await client.load(ts(0, 100));
        await client.adjust(ts(100, 200));
        expect(ids(await collect(client.getRecords(ts(150, 160))))).toEqual(range(150, 160));
        const stats = await client.stats();
        expect(stats.reads).toMatchObject({ cacheHit: 1, cacheMiss: 0 });
        expect(stats.adjustments).toBe(2);
      });

      it('should reject a bad spec with an InvalidSpecError and leave the table as it was', async () => {
        await client.load(ts(0, 100));
        const error = await client.adjust({ indexName: 'ts', ge: 10, lt: 5 }).catch((thrown: unknown) => thrown);
        expect(error).toBeInstanceOf(InvalidSpecError);
        expect((error as InvalidSpecError).path).toEqual(['lt']);
        await collect(client.getRecords(ts(0, 100)));
        expect((await client.stats()).reads).toMatchObject({ cacheHit: 1, cacheMiss: 0 });
      });
    });

    describe('invalidateRecords', () => {
      it('should make the next read of the records refresh them from the backend', async () => {
        await client.load(ts(0, 100));
        await control.upsert([reading(5, 5, 999)]);
        await client.invalidateRecords([ts(5, 6)], [ts(5, 6)]);
        const records = await collect(client.getRecords(ts(0, 10)));
        expect(records.find((record) => record.id === 5)?.value).toBe(999);
        expect((await client.stats()).reads.cacheHitWithRefresh).toBe(1);
      });

      it('should reject a bad spec in a list with an InvalidSpecError naming its position', async () => {
        await client.load(ts(0, 100));
        const error = await client
          .invalidateRecords([ts(5, 6)], [{ indexName: 'ts', ge: Number.NaN, lt: 6 }])
          .catch((thrown: unknown) => thrown);
        expect(error).toBeInstanceOf(InvalidSpecError);
        expect((error as InvalidSpecError).path).toEqual(['newSpecs', 0, 'ge']);
      });

      it('should reject a spec the cache does not cover with an InvalidSpecError', async () => {
        await client.load(ts(0, 100));
        await expect(client.invalidateRecords([ts(500, 501)], [ts(500, 501)])).rejects.toBeInstanceOf(InvalidSpecError);
      });
    });

    describe('invalidateKeys', () => {
      it('should refetch the keys and place each where its new score says', async () => {
        await client.load(ts(0, 100));
        await control.upsert([reading(5, 50, 555), reading(6, 500, 666), reading(200, 7, 2)]);
        await client.invalidateKeys([5, 6, 200]);
        expect(ids(await collect(client.getRecords(ts(0, 100))))).toEqual([...range(0, 6), ...range(7, 100), 200]);
        // Two records score 50 now (50 and the moved 5); storage returns them in no defined order.
        expect((await collect(client.getRecords(ts(50, 51)))).find((r) => r.id === 5)?.value).toBe(555);
        expect((await client.stats()).reads.cacheMiss).toBe(0);
      });

      it('with forceRefreshOnNextRead false, should only mark the keys: reads serve the old records until refreshInvalid', async () => {
        await client.load(ts(0, 100));
        const old = (await client.getFirstRecord(ts(8, 9))).value;
        await control.upsert([reading(8, 8, 888)]);
        const before = (await client.stats()).refreshes;
        await client.invalidateKeys([8], { forceRefreshOnNextRead: false });
        expect((await client.stats()).refreshes).toBe(before);
        expect((await client.getFirstRecord(ts(8, 9))).value).toBe(old);
        await client.refreshInvalid();
        expect((await client.getFirstRecord(ts(8, 9))).value).toBe(888);
        expect((await client.stats()).refreshes).toBe(before + 1);
      });

      it('should reject an invalid key with an InvalidSpecError naming its position', async () => {
        await client.load(ts(0, 100));
        const error = await client.invalidateKeys([1, { not: 'a key' } as never]).catch((thrown: unknown) => thrown);
        expect(error).toBeInstanceOf(InvalidSpecError);
        expect((error as InvalidSpecError).path).toEqual(['keys', 1]);
      });
    });

    describe('partialWhenOffline', () => {
      it('should serve the covered part of a partly covered spec, marked incomplete, when the backend is offline', async () => {
        await client.load(ts(0, 100));
        await control.failNext('OfflineDbAccessError');
        const result = await client.readRecords(ts(90, 110), { partialWhenOffline: true });
        expect(result).toMatchObject({ from: 'storage', incomplete: true });
        expect(ids(await collect(result.records))).toEqual(range(90, 100));
        const complete = await client.readRecords(ts(90, 110), { partialWhenOffline: true });
        expect(complete).toMatchObject({ from: 'mixed', incomplete: false });
        expect(ids(await collect(complete.records))).toEqual(range(90, 110));
      });
    });

    describe('cancelling with an AbortSignal', () => {
      class Cancelled extends Error {}
      /** The client rejects at once; its cancel message reaches the worker (through a relay, maybe) a little later. */
      const cancelArrived = () => new Promise((resolve) => setTimeout(resolve, 100));

      it('should cancel an adjust in the worker, leaving the table as before, and reject with the reason', async () => {
        await client.load(ts(0, 100));
        await control.holdBackend();
        const controller = new AbortController();
        const adjusting = client.adjust(ts(50, 150), { signal: controller.signal });
        await new Promise((resolve) => setTimeout(resolve, 20));
        const reason = new Cancelled('user left');
        controller.abort(reason);
        await expect(adjusting).rejects.toBe(reason);
        await cancelArrived();
        await control.releaseBackend();
        // Runs after the worker-side adjust has ended: writes run one at a time.
        await client.invalidateKeys([1]);
        expect((await client.stats()).adjustments).toBe(1);
        expect((await client.readRecords(ts(100, 110))).from).toBe('db');
        expect(ids(await collect(client.getRecords(ts(0, 100))))).toEqual(range(0, 100));
      });

      it('should cancel a read waiting for a refresh, and let another read of it proceed', async () => {
        await client.load(ts(0, 100));
        await control.upsert([reading(5, 5, 555)]);
        await client.invalidateRecords([ts(5, 6)], [ts(5, 6)]);
        await control.holdBackend();
        const controller = new AbortController();
        const cancelled = client.readRecords(ts(0, 10), { signal: controller.signal });
        const other = client.getFirstRecord(ts(5, 6));
        await new Promise((resolve) => setTimeout(resolve, 20));
        controller.abort(new Cancelled());
        await expect(cancelled).rejects.toBeInstanceOf(Cancelled);
        await cancelArrived();
        await control.releaseBackend();
        expect((await other).value).toBe(555);
      });

      it('should cancel a refreshInvalid, keeping the marks for the next refresh', async () => {
        await client.load(ts(0, 100));
        await control.upsert([reading(7, 7, 777)]);
        await client.invalidateRecords([ts(7, 8)], [ts(7, 8)], { forceRefreshOnNextRead: false });
        await control.holdBackend();
        const controller = new AbortController();
        const refreshing = client.refreshInvalid({ signal: controller.signal });
        await new Promise((resolve) => setTimeout(resolve, 20));
        controller.abort(new Cancelled());
        await expect(refreshing).rejects.toBeInstanceOf(Cancelled);
        await cancelArrived();
        await control.releaseBackend();
        expect((await client.getFirstRecord(ts(7, 8))).value).toBe(70);
        await client.refreshInvalid();
        expect((await client.getFirstRecord(ts(7, 8))).value).toBe(777);
      });

      it('should reject at once, sending nothing, when the signal has already aborted', async () => {
        await client.load(ts(0, 100));
        const reason = new Cancelled();
        await expect(client.adjust(ts(0, 200), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
        expect((await client.stats()).adjustments).toBe(1);
      });
    });

    describe('refreshInvalid', () => {
      it('should refresh records invalidated without forcing a refresh on the next read', async () => {
        await client.load(ts(0, 100));
        await control.upsert([reading(7, 7, 777)]);
        await client.invalidateRecords([ts(7, 8)], [ts(7, 8)], { forceRefreshOnNextRead: false });
        expect((await client.getFirstRecord(ts(7, 8))).value).toBe(70);
        await client.refreshInvalid();
        expect((await client.getFirstRecord(ts(7, 8))).value).toBe(777);
        expect((await client.stats()).refreshes).toBe(1);
      });
    });

    describe('subscribe', () => {
      it('should deliver the records of a covered spec at once, from storage', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(10, 20), updates.listener);
        const first = await updates.nextRecords();
        expect(first.from).toBe('storage');
        expect(ids(first.records)).toEqual(range(10, 20));
      });

      it('should deliver its first result once the table is loaded', async () => {
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(10, 20), updates.listener);
        await client.load(ts(0, 100));
        const first = await updates.nextRecords();
        expect(ids(first.records)).toEqual(range(10, 20));
        expect(await readCount(client)).toBe(1);
      });

      it('should deliver the records of an uncovered spec from the backend', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(300, 305), updates.listener);
        const first = await updates.nextRecords();
        expect(first).toMatchObject({ from: 'db', refreshed: false, stale: false });
        expect(first.records).toEqual(range(300, 305).map((id) => reading(id, id)));
      });

      it('should deliver a result larger than a batch in one piece', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(0, 95), updates.listener);
        expect(ids((await updates.nextRecords()).records)).toEqual(range(0, 95));
      });

      it('should deliver again when an adjust brings the spec into storage', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(150, 160), updates.listener);
        expect((await updates.nextRecords()).from).toBe('db');
        await client.adjust(ts(0, 200));
        const second = await updates.nextRecords();
        expect(second.from).toBe('storage');
        expect(ids(second.records)).toEqual(range(150, 160));
      });

      it('should deliver again when an adjust expires the records of the spec', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(0, 50), updates.listener);
        expect((await updates.nextRecords()).from).toBe('storage');
        await client.adjust(ts(60, 100));
        const second = await updates.nextRecords();
        expect(second.from).toBe('db');
        expect(ids(second.records)).toEqual(range(0, 50));
      });

      it('should say how a partial hit was served', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(90, 110), updates.listener);
        const first = await updates.nextRecords();
        expect(first).toMatchObject({ from: 'mixed', refreshed: false, stale: false, counts: { storage: 10, db: 10 } });
        expect(ids(first.records)).toEqual(range(90, 110));
      });

      it('should not re-read after an adjust that cannot change its result', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(0, 50), updates.listener);
        await updates.nextRecords();
        const readsBefore = await readCount(client);
        await client.adjust(ts(0, 300));
        // An invalidation of the subscribed records follows: its result is the next one delivered.
        await control.upsert([reading(3, 3, 333)]);
        await client.invalidateRecords([ts(3, 4)], [ts(3, 4)]);
        const next = await updates.nextRecords();
        expect(next.records.find((record) => record.id === 3)?.value).toBe(333);
        expect(updates.received).toHaveLength(2);
        expect(await readCount(client)).toBe(readsBefore + 1);
      });

      it('should deliver the refreshed records once after an invalidation of them', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(0, 50), updates.listener);
        await updates.nextRecords();
        await control.upsert([reading(10, 10, 1010)]);
        await client.invalidateRecords([ts(10, 11)], [ts(10, 11)]);
        const refreshed = await updates.nextRecords();
        expect(refreshed).toMatchObject({ from: 'storage', refreshed: true });
        expect(refreshed.records.find((record) => record.id === 10)?.value).toBe(1010);
        const stats = await client.stats();
        expect(stats.refreshes).toBe(1);
        expect(updates.received).toHaveLength(2);
      });

      it('should deliver again after refreshInvalid applies an invalidation that did not force a refresh', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(0, 50), updates.listener);
        await updates.nextRecords();
        await control.upsert([reading(20, 20, 2020)]);
        await client.invalidateRecords([ts(20, 21)], [ts(20, 21)], { forceRefreshOnNextRead: false });
        await client.refreshInvalid();
        const refreshed = await updates.nextRecords();
        expect(refreshed.records.find((record) => record.id === 20)?.value).toBe(2020);
        expect(updates.received).toHaveLength(2);
      });

      it('should deliver { error } when a re-read fails, as the error class', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(0, 50), updates.listener);
        await updates.nextRecords();
        await control.failNext('OfflineDbAccessError');
        await client.invalidateRecords([ts(10, 11)], [ts(10, 11)]);
        const failed = await updates.next();
        expect(failed.error).toBeInstanceOf(DbAccessError);
        expect((failed.error as DbAccessError).offline).toBe(true);
        expect(failed.records).toBeUndefined();
      });

      it('should deliver { error } with an InvalidSpecError for a bad spec', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe({ indexName: 'ts', ge: 0, lt: 'later' } as unknown as TsSpec, updates.listener);
        const failed = await updates.next();
        expect(failed.error).toBeInstanceOf(InvalidSpecError);
        expect((failed.error as InvalidSpecError).path).toEqual(['lt']);
      });

      it('should stop delivering, and reading in the worker, once unsubscribed', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        const other = new UpdateQueue<Reading>();
        const unsubscribe = client.subscribe(ts(0, 50), updates.listener);
        client.subscribe(ts(60, 70), other.listener);
        await updates.nextRecords();
        await other.nextRecords();
        unsubscribe();
        unsubscribe();
        const readsBefore = await readCount(client);
        await client.adjust(ts(25, 200));
        await client.adjust(ts(75, 200));
        // The other subscription sees the second adjust (its records leave storage); the first sees nothing.
        expect((await other.nextRecords()).from).toBe('db');
        expect(updates.received).toHaveLength(1);
        expect(await readCount(client)).toBe(readsBefore + 1);
      });

      it('should end the subscriptions in the worker when the client closes', async () => {
        await client.load(ts(0, 100));
        const updates = new UpdateQueue<Reading>();
        client.subscribe(ts(0, 50), updates.listener);
        await updates.nextRecords();
        expect((await control.counts()).connections).toBe(1);
        await client.close();
        expect((await control.counts()).connections).toBe(0);
        const observer = connect();
        const readsBefore = await readCount(observer);
        await observer.adjust(ts(25, 100));
        expect(await readCount(observer)).toBe(readsBefore);
        expect(updates.received).toHaveLength(1);
      });
    });

    describe('close', () => {
      it('should reject every later call with a TableCacheError', async () => {
        await client.close();
        await expect(client.stats()).rejects.toBeInstanceOf(TableCacheError);
        await expect(collect(client.getRecords(ts(0, 1)))).rejects.toBeInstanceOf(TableCacheError);
        expect(() => client.subscribe(ts(0, 1), () => {})).toThrow(TableCacheError);
      });

      it('should close the reads it has open in the worker', async () => {
        await client.load(ts(0, 1000));
        const iterator = client.getRecords(ts(0, 1000))[Symbol.asyncIterator]();
        await iterator.next();
        await client.close();
        expect((await control.counts()).storage).toMatchObject({ opened: 1, closedEarly: 1 });
        // The records of the batch at hand are still there; the next batch is not.
        const drain = async () => {
          for (;;) if ((await iterator.next()).done) return;
        };
        await expect(drain()).rejects.toBeInstanceOf(TableCacheError);
      });

      it('should leave the other connections to the table working', async () => {
        const other = connect();
        await client.load(ts(0, 100));
        await client.close();
        expect(ids(await collect(other.getRecords(ts(0, 5))))).toEqual(range(0, 5));
        expect((await control.counts()).connections).toBe(1);
      });
    });
  });
}
