import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import pg from 'pg';
import { pruneChanges } from '../../demo/server/changes';
import { startServer, type RunningServer } from '../../demo/server/startServer';
import type { WireReading } from '../../demo/server/readings';
import { FeedLines } from './feedLines';
import { testBackends } from './postgres';

const backends = await testBackends('changes');

let server: RunningServer;
const open: FeedLines[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((feed) => feed.close()));
});

async function feed(after?: string): Promise<FeedLines> {
  const lines = await FeedLines.open(server.url, after);
  open.push(lines);
  return lines;
}

function write(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function liveCursor(lines: FeedLines): Promise<string> {
  const first = await lines.nextNotHeartbeat();
  expect(first).toEqual({ $live: { cursor: expect.stringMatching(/^\d+$/) } });
  return (first as { $live: { cursor: string } }).$live.cursor;
}

describe.each(backends)('reference server on $name', (backend) => {
  beforeAll(async () => {
    server = await startServer({
      database: backend.url ? { url: backend.url } : undefined,
      seedReadings: 200,
      changeFeed: { heartbeatMs: 100, maxConnections: 6 },
    });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  describe('GET /api/changes', { timeout: 20_000 }, () => {
    it('should start from now without after, telling the current cursor, then stream each committed change', async () => {
      const lines = await feed();
      const start = await liveCursor(lines);
      const created = (await (
        await write('POST', '/api/readings', { sensor: 's', ts: '2026-11-01T00:00:00Z', value: 1 })
      ).json()) as WireReading;
      await write('PATCH', `/api/readings/${created.id}`, { value: 2 });
      await write('DELETE', `/api/readings/${created.id}`);
      const changes = await lines.changes(3);
      expect(changes.map(({ key, op }) => ({ key, op }))).toEqual([
        { key: created.id, op: 'upsert' },
        { key: created.id, op: 'upsert' },
        { key: created.id, op: 'delete' },
      ]);
      const cursors = [start, ...changes.map((change) => change.cursor)].map(BigInt);
      expect([...cursors].sort((a, b) => (a < b ? -1 : 1))).toEqual(cursors);
      expect(new Set(cursors).size).toBe(4);
    });

    it('should stream changes made directly in the database, by any connection', async () => {
      const lines = await feed();
      await liveCursor(lines);
      await server.db.query(`update readings set value = value + 1 where id in (5, 6)`);
      expect((await lines.changes(2)).map((change) => change.key).sort()).toEqual([5, 6]);
    });

    it('should catch up from after with every change since, then say it is live', async () => {
      const first = await feed();
      const start = await liveCursor(first);
      await write('PATCH', '/api/readings/7', { value: 7 });
      await write('PATCH', '/api/readings/8', { value: 8 });
      await first.changes(2);
      const lines = await feed(start);
      expect((await lines.changes(2)).map((change) => change.key)).toEqual([7, 8]);
      expect(await lines.nextNotHeartbeat()).toEqual({ $live: { cursor: expect.any(String) } });
    });

    it('should send heartbeats carrying the cursor while nothing changes', async () => {
      const lines = await feed();
      const start = await liveCursor(lines);
      expect(await lines.next()).toEqual({ $heartbeat: { cursor: start } });
    });

    it('should answer a cursor older than the retained log with a reset, then go on from the current cursor', async () => {
      const lines = await feed();
      const start = await liveCursor(lines);
      for (const id of [10, 11, 12]) await write('PATCH', `/api/readings/${id}`, { value: id });
      const changes = await lines.changes(3);
      await pruneChanges(server.db, { maxChanges: 1, maxAgeMs: 3_600_000 });
      const behind = await feed(start);
      const reset = await behind.nextNotHeartbeat();
      expect(reset).toEqual({ $reset: { cursor: expect.any(String) } });
      const resetCursor = (reset as { $reset: { cursor: string } }).$reset.cursor;
      expect(BigInt(resetCursor)).toBeGreaterThanOrEqual(BigInt(changes[2]?.cursor ?? '0'));
      expect(await behind.nextNotHeartbeat()).toEqual({ $live: { cursor: resetCursor } });
      // Within the retained log: no reset.
      const within = await feed(changes[1]?.cursor);
      expect(await within.nextNotHeartbeat()).toMatchObject({ key: 12 });
    });

    it('should answer a cursor this log never handed out with a reset', async () => {
      const lines = await feed('9223372036854775807');
      expect(await lines.nextNotHeartbeat()).toEqual({ $reset: { cursor: expect.any(String) } });
    });

    it.each([
      ['after=abc'],
      ['after=-1'],
      ['after=1.5'],
      ['after=99999999999999999999'],
      ['after=9223372036854775808'],
      ['after=1&after=2'],
      ['since=1'],
    ])('should answer %s with a 400 naming the parameter', async (query) => {
      const response = await fetch(`${server.url}/api/changes?${query}`);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { issues: { path: string[]; message: string }[] };
      expect(body.issues[0]?.message).toBeTruthy();
    });

    it('should refuse a Host that is not allowed', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        request(`${server.url}/api/changes`, { headers: { Host: 'attacker.example' } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
      expect(status).toBe(403);
    });

    it('should answer 503 with Retry-After past maxConnections, and serve again once feeds close', async () => {
      const feeds = await Promise.all(Array.from({ length: 6 }, () => feed()));
      await Promise.all(feeds.map((lines) => liveCursor(lines)));
      const refused = await fetch(`${server.url}/api/changes`);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      await Promise.all(open.splice(0).map((lines) => lines.close()));
      // The server notices the closed connections at its next write (a heartbeat at the latest).
      for (;;) {
        const response = await fetch(`${server.url}/api/changes`);
        if (response.status === 200) {
          await response.body?.cancel();
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
  });
});

const postgres = backends.find((backend) => backend.name === 'postgres');
if (postgres) {
  describe('two reference servers on one Postgres', { timeout: 30_000 }, () => {
    let a: RunningServer;
    let b: RunningServer;

    beforeAll(async () => {
      // A database of its own: the suite above keeps its server's data in the other.
      const url = new URL(postgres.url as string);
      url.pathname = `${url.pathname}_shared`;
      const adminUrl = new URL(url);
      adminUrl.pathname = '/postgres';
      const admin = new pg.Client({ connectionString: adminUrl.href });
      await admin.connect();
      await admin.query(`drop database if exists ${url.pathname.slice(1)} with (force)`);
      await admin.query(`create database ${url.pathname.slice(1)}`);
      await admin.end();
      a = await startServer({ database: { url: url.href }, seedReadings: 100, changeFeed: { heartbeatMs: 120_000 } });
      b = await startServer({ database: { url: url.href }, seedReadings: 100, changeFeed: { heartbeatMs: 120_000 } });
    }, 120_000);

    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
    });

    it('should deliver a change written through server A to a feed client of server B, woken by NOTIFY', async () => {
      const lines = await FeedLines.open(b.url);
      open.push(lines);
      expect(await lines.nextNotHeartbeat()).toMatchObject({ $live: {} });
      const response = await fetch(`${a.url}/api/readings/42`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ value: 4.2 }),
      });
      expect(response.status).toBe(200);
      // Heartbeats are 2 minutes apart here, beyond the test's timeout: the change can only come through NOTIFY.
      expect(await lines.next()).toMatchObject({ key: 42, op: 'upsert' });
      expect(((await (await fetch(`${b.url}/api/readings/42`)).json()) as { value: number }).value).toBe(4.2);
    });
  });
}
