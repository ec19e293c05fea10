import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DbAccessError, InvalidSpecError } from '../../src/core/errors';
import { RestDbAccess, type RestDbAccessOptions } from '../../src/db/RestDbAccess';
import { RestProtocolError } from '../../src/db/RestProtocolError';
import { collect } from '../support/records';
import { HostileServer, ndjsonLinesResponse } from './HostileServer';

const recordSchema = z.object({ id: z.number().int() });
const line = (id: number) => JSON.stringify({ id });

let hostile: HostileServer;
/** A second origin: the same host on another port. */
let elsewhere: HostileServer;

beforeAll(async () => {
  hostile = await HostileServer.start();
  elsewhere = await HostileServer.start();
});

afterAll(async () => {
  await hostile?.close();
  await elsewhere?.close();
});

afterEach(async () => {
  await Promise.all([hostile.reset(), elsewhere.reset()]);
});

function access(options: Partial<RestDbAccessOptions<{ id: number }>> = {}): RestDbAccess<{ id: number }> {
  return new RestDbAccess({ baseUrl: `${hostile.url}/api`, schema: recordSchema, retry: { baseDelayMs: 1 }, ...options });
}

async function failure(promise: Promise<unknown>): Promise<DbAccessError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DbAccessError);
  return error as DbAccessError;
}

describe('RestDbAccess against a hostile server', () => {
  describe('next links and redirects (issue 16 item 1)', () => {
    it('should refuse a next link to another origin without sending it anything', async () => {
      elsewhere.route('/api/steal', (_request, response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end('[]'));
      hostile.route('/api/items', (_request, response) =>
        response
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ records: [{ id: 1 }], next: `${elsewhere.url}/api/steal` })),
      );
      const error = await failure(collect(access({ headers: { Authorization: 'Bearer secret' } }).getRecords({ path: 'items' })));
      expect(error).toBeInstanceOf(RestProtocolError);
      expect((error as RestProtocolError).violation).toBe('cross-origin');
      expect(error.offline).toBe(false);
      expect(error.message).toContain(elsewhere.url);
      expect(elsewhere.requests).toHaveLength(0);
    });

    it('should refuse a next link that is a data: URL', async () => {
      hostile.route('/api/items', (_request, response) =>
        response
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ records: [], next: 'data:application/json,[{"id":666}]' })),
      );
      const error = await failure(collect(access().getRecords({ path: 'items' })));
      expect((error as RestProtocolError).violation).toBe('cross-origin');
      expect(error.message).toContain("'data:' URL");
    });

    it('should follow a redirect on the same origin, with the configured headers', async () => {
      hostile.route('/api/old', (_request, response) => response.writeHead(301, { Location: '/api/new' }).end());
      hostile.route('/api/new', (_request, response) => ndjsonLinesResponse(response, [line(1), line(2)]));
      expect(await collect(access({ headers: { 'X-Api-Key': 'k' } }).getRecords({ path: 'old' }))).toEqual([{ id: 1 }, { id: 2 }]);
      expect(hostile.requestsFor('/api/new')[0]?.headers['x-api-key']).toBe('k');
    });

    it('should refuse a redirect to another origin without sending it the configured headers', async () => {
      elsewhere.route('/api/items', (_request, response) => ndjsonLinesResponse(response, [line(1)]));
      hostile.route('/api/items', (_request, response) => response.writeHead(302, { Location: `${elsewhere.url}/api/items` }).end());
      const error = await failure(collect(access({ headers: { 'X-Api-Key': 'secret' } }).getRecords({ path: 'items' })));
      expect((error as RestProtocolError).violation).toBe('cross-origin');
      expect(elsewhere.requests).toHaveLength(0);
    });
  });

  describe('redirect loops (issue 16 item 8)', () => {
    it('should reject a redirect loop at once, naming it, as not offline', async () => {
      hostile.route('/api/loop', (_request, response) => response.writeHead(302, { Location: '/api/loop2' }).end());
      hostile.route('/api/loop2', (_request, response) => response.writeHead(302, { Location: '/api/loop' }).end());
      const error = await failure(collect(access().getRecords({ path: 'loop' })));
      expect(error).toBeInstanceOf(RestProtocolError);
      expect((error as RestProtocolError).violation).toBe('redirect');
      expect(error.offline).toBe(false);
      expect(error.message).toMatch(/redirect loop .*\/api\/loop → .*\/api\/loop2 → .*\/api\/loop\b/);
      expect(hostile.requests).toHaveLength(2);
    });

    it('should report a redirect loop followed by a fetch of its own as a redirect, not offline, without retrying', async () => {
      hostile.route('/api/loop', (_request, response) => response.writeHead(302, { Location: '/api/loop' }).end());
      const following: typeof fetch = (input, init) => fetch(input, { ...init, redirect: 'follow' });
      const error = await failure(collect(access({ fetch: following }).getRecords({ path: 'loop' })));
      expect((error as RestProtocolError).violation).toBe('redirect');
      expect(error.offline).toBe(false);
      expect(hostile.requests.length).toBeLessThanOrEqual(21);
    });
  });

  describe('endless waits (issue 16 items 4 and 9)', () => {
    it('should time out a body that only trickles blank lines, which are no progress', async () => {
      hostile.route('/api/blank', (_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        response.write(`${line(1)}\n`);
        hostile.every(20, () => void response.write('\n'));
      });
      const records: unknown[] = [];
      const error = await failure(
        (async () => {
          for await (const record of access({ timeoutMs: 200, connectTimeoutMs: 10_000 }).getRecords({ path: 'blank' }))
            records.push(record);
        })(),
      );
      expect(records).toEqual([{ id: 1 }]);
      expect(error.timedOut).toBe(true);
      expect(error.message).toContain('no data for 200 ms');
    });

    it('should stop a response that keeps sending records at deadlineMs', async () => {
      let next = 0;
      hostile.route('/api/endless', (_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        hostile.every(10, () => void response.write(`${line(next++)}\n`));
      });
      const error = await failure(collect(access({ deadlineMs: 300 }).getRecords({ path: 'endless' })));
      expect(error.timedOut).toBe(true);
      expect(error.message).toContain('deadlineMs (300 ms)');
    });

    it('should report a 503 whose body never ends with its status, without waiting timeoutMs for the body', async () => {
      hostile.route('/api/busy', (_request, response) => {
        response.writeHead(503, { 'Content-Type': 'text/plain' });
        response.write('over');
      });
      const error = await failure(collect(access({ retry: { attempts: 1 }, timeoutMs: 60_000 }).getRecords({ path: 'busy' })));
      expect(error.status).toBe(503);
      expect(error.message).toContain(': over');
    }, 10_000);

    it('should honour a fractional Retry-After as seconds, not as a date in the past', async () => {
      hostile.route('/api/later', (_request, response) => {
        if (hostile.requestsFor('/api/later').length === 1) response.writeHead(503, { 'Retry-After': '1.5' }).end();
        else ndjsonLinesResponse(response, [line(1)]);
      });
      // 1.5 s is over maxDelayMs, so it is reported rather than waited for; read as a past date it would be retried at once.
      const error = await failure(collect(access({ retry: { maxDelayMs: 1000 } }).getRecords({ path: 'later' })));
      expect(error.status).toBe(503);
      expect(hostile.requestsFor('/api/later')).toHaveLength(1);
    });
  });

  describe('options (issue 16 item 9)', () => {
    it.each([
      [{ retry: { attempts: Number.NaN } }, 'retry.attempts'],
      [{ retry: { attempts: -1 } }, 'retry.attempts'],
      [{ retry: { attempts: 1.5 } }, 'retry.attempts'],
      [{ retry: { attempts: Infinity } }, 'retry.attempts'],
      [{ retry: { baseDelayMs: -5 } }, 'retry.baseDelayMs'],
      [{ retry: { maxDelayMs: Number.NaN } }, 'retry.maxDelayMs'],
      [{ timeoutMs: Number.NaN }, 'timeoutMs'],
      [{ connectTimeoutMs: -1 }, 'connectTimeoutMs'],
      [{ deadlineMs: Infinity }, 'deadlineMs'],
      [{ maxLineBytes: 0 }, 'maxLineBytes'],
    ] as const)('should refuse %o at construction, naming %s', (options, name) => {
      expect(() => access(options as Partial<RestDbAccessOptions<{ id: number }>>)).toThrow(InvalidSpecError);
      expect(() => access(options as Partial<RestDbAccessOptions<{ id: number }>>)).toThrow(name);
    });

    it('should refuse a base URL that is not http or https', () => {
      expect(() => access({ baseUrl: 'ftp://127.0.0.1/api' })).toThrow(InvalidSpecError);
    });
  });

  describe('long lines (issue 16 item 5)', () => {
    it('should reject a line longer than maxLineBytes with a RestProtocolError, before the line ends', async () => {
      hostile.route('/api/long', (_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        response.write(`${line(1)}\n{"id":2,"pad":"`);
        // Never ends the line: the limit must trip on what arrived so far.
        hostile.every(5, () => void response.write('x'.repeat(4096)));
      });
      const records: unknown[] = [];
      const error = await failure(
        (async () => {
          for await (const record of access({ maxLineBytes: 64 * 1024 }).getRecords({ path: 'long' })) records.push(record);
        })(),
      );
      expect(records).toEqual([{ id: 1 }]);
      expect((error as RestProtocolError).violation).toBe('line-too-long');
      expect(error.message).toContain('65536 bytes');
    });

    it('should reject a line over the default 1 MiB', async () => {
      hostile.route('/api/long', (_request, response) => ndjsonLinesResponse(response, [`{"id":1,"pad":"${'x'.repeat(1024 * 1024)}"}`]));
      const error = await failure(collect(access().getRecords({ path: 'long' })));
      expect((error as RestProtocolError).violation).toBe('line-too-long');
    });

    it('should accept a line of exactly maxLineBytes', async () => {
      const exact = `{"id":1,"pad":"${'x'.repeat(100 - 17)}"}`;
      expect(new TextEncoder().encode(exact).byteLength).toBe(100);
      hostile.route('/api/exact', (_request, response) => ndjsonLinesResponse(response, [exact]));
      expect(await collect(access({ maxLineBytes: 100 }).getRecords({ path: 'exact' }))).toEqual([{ id: 1 }]);
    });
  });

  describe('connection refused (issue 16 item 10)', () => {
    it('should report a refused connection as offline at once, without retrying', async () => {
      const closed = await HostileServer.start();
      const url = closed.url;
      await closed.close();
      let calls = 0;
      const counting: typeof fetch = (input, init) => {
        calls++;
        return fetch(input, init);
      };
      const error = await failure(
        collect(access({ baseUrl: `${url}/api`, fetch: counting, retry: { attempts: 5 } }).getRecords({ path: 'x' })),
      );
      expect(error.offline).toBe(true);
      expect(calls).toBe(1);
    });
  });

  describe('cut streams and the end line (issue 16 item 12)', () => {
    const five = [1, 2, 3, 4, 5].map(line);

    it('should reject a stream cut cleanly at a line boundary when the end line was announced', async () => {
      hostile.route('/api/cut', (_request, response) => ndjsonLinesResponse(response, five, { 'X-Ndjson-End': '$end' }));
      const error = await failure(collect(access().getRecords({ path: 'cut' })));
      expect((error as RestProtocolError).violation).toBe('truncated');
      expect(error.offline).toBe(false);
    });

    it('should resolve with the records when the announced end line counts them', async () => {
      hostile.route('/api/whole', (_request, response) =>
        ndjsonLinesResponse(response, [...five, '{"$end":{"count":5}}'], { 'X-Ndjson-End': '$end' }),
      );
      expect(await collect(access().getRecords({ path: 'whole' }))).toHaveLength(5);
    });

    it('should reject an end line whose count differs from the records that arrived', async () => {
      hostile.route('/api/short', (_request, response) =>
        ndjsonLinesResponse(response, [...five.slice(0, 4), '{"$end":{"count":5}}'], { 'X-Ndjson-End': '$end' }),
      );
      const error = await failure(collect(access().getRecords({ path: 'short' })));
      expect((error as RestProtocolError).violation).toBe('truncated');
      expect(error.message).toContain('counts 5 records, but 4 arrived');
    });

    it('should reject lines after the end line', async () => {
      hostile.route('/api/more', (_request, response) =>
        ndjsonLinesResponse(response, [...five, '{"$end":{"count":5}}', line(6)], { 'X-Ndjson-End': '$end' }),
      );
      const error = await failure(collect(access().getRecords({ path: 'more' })));
      expect((error as RestProtocolError).violation).toBe('truncated');
    });

    it('should retry a response cut before its first record when the end line was announced', async () => {
      hostile.route('/api/flaky', (_request, response) => {
        const first = hostile.requestsFor('/api/flaky').length === 1;
        ndjsonLinesResponse(response, first ? [] : [line(1), '{"$end":{"count":1}}'], { 'X-Ndjson-End': '$end' });
      });
      expect(await collect(access().getRecords({ path: 'flaky' }))).toEqual([{ id: 1 }]);
      expect(hostile.requestsFor('/api/flaky')).toHaveLength(2);
    });

    it('should take a stream without the announcement as complete, as before', async () => {
      hostile.route('/api/plain', (_request, response) => ndjsonLinesResponse(response, five));
      expect(await collect(access().getRecords({ path: 'plain' }))).toHaveLength(5);
    });
  });
});
