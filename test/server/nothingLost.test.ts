// Issue 15 item 7: a client that reads, follows the change feed, disconnects, reloads and resumes never loses a
// change. Random writes (seeded: a failure replays with the same operations) go to the reference backend; after
// quiescence every covered read must equal the backend's answer exactly. A backend restart, a feed cut in the middle
// of a batch and a reset are part of the run.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readingSchema } from '../../demo/shared';
import type { Reading } from '../../demo/ui/types';
import { pruneChanges } from '../../demo/server/changes';
import { openPglite, openPostgres, type Database } from '../../demo/server/database';
import { startServer, type RunningServer } from '../../demo/server/startServer';
import { CachedTable } from '../../src/core/CachedTable';
import type { ChangeFollower } from '../../src/core/changeFeed';
import { Interval } from '../../src/core/Interval';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import type { DbAccess, DbAccessOptions } from '../../src/core/types';
import { RestChangeFeed } from '../../src/db/RestChangeFeed';
import { RestDbAccess, type RestRecordsSpec } from '../../src/db/RestDbAccess';
import { RangeIndexes, type RangeSpec } from '../../src/indexes/RangeIndexes';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { FaultProxy } from '../db/FaultProxy';
import { seededRandom } from '../support/records';
import { testBackends } from './postgres';

const backends = await testBackends('nothing_lost');

const SEED = Number(process.env.NOTHING_LOST_SEED ?? 1515);
const WRITES_PER_PHASE = 30;
const DAY = 86_400_000;
const END = Date.parse('2026-11-01T00:00:00Z');
/** The seed spreads readings over the 30 days before END; the cache holds ten of them. */
const HELD = { indexName: 'ts', ge: END - 20 * DAY, lt: END - 10 * DAY } as const satisfies RangeSpec<'ts'>;
const HEARTBEAT_MS = 200;

type Spec = RangeSpec<'ts'>;
type Table = CachedTable<Reading, number, Spec, RestRecordsSpec>;

const indexes = () =>
  new RangeIndexes<Reading, number, RestRecordsSpec, 'ts'>({
    indexName: 'ts',
    primaryKey: (reading) => reading.id,
    score: (reading) => reading.ts,
    dbRecordsSpecForRange: (ge, lt) => ({ path: '/api/readings', query: { ge, lt } }),
    dbRecordsSpecForKeys: (ids) => ({ path: '/api/readings', query: { ids: ids.join(',') } }),
  });

/** The backend access, counting the ranged requests (as opposed to the by-id ones) that reach it. */
class CountingDb implements DbAccess<Reading, RestRecordsSpec> {
  ranged = 0;
  constructor(private readonly rest: RestDbAccess<Reading>) {}

  getRecords(spec: RestRecordsSpec, options?: DbAccessOptions): AsyncIterable<Reading> {
    if (spec.query && 'ge' in spec.query) this.ranged++;
    return this.rest.getRecords(spec, options);
  }
}

const byId = (records: Iterable<Reading>) => [...records].sort((a, b) => a.id - b.id);
async function collect<T>(records: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const record of records) all.push(record);
  return all;
}

describe.each(backends)('followChanges against the reference server on $name', (backend) => {
  let db: Database;
  let server: RunningServer;
  let proxy: FaultProxy;
  let port = 0;
  let rest: RestDbAccess<Reading>;

  const start = async () => {
    server = await startServer({
      database: db,
      port,
      seedReadings: 200,
      seedEnd: new Date(END),
      changeFeed: { heartbeatMs: HEARTBEAT_MS },
    });
    port = server.port;
  };

  beforeAll(async () => {
    db = backend.url ? await openPostgres(backend.url) : await openPglite();
    await start();
    proxy = await FaultProxy.start(server.url);
    rest = new RestDbAccess({ baseUrl: server.url, schema: readingSchema, retry: { attempts: 1 } });
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await server?.close();
    await db?.close();
  });

  it(
    'should leave every covered read equal to the backend after random writes, reads, reloads, a restart, a cut feed and a reset',
    { timeout: 240_000 },
    async () => {
      const random = seededRandom(SEED);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
      const ids = (await db.query<{ id: number }>('select id from readings order by id')).map((row) => Number(row.id));
      const storage = new MemoryStorageTable<Reading>(indexes());

      const openFeed = (after: string | null) =>
        new RestChangeFeed<number>({
          baseUrl: `${proxy.url}/api`,
          after,
          heartbeatMs: HEARTBEAT_MS,
          batchWindowMs: 5,
          // Small batches: a catch-up is several of them, so that a cut lands inside one.
          maxBatchKeys: 4,
          retry: { baseDelayMs: 10, maxDelayMs: 200 },
        });

      /** A page: a new table over the same storage, following the feed, loaded or resumed. */
      async function page(how: 'load' | 'resume') {
        const counting = new CountingDb(rest);
        const table: Table = new CachedTable(indexes(), counting, storage, { name: 'readings' });
        const follower = table.followChanges(openFeed, { retryDelayMs: 10, maxRetryDelayMs: 200 });
        if (how === 'load') {
          await vi.waitFor(() => expect(follower.status).toBe('live'), { timeout: 20_000, interval: 10 });
          await table.load(HELD);
        } else {
          await table.resume();
        }
        return { table, follower, counting };
      }

      const randomTs = () => END - 30 * DAY + Math.floor(random() * 30 * DAY);
      const send = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        expect(response.status, `${method} ${path}`).toBeLessThan(300);
        return response;
      };
      /** One random write: an insert, a change of value (moving nothing), a move to a random time (in, out or within the held range), or a delete. */
      async function write(): Promise<void> {
        const roll = random();
        if (roll < 0.2 || ids.length < 20) {
          const created = (await (
            await send('POST', '/api/readings', {
              sensor: `s${Math.floor(random() * 4)}`,
              ts: randomTs(),
              value: Math.floor(random() * 1000),
            })
          ).json()) as { id: number };
          ids.push(created.id);
        } else if (roll < 0.45) {
          await send('PATCH', `/api/readings/${pick(ids)}`, { value: Math.floor(random() * 1000) });
        } else if (roll < 0.85) {
          await send('PATCH', `/api/readings/${pick(ids)}`, { ts: randomTs() });
        } else {
          const id = pick(ids);
          ids.splice(ids.indexOf(id), 1);
          await send('DELETE', `/api/readings/${id}`);
        }
      }
      /** A random covered read, or one reaching past the held range (a partial hit); errors only while the backend is down. */
      async function read(table: Table, backendUp: boolean): Promise<void> {
        const ge = HELD.ge + Math.floor(random() * 10 * DAY);
        const span = Math.floor(random() * 4 * DAY);
        const spec: Spec =
          random() < 0.8 ? { indexName: 'ts', ge, lt: Math.min(HELD.lt, ge + span) } : { indexName: 'ts', ge, lt: ge + 6 * DAY };
        try {
          await collect((await table.readRecords(spec)).records);
        } catch (error) {
          if (backendUp) throw error;
        }
      }
      async function phase(table: Table, writes = WRITES_PER_PHASE, backendUp = true): Promise<void> {
        for (let i = 0; i < writes; i++) {
          if (random() < 0.3) await read(table, backendUp);
          await write();
        }
      }
      /** Waits until the follower has applied every change the backend logged. */
      async function quiesce(follower: ChangeFollower): Promise<void> {
        const [row] = await db.query<{ cursor: string }>('select coalesce(max(cursor), 0)::text as cursor from changes');
        const latest = BigInt(row?.cursor ?? '0');
        await vi.waitFor(() => expect(BigInt(follower.cursor ?? '-1')).toBeGreaterThanOrEqual(latest), { timeout: 60_000, interval: 20 });
      }
      /** Every covered read (the held range, and random parts of it) equals the backend's answer; storage holds exactly the backend's records of the held range. */
      async function check(table: Table, where: string): Promise<void> {
        const specs: Spec[] = [HELD];
        for (let i = 0; i < 5; i++) {
          const ge = HELD.ge + Math.floor(random() * 10 * DAY);
          specs.push({ indexName: 'ts', ge, lt: Math.min(HELD.lt, ge + Math.floor(random() * 3 * DAY) + 1) });
        }
        for (const spec of specs) {
          const cached = await table.readRecords(spec);
          expect(cached.from, where).toBe('storage');
          const expected = byId(
            await collect(rest.getRecords({ path: '/api/readings', query: { ge: Number(spec.ge), lt: Number(spec.lt) } })),
          );
          expect(byId(await collect(cached.records)), `${where}: [${Number(spec.ge)}, ${Number(spec.lt)})`).toEqual(expected);
        }
        const inStorage = byId(await collect(storage.getRecords(new StorageRecordsSpec('ts', [Interval.everything()]))));
        const backendHeld = byId(await collect(rest.getRecords({ path: '/api/readings', query: { ge: HELD.ge, lt: HELD.lt } })));
        expect(inStorage, `${where}: storage`).toEqual(backendHeld);
      }

      // 1. First visit: load once the feed is live, then follow while writing and reading.
      let current = await page('load');
      expect(current.counting.ranged).toBe(1);
      await phase(current.table);
      await quiesce(current.follower);
      await check(current.table, 'after following');

      // 2. The page goes away; changes go on; a reload resumes from the stored cursor, its catch-up feed cut mid-batch.
      await current.table.close();
      await phase(current.table, WRITES_PER_PHASE, true);
      proxy.inject({ kind: 'drop', afterBytes: 180 });
      current = await page('resume');
      await quiesce(current.follower);
      // Caught up by keys only: nothing was marked stale, no range refetched.
      expect(current.counting.ranged).toBe(0);
      expect(proxy.requests.filter((request) => request.fault?.kind === 'drop')).toHaveLength(1);
      await phase(current.table);
      await quiesce(current.follower);
      await check(current.table, 'after a reload and a cut feed');

      // 3. The backend restarts while the feed is followed: changes made meanwhile directly in the database are not lost.
      await phase(current.table, 10);
      await server.close();
      await vi.waitFor(() => expect(current.follower.status).not.toBe('live'), { timeout: 20_000, interval: 10 });
      await read(current.table, false);
      const moved = pick(ids);
      await db.query('update readings set ts = $1 where id = $2', [new Date(HELD.ge + 3 * DAY).toISOString(), moved]);
      await start();
      await vi.waitFor(() => expect(current.follower.status).toBe('live'), { timeout: 30_000, interval: 10 });
      await phase(current.table);
      await quiesce(current.follower);
      await check(current.table, 'after a backend restart');
      expect((await current.table.getFirstRecord({ indexName: 'ts', ge: HELD.ge + 3 * DAY, lt: HELD.ge + 3 * DAY + 1 })).id).toBe(moved);

      // 4. Closed again; the log is pruned past the stored cursor: the reload's feed says reset, and everything is refreshed once.
      await current.table.close();
      await phase(current.table, 10);
      await pruneChanges(db, { maxChanges: 1, maxAgeMs: 3_600_000 });
      current = await page('resume');
      await phase(current.table, 10);
      await quiesce(current.follower);
      await check(current.table, 'after a reset');
      expect(current.counting.ranged).toBeGreaterThan(0);
      await current.table.close();
    },
  );
});
