import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InvalidSpecError } from '../../src/core/errors';
import { RestChangeFeed, type ChangeFeedEvent, type ChangeFeedStatus, type RestChangeFeedOptions } from '../../src/db/RestChangeFeed';
import { RestProtocolError } from '../../src/db/RestProtocolError';
import { pruneChanges } from '../../demo/server/changes';
import { startServer, type RunningServer } from '../../demo/server/startServer';
import { HostileServer } from '../hostile/HostileServer';

let server: RunningServer;
let hostile: HostileServer;
const feeds: RestChangeFeed<number>[] = [];

beforeAll(async () => {
  [server, hostile] = await Promise.all([startServer({ seedReadings: 100, changeFeed: { heartbeatMs: 100 } }), HostileServer.start()]);
}, 120_000);

afterEach(async () => {
  for (const feed of feeds.splice(0)) feed.close();
  vi.unstubAllGlobals();
  await hostile.reset();
});

afterAll(async () => {
  await Promise.all([server?.close(), hostile?.close()]);
});

function follow(options: Partial<RestChangeFeedOptions<number>> = {}, baseUrl = `${server.url}/api`): RestChangeFeed<number> {
  const feed = new RestChangeFeed<number>({
    baseUrl,
    keySchema: z.number().int(),
    // The server beats every 100 ms; a loaded machine may delay a beat, which must not count as a dead feed here.
    heartbeatMs: 1000,
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    ...options,
  });
  feeds.push(feed);
  return feed;
}

/** Reads events from one iterator of `feed`, as a test asks for them. */
function reader(feed: RestChangeFeed<number>) {
  const iterator = feed[Symbol.asyncIterator]();
  return {
    async next(): Promise<ChangeFeedEvent<number>> {
      const result = await iterator.next();
      if (result.done) throw new Error('the feed ended');
      return result.value;
    },
    iterator,
  };
}

function untilStatus(feed: RestChangeFeed<number>, status: ChangeFeedStatus): Promise<void> {
  if (feed.status === status) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = feed.onStatus((now) => {
      if (now !== status) return;
      stop();
      resolve();
    });
  });
}

function patch(id: number, value: number): Promise<Response> {
  return fetch(`${server.url}/api/readings/${id}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ value }),
  });
}

describe('RestChangeFeed', { timeout: 20_000 }, () => {
  describe('against the reference server', () => {
    it('should go live from now, then yield each change with its cursor', async () => {
      const feed = follow();
      const events = reader(feed);
      const statuses: ChangeFeedStatus[] = [];
      feed.onStatus((status) => statuses.push(status));
      const first = events.next();
      await untilStatus(feed, 'live');
      expect(feed.cursor).toMatch(/^\d+$/);
      await patch(3, 33);
      const event = await first;
      expect(event).toEqual({ type: 'changes', cursor: expect.stringMatching(/^\d+$/), changes: [{ key: 3, op: 'upsert' }] });
      expect(feed.cursor).toBe((event as { cursor: string }).cursor);
      expect(statuses).toEqual(['live']);
    });

    it('should coalesce the changes of one transaction into one batch, each key once', async () => {
      const feed = follow({ batchWindowMs: 200 });
      const events = reader(feed);
      const first = events.next();
      await untilStatus(feed, 'live');
      await server.db.query(`update readings set value = value + 1 where id between 10 and 14`);
      await server.db.query(`update readings set value = value + 1 where id = 10`);
      const event = (await first) as Extract<ChangeFeedEvent<number>, { type: 'changes' }>;
      expect(event.changes.map((change) => change.key).sort((a, b) => a - b)).toEqual([10, 11, 12, 13, 14]);
    });

    it('should join the batches that gathered while the consumer was busy into the next one it asks for', async () => {
      const feed = follow();
      const events = reader(feed);
      const first = events.next();
      await untilStatus(feed, 'live');
      await patch(40, 1);
      expect(((await first) as { changes: unknown[] }).changes).toEqual([{ key: 40, op: 'upsert' }]);
      // The consumer does not ask for a while: two changes arrive and are flushed apart.
      const afterFirst = feed.cursor;
      await patch(41, 1);
      await vi.waitFor(() => expect(feed.cursor).not.toBe(afterFirst));
      const afterSecond = feed.cursor;
      await patch(42, 1);
      await vi.waitFor(() => expect(feed.cursor).not.toBe(afterSecond));
      const joined = (await events.next()) as { cursor: string; changes: { key: number }[] };
      expect(joined.changes.map((change) => change.key)).toEqual([41, 42]);
      expect(joined.cursor).toBe(feed.cursor);
    });

    it('should yield a batch at once when it reaches maxBatchKeys', async () => {
      const feed = follow({ maxBatchKeys: 2, batchWindowMs: 60_000 });
      const events = reader(feed);
      const first = events.next();
      await untilStatus(feed, 'live');
      await server.db.query(`update readings set value = value + 1 where id between 20 and 24`);
      expect(((await first) as { changes: unknown[] }).changes).toHaveLength(2);
      expect(((await events.next()) as { changes: unknown[] }).changes).toHaveLength(2);
    });

    it('should resume after a cursor with every change since, catching up before going live', async () => {
      const probe = follow();
      const probeEvents = reader(probe);
      const seen = probeEvents.next();
      await untilStatus(probe, 'live');
      const start = probe.cursor as string;
      await patch(30, 1);
      await patch(31, 1);
      await seen;
      probe.close();
      const feed = follow({ after: start });
      expect(feed.status).toBe('catching-up');
      const event = (await reader(feed).next()) as { changes: { key: number }[] };
      const keys = event.changes.map((change) => change.key);
      expect(keys).toContain(30);
    });

    it('should yield a reset for a cursor older than the retained log, then follow from the new cursor', async () => {
      await patch(40, 1);
      await patch(41, 1);
      await pruneChanges(server.db, { maxChanges: 0, maxAgeMs: 3_600_000 });
      const feed = follow({ after: '1' });
      const event = await reader(feed).next();
      expect(event).toEqual({ type: 'reset', cursor: expect.stringMatching(/^\d+$/) });
      await untilStatus(feed, 'live');
    });

    it('should end the iteration on close()', async () => {
      const feed = follow();
      const { iterator } = reader(feed);
      const next = iterator.next();
      await untilStatus(feed, 'live');
      feed.close();
      expect(await next).toEqual({ done: true, value: undefined });
    });

    it('should refuse a cursor that is not one, and bad options, at construction', () => {
      expect(() => follow({ after: 'abc' })).toThrow(InvalidSpecError);
      expect(() => follow({ heartbeatMs: Number.NaN })).toThrow(InvalidSpecError);
      expect(() => follow({ missedHeartbeats: 0 })).toThrow(InvalidSpecError);
      expect(() => follow({ maxBatchKeys: 1.5 })).toThrow(InvalidSpecError);
    });
  });

  describe('against a hostile server', () => {
    const ndjson = { 'Content-Type': 'application/x-ndjson' };

    it('should reconnect after the connection drops, resuming from the last cursor', async () => {
      hostile.route('/api/changes', (request, response) => {
        response.writeHead(200, ndjson);
        if (hostile.requestsFor('/api/changes').length === 1) {
          response.end('{"$live":{"cursor":"5"}}\n{"cursor":"6","key":1,"op":"upsert"}\n');
        } else {
          response.write(`{"$live":{"cursor":"6"}}\n{"cursor":"7","key":2,"op":"delete"}\n`);
          void request;
        }
      });
      const events = reader(follow({ batchWindowMs: 0 }, `${hostile.url}/api`));
      expect(await events.next()).toEqual({ type: 'changes', cursor: '6', changes: [{ key: 1, op: 'upsert' }] });
      expect(await events.next()).toEqual({ type: 'changes', cursor: '7', changes: [{ key: 2, op: 'delete' }] });
      expect(hostile.requestsFor('/api/changes')[1]?.url).toBe('/api/changes?after=6');
    });

    it('should reconnect when the feed stays silent past missedHeartbeats', async () => {
      hostile.route('/api/changes', (_request, response) => {
        response.writeHead(200, ndjson);
        response.write('{"$live":{"cursor":"1"}}\n');
      });
      const feed = follow({ heartbeatMs: 30, missedHeartbeats: 2 }, `${hostile.url}/api`);
      const { iterator } = reader(feed);
      void iterator.next();
      while (hostile.requestsFor('/api/changes').length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(hostile.requestsFor('/api/changes')[1]?.url).toBe('/api/changes?after=1');
    });

    it('should take a 400 for its cursor as a reset and start again from now', async () => {
      hostile.route('/api/changes', (request, response) => {
        if (request.url?.includes('after=')) response.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":"bad cursor"}');
        else response.writeHead(200, ndjson).write('{"$live":{"cursor":"3"}}\n');
      });
      const feed = follow({}, `${hostile.url}/api`);
      expect(await reader(feed).next()).toEqual({ type: 'reset', cursor: '3' });
      expect(feed.cursor).toBe('3');
    });

    it('should reject on a redirect to another origin, sending it nothing', async () => {
      const elsewhere = await HostileServer.start();
      try {
        hostile.route('/api/changes', (_request, response) => response.writeHead(302, { Location: `${elsewhere.url}/api/changes` }).end());
        await expect(reader(follow({ headers: { Authorization: 'Bearer x' } }, `${hostile.url}/api`)).next()).rejects.toBeInstanceOf(
          RestProtocolError,
        );
        expect(elsewhere.requests).toHaveLength(0);
      } finally {
        await elsewhere.close();
      }
    });

    it('should reject a line over maxLineBytes', async () => {
      hostile.route('/api/changes', (_request, response) =>
        response.writeHead(200, ndjson).write(`{"$live":{"cursor":"1"}}\n{"x":"${'y'.repeat(5000)}`),
      );
      await expect(reader(follow({ maxLineBytes: 1000 }, `${hostile.url}/api`)).next()).rejects.toMatchObject({
        violation: 'line-too-long',
      });
    });

    it('should reject a line that is not of the protocol', async () => {
      hostile.route('/api/changes', (_request, response) =>
        response.writeHead(200, ndjson).write('{"cursor":"1","key":"a","op":"upsert"}\n'),
      );
      await expect(reader(follow({}, `${hostile.url}/api`)).next()).rejects.toThrow(/key is invalid/);
    });

    it('should be offline and retry while the backend refuses connections', async () => {
      const closed = await HostileServer.start();
      const url = closed.url;
      await closed.close();
      let calls = 0;
      const feed = follow(
        {
          fetch: (input, init) => {
            calls++;
            return fetch(input, init);
          },
        },
        `${url}/api`,
      );
      void reader(feed).iterator.next();
      await untilStatus(feed, 'offline');
      while (calls < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    });

    it('should send nothing and be offline while navigator.onLine is false', async () => {
      vi.stubGlobal('navigator', { onLine: false });
      const feed = follow({}, `${hostile.url}/api`);
      void reader(feed).iterator.next();
      await untilStatus(feed, 'offline');
      expect(hostile.requests).toHaveLength(0);
    });
  });
});
