import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startServer, type RunningServer } from '../../demo/server/startServer';
import type { WireReading } from '../../demo/server/readings';
import { testBackends } from './postgres';

const SEED = 2000;
const SEED_END = Date.parse('2026-11-01T00:00:00Z');
const DAY = 86_400_000;

const backends = await testBackends('app');

let server: RunningServer;

function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers });
}

function send(method: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The readings of an NDJSON response, checking that it ends with the end line it announces, counting them. */
async function ndjson(response: Response): Promise<WireReading[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  expect(response.headers.get('x-ndjson-end')).toBe('$end');
  const text = await response.text();
  const lines = text.split('\n').filter((line) => line !== '');
  const end = JSON.parse(lines.pop() ?? 'null') as { $end: { count: number } };
  expect(end).toEqual({ $end: { count: lines.length } });
  return lines.map((line) => JSON.parse(line) as WireReading);
}

async function dbIds(where: string, params: unknown[] = []): Promise<number[]> {
  const rows = await server.db.query<{ id: number }>(`select id from readings where ${where} order by ts, id`, params);
  return rows.map((row) => row.id);
}

const ids = (records: readonly WireReading[]) => records.map((record) => record.id);

describe.each(backends)('reference server on $name', (backend) => {
  beforeAll(async () => {
    server = await startServer({
      database: backend.url ? { url: backend.url } : undefined,
      seedReadings: SEED,
      seedEnd: new Date(SEED_END),
      batchSize: 300,
    });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  describe('GET /api/health', () => {
    it('should report ok, the database and the number of readings', async () => {
      const response = await get('/api/health');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        status: 'ok',
        database: backend.name,
        readings: (await dbIds('true')).length,
      });
    });
  });

  describe('GET /api/readings', () => {
    it('should walk the (ts, id) index for a keyset batch, not sort the rest of the range (statistics are gathered at start)', async () => {
      // Without statistics the planner guesses a few hundred rows for any range, and each batch of a stream sorted all
      // the rows left in it: ~150 ms per 1,000 readings of a 200,000-reading table, 14 s for the demo's 30 days.
      const [table] = await server.db.query<{ rows: number }>(`select reltuples::int as rows from pg_class where relname = 'readings'`);
      expect(table?.rows).toBe(SEED);
      const plan = await server.db.query<{ 'QUERY PLAN': string }>(
        `explain select id from readings where ts >= $1::timestamptz and ts < $2::timestamptz order by ts, id limit 300`,
        [new Date(SEED_END - 30 * DAY).toISOString(), new Date(SEED_END).toISOString()],
      );
      const text = plan.map((row) => row['QUERY PLAN']).join('\n');
      expect(text).toMatch(/Index (Only )?Scan using readings_ts_id/);
      expect(text).not.toMatch(/Sort/);
    });

    it('should stream every reading as NDJSON by default, in (ts, id) order', async () => {
      const records = await ndjson(await get('/api/readings'));
      expect(ids(records)).toEqual(await dbIds('true'));
      expect(records[0]).toEqual({
        id: expect.any(Number),
        sensor: expect.stringMatching(/^sensor-\d\d$/),
        ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        value: expect.any(Number),
        note: expect.toBeOneOf([null, expect.any(String)]),
      });
    });

    it('should seed readings spread over the 30 days before the seed end', async () => {
      const records = await ndjson(await get(`/api/readings?ids=1,${SEED}`));
      expect(Date.parse(records[0]!.ts)).toBe(SEED_END - 30 * DAY);
      expect(Date.parse(records[1]!.ts)).toBeLessThan(SEED_END);
    });

    it('should select a time range in epoch ms with ge included and lt excluded', async () => {
      const [first, , third] = await ndjson(await get('/api/readings?ids=10,11,12'));
      const ge = Date.parse(first!.ts);
      const lt = Date.parse(third!.ts);
      expect(ids(await ndjson(await get(`/api/readings?ge=${ge}&lt=${lt}`)))).toEqual([10, 11]);
    });

    it('should round fractions of a microsecond so that bounds stay exact', async () => {
      const [record] = await ndjson(await get('/api/readings?ids=20'));
      const ts = Date.parse(record!.ts);
      expect(ids(await ndjson(await get(`/api/readings?ge=${ts}&lt=${ts + 0.0002}`)))).toEqual([20]);
      expect(ids(await ndjson(await get(`/api/readings?ge=${ts + 0.0002}&lt=${ts + 1}`)))).toEqual([]);
    });

    it('should accept ISO date-times and dates as bounds, and -Infinity/Infinity as no bound', async () => {
      const expected = await dbIds(`ts >= '2026-10-20T00:00:00Z' and ts < '2026-10-21T12:00:00+02:00'`);
      expect(expected.length).toBeGreaterThan(0);
      expect(ids(await ndjson(await get('/api/readings?ge=2026-10-20&lt=2026-10-21T12:00:00%2B02:00')))).toEqual(expected);
      expect(ids(await ndjson(await get('/api/readings?ge=-Infinity&lt=Infinity')))).toEqual(await dbIds('true'));
    });

    it('should accept the earliest and latest epoch ms it documents', async () => {
      expect(await ndjson(await get('/api/readings?ge=-62135596800000&lt=-62135596799999'))).toEqual([]);
      expect(await ndjson(await get('/api/readings?ge=253402300799998&lt=253402300799999'))).toEqual([]);
    });

    it('should select by ids, ignoring ids that do not exist', async () => {
      expect(ids(await ndjson(await get('/api/readings?ids=5,3,999999,3')))).toEqual([3, 5]);
    });

    it('should combine ids with a time range', async () => {
      const [record] = await ndjson(await get('/api/readings?ids=7'));
      const ts = Date.parse(record!.ts);
      expect(ids(await ndjson(await get(`/api/readings?ids=6,7,8&ge=${ts}&lt=${ts + 1}`)))).toEqual([7]);
    });

    it('should answer a JSON array when the Accept header prefers JSON or format=json asks for it', async () => {
      const expected = await dbIds(`ts >= $1`, [new Date(SEED_END - DAY)]);
      for (const response of [
        await get(`/api/readings?ge=${SEED_END - DAY}`, { Accept: 'application/json' }),
        await get(`/api/readings?ge=${SEED_END - DAY}&format=json`, { Accept: 'application/x-ndjson' }),
      ]) {
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(ids((await response.json()) as WireReading[])).toEqual(expected);
      }
    });

    it('should stream a JSON array across many database batches', async () => {
      const response = await get('/api/readings?format=json');
      expect(ids((await response.json()) as WireReading[])).toEqual(await dbIds('true'));
    });

    it('should page JSON by limit, linking each page to the next until next is null', async () => {
      const seen: number[] = [];
      let next: string | null = '/api/readings?format=json&limit=450';
      let pages = 0;
      while (next !== null) {
        const response = await get(next);
        expect(response.status).toBe(200);
        const page = (await response.json()) as { records: WireReading[]; next: string | null };
        seen.push(...ids(page.records));
        next = page.next;
        pages++;
      }
      expect(seen).toEqual(await dbIds('true'));
      expect(pages).toBe(Math.ceil(seen.length / 450));
    });

    it('should stop an NDJSON response at limit', async () => {
      expect(ids(await ndjson(await get('/api/readings?limit=5')))).toEqual((await dbIds('true')).slice(0, 5));
    });

    describe('X-Total-Count', () => {
      const range = `ge=${SEED_END - 3 * DAY}&lt=${SEED_END}`;

      it('should tell how many readings a time range holds, up front, in every format', async () => {
        const expected = (await dbIds('ts >= $1 and ts < $2', [new Date(SEED_END - 3 * DAY), new Date(SEED_END)])).length;
        expect(expected).toBeGreaterThan(0);
        const stream = await get(`/api/readings?${range}`);
        expect(stream.headers.get('x-total-count')).toBe(String(expected));
        expect(await ndjson(stream)).toHaveLength(expected);
        expect((await get(`/api/readings?${range}&format=json`)).headers.get('x-total-count')).toBe(String(expected));
        const head = await fetch(`${server.url}/api/readings?${range}`, { method: 'HEAD' });
        expect(head.headers.get('x-total-count')).toBe(String(expected));
      });

      it('should count a range open on one side, and the ids that exist', async () => {
        const since = await dbIds('ts >= $1', [new Date(SEED_END - DAY)]);
        expect((await get(`/api/readings?ge=${SEED_END - DAY}&lt=Infinity`)).headers.get('x-total-count')).toBe(String(since.length));
        expect((await get('/api/readings?ids=1,2,3,999999')).headers.get('x-total-count')).toBe('3');
      });

      it('should count every page of a paged answer on the first page, and stop at limit for NDJSON', async () => {
        const all = (await dbIds('ts >= $1 and ts < $2', [new Date(SEED_END - 3 * DAY), new Date(SEED_END)])).length;
        const first = await get(`/api/readings?${range}&format=json&limit=50`);
        expect(first.headers.get('x-total-count')).toBe(String(all));
        const { next } = (await first.json()) as { next: string };
        expect((await get(next)).headers.get('x-total-count')).toBeNull();
        expect((await get(`/api/readings?${range}&limit=5`)).headers.get('x-total-count')).toBe('5');
      });

      it('should leave it out for the whole table, which it would have to count in full', async () => {
        expect((await get('/api/readings')).headers.get('x-total-count')).toBeNull();
        expect((await get('/api/readings?ge=-Infinity&lt=Infinity')).headers.get('x-total-count')).toBeNull();
      });
    });

    it('should gzip a streamed response when the client accepts it', async () => {
      const response = await get('/api/readings', { 'Accept-Encoding': 'gzip' });
      expect(response.headers.get('content-encoding')).toBe('gzip');
      expect(response.headers.get('vary')).toMatch(/Accept-Encoding/);
      expect(ids(await ndjson(response))).toEqual(await dbIds('true'));
    });

    it('should keep serving when clients break off gzip streams at any point', async () => {
      for (let chunksRead = 0; chunksRead < 8; chunksRead++) {
        const response = await get('/api/readings', { 'Accept-Encoding': 'gzip' });
        const reader = response.body!.getReader();
        for (let i = 0; i < chunksRead; i++) if ((await reader.read()).done) break;
        await reader.cancel();
      }
      expect((await get('/api/health')).status).toBe(200);
      expect(ids(await ndjson(await get('/api/readings', { 'Accept-Encoding': 'gzip' })))).toEqual(await dbIds('true'));
    });

    it('should gzip a JSON page when the client accepts it', async () => {
      const response = await get('/api/readings?format=json&limit=100', { 'Accept-Encoding': 'gzip' });
      expect(response.headers.get('content-encoding')).toBe('gzip');
      expect(((await response.json()) as { records: unknown[] }).records).toHaveLength(100);
    });

    it.each([
      ['ge=abc', 'ge'],
      ['lt=', 'lt'],
      ['ge=2026-13-01', 'ge'],
      ['ge=0000-01-01T00:00:00Z', 'ge'],
      ['ge=-62135596800001', 'ge'],
      ['lt=253402300800000', 'lt'],
      ['ge=NaN', 'ge'],
      ['ge=2&lt=1', 'lt'],
      ['ids=0', 'ids'],
      ['ids=a', 'ids'],
      ['ids=1,,2', 'ids'],
      ['ids=2147483648', 'ids'],
      ['limit=0', 'limit'],
      ['limit=10001', 'limit'],
      ['limit=1.5', 'limit'],
      ['format=xml', 'format'],
      ['after=garbage', 'after'],
      ['after=1:99999999999', 'after'],
      ['ge=1&ge=2', 'ge'],
    ])('should answer %s with a 400 naming the parameter', async (query, parameter) => {
      const response = await get(`/api/readings?${query}`);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: string; issues: { path: unknown[]; message: string }[] };
      expect(body.error).toBe('Invalid query parameters');
      expect(body.issues.map((issue) => issue.path[0])).toContain(parameter);
    });

    it('should answer an unknown parameter with a 400 naming it', async () => {
      const response = await get('/api/readings?gte=1');
      expect(response.status).toBe(400);
      expect(JSON.stringify(await response.json())).toMatch(/gte/);
    });

    it('should answer more ids than it allows with a JSON 400 with issues, never a 500', async () => {
      const response = await get(`/api/readings?ids=${Array.from({ length: 1001 }, (_, i) => i + 1).join(',')}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'Invalid query parameters', issues: [{ path: ['ids'] }] });
    });
  });

  describe('GET /api/readings/:id', () => {
    it('should answer one reading, 404 for a missing one, 400 for a bad id', async () => {
      const response = await get('/api/readings/4');
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ id: 4 });
      expect((await get('/api/readings/999999')).status).toBe(404);
      expect((await get('/api/readings/x')).status).toBe(400);
    });
  });

  describe('PATCH /api/readings/:id', () => {
    it('should change the given fields, visible in the next GET by id and by range', async () => {
      const newTs = SEED_END + 5 * DAY;
      const response = await send('PATCH', '/api/readings/30', { value: 99.5, note: 'recalibrated', ts: newTs });
      expect(response.status).toBe(200);
      const changed = (await response.json()) as WireReading;
      expect(changed).toMatchObject({ id: 30, value: 99.5, note: 'recalibrated', ts: new Date(newTs).toISOString() });
      expect(await ndjson(await get('/api/readings?ids=30'))).toEqual([changed]);
      expect(ids(await ndjson(await get(`/api/readings?ge=${SEED_END}`)))).toEqual([30]);
      expect(ids(await ndjson(await get(`/api/readings?lt=${SEED_END}`)))).not.toContain(30);
    });

    it('should answer 404 for a missing reading', async () => {
      expect((await send('PATCH', '/api/readings/999999', { value: 1 })).status).toBe(404);
    });

    it.each([
      ['an empty object', {}],
      ['an unknown field', { colour: 'red' }],
      ['a field of the wrong type', { value: '3' }],
      ['a bad time', { ts: 'yesterday' }],
      ['invalid JSON', '{"value":'],
    ])('should answer %s with a 400 and change nothing', async (_what, body) => {
      const before = await (await get('/api/readings/31')).json();
      const response = await send('PATCH', '/api/readings/31', body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: expect.any(String), issues: expect.any(Array) });
      expect(await (await get('/api/readings/31')).json()).toEqual(before);
    });
  });

  describe('POST /api/readings', () => {
    it('should create a reading with a new id, visible in the next GET', async () => {
      const response = await send('POST', '/api/readings', { sensor: 'sensor-99', ts: '2026-10-30T10:00:00.000Z', value: 1.25 });
      expect(response.status).toBe(201);
      const created = (await response.json()) as WireReading;
      expect(created).toMatchObject({ sensor: 'sensor-99', ts: '2026-10-30T10:00:00.000Z', value: 1.25, note: null });
      expect(response.headers.get('location')).toBe(`/api/readings/${created.id}`);
      expect(await ndjson(await get(`/api/readings?ids=${created.id}`))).toEqual([created]);
    });

    it('should answer a body missing a field with a 400 naming it', async () => {
      const response = await send('POST', '/api/readings', { sensor: 'sensor-99', value: 1 });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ issues: [{ path: ['ts'] }] });
    });
  });

  describe('DELETE /api/readings/:id', () => {
    it('should delete a reading, then answer 404 for it', async () => {
      expect((await send('DELETE', '/api/readings/40', '')).status).toBe(204);
      expect(await ndjson(await get('/api/readings?ids=40'))).toEqual([]);
      expect((await send('DELETE', '/api/readings/40', '')).status).toBe(404);
    });
  });

  describe('CORS', () => {
    it('should allow a localhost origin such as the Vite dev server, exposing Retry-After', async () => {
      const preflight = await fetch(`${server.url}/api/readings/1`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'PATCH' },
      });
      expect(preflight.status).toBeLessThan(300);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(preflight.headers.get('access-control-allow-methods')).toMatch(/PATCH/);
      const response = await get('/api/health', { Origin: 'http://127.0.0.1:4173' });
      expect(response.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:4173');
      expect(response.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
      expect(response.headers.get('access-control-expose-headers')).toMatch(/X-Total-Count/);
    });

    it('should not allow other origins', async () => {
      const response = await get('/api/health', { Origin: 'https://elsewhere.example' });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('HEAD /api/readings', () => {
    it('should answer the headers of a GET without starting a stream', async () => {
      const { started, completed, cancelled, failed } = server.stats;
      const response = await fetch(`${server.url}/api/readings`, { method: 'HEAD' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(response.headers.get('x-ndjson-end')).toBe('$end');
      expect(server.stats).toEqual({ started, completed, cancelled, failed });
    });
  });

  describe('hardening (issue 16)', () => {
    async function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Response> {
      return fetch(`${server.url}${path}`, { method, headers, body });
    }

    it('should refuse a write whose Content-Type is not application/json with a 415, creating nothing', async () => {
      const before = (await dbIds('true')).length;
      const body = JSON.stringify({ sensor: 'x', ts: SEED_END, value: 1 });
      const response = await raw('POST', '/api/readings', { 'Content-Type': 'text/plain' }, body);
      expect(response.status).toBe(415);
      expect(((await response.json()) as { error: string }).error).toMatch(/application\/json/);
      expect((await raw('PATCH', '/api/readings/1', {}, '{"value":1}')).status).toBe(415);
      expect((await dbIds('true')).length).toBe(before);
    });

    it('should refuse a write from an origin CORS does not allow with a 403, creating nothing', async () => {
      const before = (await dbIds('true')).length;
      const body = JSON.stringify({ sensor: 'x', ts: SEED_END, value: 1 });
      const response = await raw('POST', '/api/readings', { 'Content-Type': 'application/json', Origin: 'https://evil.example' }, body);
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: string }).error).toContain('https://evil.example');
      expect((await raw('DELETE', '/api/readings/2', { Origin: 'https://evil.example' })).status).toBe(403);
      expect((await dbIds('true')).length).toBe(before);
      const allowed = await raw('POST', '/api/readings', { 'Content-Type': 'application/json', Origin: 'http://localhost:5173' }, body);
      expect(allowed.status).toBe(201);
      await server.db.query('delete from readings where id = $1', [((await allowed.json()) as WireReading).id]);
    });

    it('should refuse a request for a Host that is not allowed (DNS rebinding) and serve the loopback names', async () => {
      const { request } = await import('node:http');
      const status = (host: string) =>
        new Promise<number>((resolve, reject) => {
          request(`${server.url}/api/health`, { headers: { Host: host } }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          })
            .on('error', reject)
            .end();
        });
      expect(await status('attacker.example')).toBe(403);
      expect(await status(`attacker.example:${server.port}`)).toBe(403);
      expect(await status(`localhost:${server.port}`)).toBe(200);
      expect(await status(`[::1]:${server.port}`)).toBe(200);
      expect(await status(`app.localhost:${server.port}`)).toBe(200);
    });

    it('should answer 413 to a body over 64 KiB at once, without reading the rest of it', async () => {
      const { request } = await import('node:http');
      const status = await new Promise<number>((resolve, reject) => {
        const upload = request(`${server.url}/api/readings/1`, {
          method: 'PATCH',
          headers: { 'Content-Type': 'application/json', 'Content-Length': String(200 * 1024 * 1024) },
        });
        upload.on('response', (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
          upload.destroy();
        });
        upload.on('error', reject);
        // 1 MB of the announced 200 MB: the answer must come without the rest.
        upload.write('{"note":"' + 'x'.repeat(1024 * 1024));
      });
      expect(status).toBe(413);
    });

    it('should answer 413 to a chunked body once it passes 64 KiB', async () => {
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new TextEncoder().encode('x'.repeat(16 * 1024)));
        },
      });
      const response = await fetch(`${server.url}/api/readings/1`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(413);
    });

    it.each([
      ['a time beyond year 9999 once its offset applies', { ts: '9999-12-31T23:00:00-05:00' }, 'ts'],
      ['a time with more than microsecond precision at the end of year 9999', { ts: '9999-12-31T23:59:59.9999999Z' }, 'ts'],
      ['a NUL byte in sensor', { sensor: 'a\u0000b' }, 'sensor'],
      ['a NUL byte in note', { note: '\u0000' }, 'note'],
    ])('should refuse %s with a 400 naming the field', async (_what, patch, field) => {
      const response = await send('PATCH', '/api/readings/1', patch);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { issues: { path: string[] }[] };
      expect(body.issues[0]?.path).toEqual([field]);
      const [reading] = await ndjson(await get('/api/readings?ids=1'));
      expect(Date.parse(reading!.ts)).toBeLessThan(SEED_END);
    });

    it.each(['9999999999999999999:1', '9223372036854775807:1', '-9223372036854775808:1', '253402300800000000:1'])(
      'should refuse the cursor after=%s with a 400, not a 500 or a dropped stream',
      async (cursor) => {
        for (const format of ['ndjson', 'json&limit=10']) {
          const response = await get(`/api/readings?format=${format}&after=${cursor}`);
          expect(response.status).toBe(400);
          expect(((await response.json()) as { issues: { path: string[] }[] }).issues[0]?.path).toEqual(['after']);
        }
      },
    );

    it('should accept the latest time it can serve back', async () => {
      const [original] = await ndjson(await get('/api/readings?ids=3'));
      onTestFinished(async () => void (await send('PATCH', '/api/readings/3', { ts: original!.ts })));
      const response = await send('PATCH', '/api/readings/3', { ts: '9999-12-31T18:59:59.999-05:00' });
      expect(response.status).toBe(200);
      expect(((await response.json()) as WireReading).ts).toBe('9999-12-31T23:59:59.999Z');
      const [reading] = await ndjson(await get('/api/readings?ids=3'));
      expect(reading!.ts).toBe('9999-12-31T23:59:59.999Z');
    });
  });

  describe('unknown routes', () => {
    it('should answer 404 with a JSON error', async () => {
      const response = await get('/api/nothing');
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'No route for GET /api/nothing' });
    });
  });
});
