import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { CachedTable } from '../../src/core/CachedTable';
import { DbAccessError, RecordValidationError } from '../../src/core/errors';
import type { DbAccess, DbAccessOptions } from '../../src/core/types';
import { RestDbAccess, type RestDbAccessOptions, type RestRecordsSpec } from '../../src/db/RestDbAccess';
import { RangeIndexes } from '../../src/indexes/RangeIndexes';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { openPglite, type Database } from '../../demo/server/database';
import { startServer, type RunningServer } from '../../demo/server/startServer';
import { collect } from '../support/records';
import { FaultProxy } from './FaultProxy';

const SEED = 3000;
const SEED_END = Date.parse('2026-11-01T00:00:00Z');
const DAY = 86_400_000;

const readingSchema = z.object({
  id: z.number().int(),
  sensor: z.string(),
  ts: z.iso.datetime().transform((text) => Date.parse(text)),
  value: z.number(),
  note: z.string().nullable(),
});
type Reading = z.output<typeof readingSchema>;

let server: RunningServer;
let proxy: FaultProxy;
let pglite: Database | undefined;

/** Lets the server's database run `queriesLeft` more queries, then holds the rest until `release()`. */
const gate = {
  queriesLeft: Infinity,
  opened: Promise.resolve(),
  open: () => {},
  holdAfter(queries: number) {
    this.queriesLeft = queries;
    this.opened = new Promise((resolve) => (this.open = resolve));
  },
  release() {
    this.queriesLeft = Infinity;
    this.open();
  },
};

beforeAll(async () => {
  const db = await openPglite();
  pglite = db;
  const gated: Database = {
    kind: db.kind,
    async query(sql, params) {
      if (gate.queriesLeft <= 0) await gate.opened;
      else gate.queriesLeft--;
      return db.query(sql, params);
    },
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  };
  server = await startServer({ database: gated, seedReadings: SEED, seedEnd: new Date(SEED_END), batchSize: 100 });
  proxy = await FaultProxy.start(server.url);
}, 120_000);

afterAll(async () => {
  gate.release();
  await proxy?.close();
  await server?.close();
  await pglite?.close();
});

afterEach(() => proxy.reset());

/** A RestDbAccess through the fault proxy, retrying fast. */
function viaProxy(options: Partial<RestDbAccessOptions<Reading>> = {}): RestDbAccess<Reading> {
  return new RestDbAccess({ baseUrl: `${proxy.url}/api`, schema: readingSchema, retry: { baseDelayMs: 1 }, ...options });
}

async function countInDb(where = 'true', params: unknown[] = []): Promise<number> {
  const [row] = await server.db.query<{ count: number }>(`select count(*)::int as count from readings where ${where}`, params);
  return row?.count ?? 0;
}

const lastDays = (days: number): RestRecordsSpec => ({ path: 'readings', query: { ge: SEED_END - days * DAY, lt: SEED_END } });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('RestDbAccess', () => {
  describe('getRecords', () => {
    it('should stream the records of an NDJSON response through the schema', async () => {
      const records = await collect(viaProxy().getRecords(lastDays(3)));
      expect(records).toHaveLength(await countInDb(`ts >= $1 and ts < $2`, [new Date(SEED_END - 3 * DAY), new Date(SEED_END)]));
      expect(records.length).toBeGreaterThan(0);
      expect(records.every((record) => typeof record.ts === 'number' && record.ts >= SEED_END - 3 * DAY && record.ts < SEED_END)).toBe(
        true,
      );
      expect(proxy.requests[0]?.headers.accept).toBe('application/x-ndjson, application/json;q=0.9');
    });

    it('should read a JSON array when the server answers application/json', async () => {
      const db = viaProxy({ accept: 'application/json' });
      const records = await collect(db.getRecords(lastDays(1)));
      expect(records.map((record) => record.id)).toEqual((await collect(viaProxy().getRecords(lastDays(1)))).map((record) => record.id));
      expect(records.length).toBeGreaterThan(0);
    });

    it('should follow next links through JSON pages until next is null', async () => {
      const records = await collect(viaProxy().getRecords({ path: 'readings', query: { format: 'json', limit: 700 } }));
      expect(records).toHaveLength(SEED);
      expect(new Set(records.map((record) => record.id)).size).toBe(SEED);
      expect(proxy.requests).toHaveLength(Math.ceil(SEED / 700));
      expect(proxy.requests[1]?.url).toMatch(/after=/);
    });

    it('should send array parameters comma-separated', async () => {
      const records = await collect(viaProxy().getRecords({ path: '/readings', query: { ids: [3, 1, 2] } }));
      expect(records.map((record) => record.id).sort()).toEqual([1, 2, 3]);
    });

    it('should send the headers option, calling a function before every request', async () => {
      let calls = 0;
      const db = viaProxy({
        headers: async () => ({ Authorization: `Bearer token-${++calls}` }),
      });
      await collect(db.getRecords({ path: 'readings', query: { format: 'json', limit: 2000 } }));
      expect(proxy.requests.map((request) => request.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    });

    it('should reject with a RecordValidationError naming the position across pages and the field', async () => {
      const strict = readingSchema.extend({ sensor: z.string().regex(/^sensor-0\d$/, 'expected sensor-01 to sensor-09') });
      const db = new RestDbAccess({ baseUrl: `${proxy.url}/api`, schema: strict });
      const yielded: Reading[] = [];
      const error = await rejection(
        (async () => {
          for await (const record of db.getRecords({ path: 'readings', query: { format: 'json', limit: 4 } })) yielded.push(record);
        })(),
      );
      expect(error).toBeInstanceOf(RecordValidationError);
      expect(error).toMatchObject({ position: 9, path: ['sensor'] });
      expect((error as Error).message).toMatch(/Record 9 .* at 'sensor': expected sensor-01 to sensor-09/);
      expect(yielded).toHaveLength(9);
      expect(proxy.requests).toHaveLength(3);
    });

    it('should yield the NDJSON records before a record failing the schema, then reject naming it', async () => {
      const strict = readingSchema.extend({ sensor: z.string().regex(/^sensor-0\d$/, 'expected sensor-01 to sensor-09') });
      const db = new RestDbAccess({ baseUrl: `${proxy.url}/api`, schema: strict });
      const yielded: Reading[] = [];
      const error = await rejection(
        (async () => {
          for await (const record of db.getRecords({ path: 'readings' })) yielded.push(record);
        })(),
      );
      expect(error).toBeInstanceOf(RecordValidationError);
      expect(error).toMatchObject({ position: 9, path: ['sensor'], url: `${proxy.url}/api/readings` });
      expect(yielded.map((record) => record.sensor)).toEqual(Array.from({ length: 9 }, (_, i) => `sensor-0${i + 1}`));
    });

    it('should validate each record only when it is handed out, not a whole chunk ahead', async () => {
      // One chunk of 500 lines: parsing them all at once held the worker for milliseconds and kept them all in memory.
      const line = (id: number) => JSON.stringify({ id, sensor: 's', ts: '2026-11-01T00:00:00.000Z', value: 1, note: null });
      const body = `${Array.from({ length: 500 }, (_, id) => line(id)).join('\n')}\n`;
      proxy.inject({ kind: 'status', status: 200, headers: { 'Content-Type': 'application/x-ndjson' }, body });
      let validated = 0;
      const counting = readingSchema.transform((reading) => {
        validated++;
        return reading;
      });
      const records = viaProxy({ schema: counting }).getRecords(lastDays(1))[Symbol.asyncIterator]();
      expect((await records.next()).value).toMatchObject({ id: 0 });
      expect((await records.next()).value).toMatchObject({ id: 1 });
      expect(validated).toBe(2);
      await records.return?.(undefined);
    });

    it('should reject a line that is not JSON with a RecordValidationError at its position', async () => {
      const line = JSON.stringify({ id: 1, sensor: 's', ts: '2026-11-01T00:00:00.000Z', value: 1, note: null });
      proxy.inject({ kind: 'status', status: 200, headers: { 'Content-Type': 'application/x-ndjson' }, body: `${line}\n{"id":2,\n` });
      const error = await rejection(collect(viaProxy().getRecords(lastDays(1))));
      expect(error).toBeInstanceOf(RecordValidationError);
      expect(error).toMatchObject({ position: 1, path: [] });
      expect((error as Error).message).toMatch(/not valid JSON/);
    });

    it('should reject a response of another content type without retrying', async () => {
      proxy.inject({ kind: 'status', status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html></html>' });
      const error = await rejection(collect(viaProxy().getRecords(lastDays(1))));
      expect(error).toMatchObject({ name: 'DbAccessError', status: 200 });
      expect((error as Error).message).toMatch(/text\/html/);
      expect(proxy.requests).toHaveLength(1);
    });

    it('should reject a 4xx with its status and the server message, without retrying', async () => {
      const error = await rejection(collect(viaProxy().getRecords({ path: 'readings', query: { gte: 1 } })));
      expect(error).toBeInstanceOf(DbAccessError);
      expect(error).toMatchObject({ status: 400, offline: false, timedOut: false });
      expect((error as DbAccessError).url).toBe(`${proxy.url}/api/readings?gte=1`);
      expect((error as Error).message).toMatch(/400 Bad Request: Invalid query parameters/);
      expect(proxy.requests).toHaveLength(1);
    });

    it('should reject a 404 for an unknown path without retrying', async () => {
      const error = await rejection(collect(viaProxy().getRecords({ path: 'nothing-here' })));
      expect(error).toMatchObject({ name: 'DbAccessError', status: 404 });
      expect(proxy.requests).toHaveLength(1);
    });

    describe('onTotal', () => {
      /** What a fetch of `spec` tells onTotal and yields, in order. */
      async function events(access: RestDbAccess<Reading>, spec: RestRecordsSpec): Promise<string[]> {
        const seen: string[] = [];
        for await (const record of access.getRecords(spec, { onTotal: (total) => seen.push(`total ${total}`) }))
          seen.push(`record ${record.id}`);
        return seen;
      }

      it("should hear the response's X-Total-Count once, before the first record", async () => {
        const seen = await events(viaProxy(), lastDays(2));
        const records = seen.filter((event) => event.startsWith('record'));
        expect(records.length).toBe(await countInDb('ts >= $1 and ts < $2', [new Date(SEED_END - 2 * DAY), new Date(SEED_END)]));
        expect(seen.filter((event) => event.startsWith('total'))).toEqual([`total ${records.length}`]);
        expect(seen[0]).toBe(`total ${records.length}`);
      });

      it('should tell it once when the first response breaks before any record and is retried', async () => {
        proxy.inject({ kind: 'drop', afterBytes: 0 });
        const seen = await events(viaProxy(), lastDays(1));
        expect(proxy.requests.length).toBe(2);
        expect(seen.filter((event) => event.startsWith('total'))).toHaveLength(1);
      });

      it("should take the first page's count for every page, and ignore a value that is not a whole number", async () => {
        const page = (records: object[], next: string | null, total: string) => ({
          kind: 'status' as const,
          status: 200,
          headers: { 'Content-Type': 'application/json', 'X-Total-Count': total },
          body: JSON.stringify({ records, next }),
        });
        const wire = (id: number) => ({ id, sensor: 's', ts: '2026-10-01T00:00:00.000Z', value: 1, note: null });
        proxy.inject(page([wire(1)], 'readings?page=2', '2'), page([wire(2)], null, '99'));
        expect(await events(viaProxy(), lastDays(1))).toEqual(['total 2', 'record 1', 'record 2']);
        proxy.inject(page([wire(3)], null, 'many'));
        expect(await events(viaProxy(), lastDays(1))).toEqual(['record 3']);
      });

      it('should never be called for a response without the header', async () => {
        // The whole table: the reference backend does not count it.
        expect(await events(viaProxy(), { path: 'readings', query: { limit: 3 } })).toHaveLength(3);
      });
    });

    it('should retry a 500 with backoff and then yield every record once', async () => {
      proxy.inject({ kind: 'status', status: 500 }, { kind: 'status', status: 502 });
      const records = await collect(viaProxy().getRecords(lastDays(1)));
      expect(records.map((record) => record.id)).toEqual((await collect(viaProxy().getRecords(lastDays(1)))).map((record) => record.id));
      expect(proxy.requests.slice(0, 3).map((request) => request.fault?.kind ?? 'passed')).toEqual(['status', 'status', 'passed']);
    });

    it('should give up after the configured attempts with the last status', async () => {
      proxy.inject(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 503 })));
      const error = await rejection(collect(viaProxy({ retry: { attempts: 3, baseDelayMs: 1 } }).getRecords(lastDays(1))));
      expect(error).toMatchObject({ name: 'DbAccessError', status: 503 });
      expect(proxy.requests).toHaveLength(3);
    });

    it('should retry a 429 after the Retry-After it asks for', async () => {
      proxy.inject({ kind: 'status', status: 429, headers: { 'Retry-After': '0' } });
      const records = await collect(viaProxy({ retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } }).getRecords(lastDays(1)));
      expect(records.length).toBeGreaterThan(0);
      expect(proxy.requests).toHaveLength(2);
    });

    it('should report a 429 at once when its Retry-After is longer than maxDelayMs', async () => {
      proxy.inject({ kind: 'status', status: 429, headers: { 'Retry-After': '3600' } });
      const error = await rejection(collect(viaProxy().getRecords(lastDays(1))));
      expect(error).toMatchObject({ name: 'DbAccessError', status: 429 });
      expect(proxy.requests).toHaveLength(1);
    });

    it('should time out when the response headers take longer than connectTimeoutMs, without retrying', async () => {
      proxy.inject({ kind: 'delay', ms: 5_000 });
      const error = await rejection(collect(viaProxy({ connectTimeoutMs: 100 }).getRecords(lastDays(1))));
      expect(error).toMatchObject({ name: 'DbAccessError', timedOut: true, offline: true, status: undefined });
      expect(proxy.requests).toHaveLength(1);
    });

    it('should fail at once as offline, sending nothing, when navigator.onLine is false', async () => {
      vi.stubGlobal('navigator', { onLine: false });
      try {
        const error = await rejection(collect(viaProxy().getRecords(lastDays(1))));
        expect(error).toMatchObject({ name: 'DbAccessError', offline: true, timedOut: false });
        expect((error as Error).message).toMatch(/navigator.onLine is false/);
        expect(proxy.requests).toHaveLength(0);
        expect((await collect(viaProxy({ trustNavigatorOnLine: false }).getRecords(lastDays(1)))).length).toBeGreaterThan(0);
      } finally {
        vi.unstubAllGlobals();
      }
    });

    it('should take a byte-stream body in pieces of at most 64 KiB, however much of it has arrived', async () => {
      const lines = Array.from({ length: 4000 }, (_, id) =>
        JSON.stringify({ id, sensor: 's', ts: new Date(SEED_END - id * 1000).toISOString(), value: id, note: null }),
      );
      const body = new TextEncoder().encode(`${lines.join('\n')}\n`);
      const asked: (number | null)[] = [];
      let sent = 0;
      // All of it available from the start (as after a pause of the reader, with the backend far ahead).
      const stream = new ReadableStream({
        type: 'bytes',
        pull(controller) {
          const request = controller.byobRequest;
          asked.push(request?.view?.byteLength ?? null);
          const view = request?.view;
          if (!request || !view) {
            controller.enqueue(body.slice(sent));
            sent = body.byteLength;
          } else {
            const piece = body.subarray(sent, sent + view.byteLength);
            new Uint8Array(view.buffer, view.byteOffset, piece.byteLength).set(piece);
            sent += piece.byteLength;
            request.respond(piece.byteLength);
          }
          if (sent === body.byteLength) controller.close();
        },
      });
      const ndjson: typeof fetch = async () => new Response(stream, { headers: { 'Content-Type': 'application/x-ndjson' } });
      const access = new RestDbAccess({ baseUrl: 'http://127.0.0.1:9/api', schema: readingSchema, fetch: ndjson });
      const records = await collect(access.getRecords(lastDays(1)));
      expect(records.map((record) => record.id)).toEqual(lines.map((_, id) => id));
      expect(body.byteLength).toBeGreaterThan(4 * 65_536);
      expect(asked.length).toBeGreaterThan(4);
      expect(asked.every((size) => size === 65_536)).toBe(true);
    });

    it('should wait at most 5 s for the response headers by default', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        const hanging: typeof fetch = (_input, init) =>
          new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
        const access = new RestDbAccess({ baseUrl: 'http://127.0.0.1:9/api', schema: readingSchema, fetch: hanging });
        let settled = false;
        const result = rejection(collect(access.getRecords(lastDays(1)))).finally(() => (settled = true));
        await vi.advanceTimersByTimeAsync(4_999);
        expect(settled).toBe(false);
        await vi.advanceTimersByTimeAsync(1);
        expect(await result).toMatchObject({ name: 'DbAccessError', timedOut: true, offline: true });
      } finally {
        vi.useRealTimers();
      }
    });

    it('should time out when the body stops flowing for timeoutMs', async () => {
      proxy.inject({ kind: 'stall', afterBytes: 2000 });
      const yielded: Reading[] = [];
      const error = await rejection(
        (async () => {
          for await (const record of viaProxy({ timeoutMs: 200, connectTimeoutMs: 10_000 }).getRecords(lastDays(3))) yielded.push(record);
        })(),
      );
      expect(error).toMatchObject({ name: 'DbAccessError', timedOut: true, status: 200 });
      expect(yielded.length).toBeGreaterThan(0);
    });

    it('should reject, not retry, when the connection drops after records were yielded', async () => {
      proxy.inject({ kind: 'drop', afterBytes: 5000 });
      const yielded: Reading[] = [];
      const error = await rejection(
        (async () => {
          for await (const record of viaProxy().getRecords(lastDays(10))) yielded.push(record);
        })(),
      );
      expect(error).toBeInstanceOf(DbAccessError);
      expect(error).toMatchObject({ status: 200, offline: false, timedOut: false });
      expect((error as Error).message).toMatch(/connection broke/);
      expect(yielded.length).toBeGreaterThan(0);
      expect(new Set(yielded.map((record) => record.id)).size).toBe(yielded.length);
      expect(proxy.requests).toHaveLength(1);
    });

    it('should retry when the connection drops before any record arrived', async () => {
      proxy.inject({ kind: 'drop', afterBytes: 0 });
      const records = await collect(viaProxy().getRecords(lastDays(1)));
      expect(records.length).toBe(await countInDb(`ts >= $1 and ts < $2`, [new Date(SEED_END - DAY), new Date(SEED_END)]));
      expect(proxy.requests).toHaveLength(2);
    });

    it('should retry a hang-up before the headers as a network failure', async () => {
      proxy.inject({ kind: 'hangUp' });
      const records = await collect(viaProxy().getRecords(lastDays(1)));
      expect(records.length).toBeGreaterThan(0);
      expect(proxy.requests).toHaveLength(2);
    });

    it('should report offline when nothing answers at the address', async () => {
      const stopped = await FaultProxy.start(server.url);
      await stopped.close();
      const db = new RestDbAccess({ baseUrl: `${stopped.url}/api`, schema: readingSchema, retry: { attempts: 2, baseDelayMs: 1 } });
      const error = await rejection(collect(db.getRecords(lastDays(1))));
      expect(error).toBeInstanceOf(DbAccessError);
      expect(error).toMatchObject({
        offline: true,
        timedOut: false,
        status: undefined,
        url: `${stopped.url}/api/readings?ge=${SEED_END - DAY}&lt=${SEED_END}`,
      });
    });

    it('should abort the request when the signal fires in the middle of the stream', async () => {
      const controller = new AbortController();
      const yielded: Reading[] = [];
      const error = await rejection(
        (async () => {
          for await (const record of viaProxy().getRecords(lastDays(30), { signal: controller.signal })) {
            yielded.push(record);
            if (yielded.length === 10) controller.abort();
          }
        })(),
      );
      expect(error).toBeInstanceOf(DbAccessError);
      expect((error as DbAccessError).cause).toBe(controller.signal.reason);
      expect(yielded.length).toBeLessThan(SEED);
      expect(proxy.requests).toHaveLength(1);
    });

    it('should stop yielding the records of a JSON page already read when the signal fires', async () => {
      const controller = new AbortController();
      const yielded: Reading[] = [];
      const error = await rejection(
        (async () => {
          const spec = { path: 'readings', query: { format: 'json' } };
          for await (const record of viaProxy().getRecords(spec, { signal: controller.signal })) {
            yielded.push(record);
            if (yielded.length === 3) controller.abort();
          }
        })(),
      );
      expect(error).toBeInstanceOf(DbAccessError);
      expect(yielded).toHaveLength(3);
    });

    it('should not send a request when the signal is already aborted', async () => {
      const options: DbAccessOptions = { signal: AbortSignal.abort() };
      const error = await rejection(collect(viaProxy().getRecords(lastDays(1), options)));
      expect(error).toBeInstanceOf(DbAccessError);
      expect(proxy.requests).toHaveLength(0);
    });

    it('should cancel the response when the loop breaks, so that the server stops streaming', async () => {
      const before = { ...server.stats };
      const db = new RestDbAccess({ baseUrl: `${server.url}/api`, schema: readingSchema });
      // The server sends its first batch, then waits for the database until the test is done.
      gate.holdAfter(1);
      try {
        for await (const record of db.getRecords({ path: 'readings' })) {
          expect(record.id).toBeGreaterThan(0);
          break;
        }
        await vi.waitFor(() => expect(server.stats.cancelled).toBe(before.cancelled + 1), { timeout: 10_000 });
      } finally {
        gate.release();
      }
      expect(server.stats.completed).toBe(before.completed);
    }, 15_000);
  });

  describe('with CachedTable', () => {
    /** Counts the records the wrapped DbAccess yields. */
    class CountingDbAccess implements DbAccess<Reading, RestRecordsSpec> {
      yielded = 0;
      constructor(private readonly inner: DbAccess<Reading, RestRecordsSpec>) {}
      async *getRecords(spec: RestRecordsSpec, options?: DbAccessOptions): AsyncGenerator<Reading> {
        for await (const record of this.inner.getRecords(spec, options)) {
          this.yielded++;
          yield record;
        }
      }
    }

    it("should report the backend's total in an adjust's progress, so that loaded / total reaches 1", async () => {
      const indexes = new RangeIndexes<Reading, number, RestRecordsSpec, 'ts'>({
        indexName: 'ts',
        primaryKey: (record) => record.id,
        score: (record) => record.ts,
        dbRecordsSpecForRange: (ge, lt) => ({ path: 'readings', query: { ge, lt } }),
      });
      const table = new CachedTable(indexes, viaProxy(), new MemoryStorageTable(indexes));
      await table.load({ indexName: 'ts', ge: SEED_END - DAY, lt: SEED_END });
      const progress: { loaded: number; expired: number; total?: number }[] = [];
      await table.adjust({ indexName: 'ts', ge: SEED_END - 5 * DAY, lt: SEED_END }, { onProgress: (report) => progress.push(report) });
      const fetched = await countInDb('ts >= $1 and ts < $2', [new Date(SEED_END - 5 * DAY), new Date(SEED_END - DAY)]);
      expect(progress[0]).toEqual({ loaded: 0, expired: 0, total: fetched });
      expect(progress.at(-1)).toEqual({ loaded: fetched, expired: 0, total: fetched });
    });

    it('should leave the cache exactly as it was when the connection breaks in the middle of an adjust', async () => {
      const indexes = new RangeIndexes<Reading, number, RestRecordsSpec, 'ts'>({
        indexName: 'ts',
        primaryKey: (record) => record.id,
        score: (record) => record.ts,
        dbRecordsSpecForRange: (ge, lt) => ({ path: 'readings', query: { ge, lt } }),
      });
      const storage = new MemoryStorageTable(indexes);
      const db = new CountingDbAccess(viaProxy());
      const table = new CachedTable(indexes, db, storage);
      const held = { indexName: 'ts' as const, ge: SEED_END - 2 * DAY, lt: SEED_END };
      const wanted = { indexName: 'ts' as const, ge: SEED_END - 10 * DAY, lt: SEED_END };
      await table.load(held);
      const heldRecords = await collect(table.getRecords(held));
      const statsBefore = table.stats();
      const sizeBefore = storage.size;

      proxy.inject({ kind: 'drop', afterBytes: 8000 });
      db.yielded = 0;
      const error = await rejection(table.adjust(wanted));

      expect(error).toBeInstanceOf(DbAccessError);
      expect(db.yielded).toBeGreaterThan(0);
      expect(indexes.covers(held)).toBe(true);
      expect(indexes.covers(wanted)).toBe(false);
      expect(storage.size).toBe(sizeBefore);
      expect(await collect(table.getRecords(held))).toEqual(heldRecords);
      expect(table.stats().adjustments).toBe(statsBefore.adjustments);

      await table.adjust(wanted);
      const wantedRecords = await collect(table.getRecords(wanted));
      expect(wantedRecords).toHaveLength(await countInDb(`ts >= $1 and ts < $2`, [new Date(wanted.ge), new Date(wanted.lt)]));
      expect(storage.size).toBe(wantedRecords.length);
      expect(table.stats().reads.cacheMiss).toBe(0);
    });
  });
});
