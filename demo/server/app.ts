import { Hono, type Context } from 'hono';
import { accepts } from 'hono/accepts';
import { compress } from 'hono/compress';
import { cors } from 'hono/cors';
import type { z } from 'zod';
import { END_LINE_HEADER, END_LINE_KEY } from '../../src/db/endLine';
import { TOTAL_COUNT_HEADER } from '../../src/db/totalCount';
import type { Database } from './database';
import { flushingGzip } from './flushingGzip';
import { hostAllowList, localOrigin, writeGuard } from './guards';
import { changeFeedStream, type ChangeFeedHub } from './changeFeed';
import { badRequest, changesQuerySchema, idParamSchema, newReadingSchema, readingPatchSchema, readingsQuerySchema } from './params';
import {
  countMatching,
  countReadings,
  cursorAfter,
  deleteReading,
  getReading,
  insertReading,
  selectReadings,
  toWire,
  updateReading,
  type ReadingsFilter,
} from './readings';
import { streamReadings, type StreamStats } from './readingsStream';

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Rows per database round trip while streaming. Default 1000. */
  batchSize?: number | undefined;
  /**
   * Origins allowed by CORS besides every `http://localhost:*`,
   * `http://127.0.0.1:*` and `http://[::1]:*` (the Vite dev server's).
   */
  corsOrigins?: readonly string[] | undefined;
  /**
   * Host names (without port) served besides `localhost`, `*.localhost`,
   * `127.0.0.1` and `[::1]`; a request with another `Host` is refused
   * (403), against DNS rebinding. Add the name clients use when serving
   * beyond loopback.
   */
  allowedHosts?: readonly string[] | undefined;
  /** Counters of streamed responses; a fresh set when not given. */
  stats?: StreamStats | undefined;
  /** The change feed behind `GET /api/changes`; without it that endpoint answers 404. */
  changeFeed?: ChangeFeedHub | undefined;
}

const NDJSON = 'application/x-ndjson';
const JSON_TYPE = 'application/json';

function parse<T extends z.ZodType>(c: Context, schema: T, input: unknown, what: string): z.output<T> | Response {
  const result = schema.safeParse(input);
  return result.success ? result.data : c.json(badRequest(`Invalid ${what}`, result.error), 400);
}

/** Query parameters as an object; a repeated parameter is an error (which of the two would win is anyone's guess). */
function queryObject(c: Context): Record<string, string> | Response {
  const params = new URL(c.req.url).searchParams;
  const query: Record<string, string> = {};
  for (const [name, value] of params) {
    if (name in query) {
      return c.json({ error: 'Invalid query parameters', issues: [{ path: [name], message: 'given more than once' }] }, 400);
    }
    query[name] = value;
  }
  return query;
}

async function readJsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    return c.json({ error: 'Invalid body', issues: [{ path: [], message: 'expected a JSON object' }] }, 400);
  }
}

/**
 * The reference backend's HTTP API over `db` (see docs/reference-backend.md):
 * readings by time range, by ids, or all, as NDJSON, a JSON array or JSON
 * pages; single readings to read, create, change and delete; a health check.
 */
export function createApp(db: Database, options: AppOptions = {}): Hono {
  const batchSize = options.batchSize ?? 1000;
  const stats = options.stats ?? { started: 0, completed: 0, cancelled: 0, failed: 0 };
  const extraOrigins = new Set(options.corsOrigins ?? []);
  const isAllowedOrigin = (origin: string) => localOrigin.test(origin) || extraOrigins.has(origin);
  const app = new Hono();

  app.use('*', hostAllowList(options.allowedHosts ?? []));
  app.use(
    '/api/*',
    cors({
      origin: (origin) => (isAllowedOrigin(origin) ? origin : null),
      allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Accept', 'Authorization'],
      // Not CORS-safelisted: without this a browser client cannot honour a 429's Retry-After.
      exposeHeaders: ['Retry-After', 'Location', END_LINE_HEADER, TOTAL_COUNT_HEADER],
      maxAge: 600,
    }),
  );
  app.use('/api/*', writeGuard(isAllowedOrigin));
  // Compresses the whole-body JSON answers; streamed ones arrive compressed already (see flushingGzip).
  app.use('/api/*', compress());

  app.get('/api/health', async (c) => c.json({ status: 'ok', database: db.kind, readings: await countReadings(db) }));

  app.get('/api/readings', async (c) => {
    const raw = queryObject(c);
    if (raw instanceof Response) return raw;
    const query = parse(c, readingsQuerySchema, raw, 'query parameters');
    if (query instanceof Response) return query;
    const filter: ReadingsFilter = { ge: query.ge?.literal, lt: query.lt?.literal, ids: query.ids };
    const format =
      query.format ?? (accepts(c, { header: 'Accept', supports: [NDJSON, JSON_TYPE], default: NDJSON }) === JSON_TYPE ? 'json' : 'ndjson');
    c.header('Cache-Control', 'no-store');
    c.header('Vary', 'Accept', { append: true });
    const total = await totalCount(db, query, filter, format);
    if (total !== null) c.header(TOTAL_COUNT_HEADER, String(total));
    if (c.req.method === 'HEAD') {
      // The headers a GET would have, without starting a stream nobody reads.
      c.header('Content-Type', `${format === 'json' ? JSON_TYPE : NDJSON}; charset=utf-8`);
      if (format === 'ndjson') c.header(END_LINE_HEADER, END_LINE_KEY);
      return c.body(null, 200);
    }
    if (format === 'json' && query.limit !== undefined) {
      const rows = await selectReadings(db, filter, query.after ?? null, query.limit + 1);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      let next: string | null = null;
      if (rows.length > query.limit && last) {
        const url = new URL(c.req.url);
        const cursor = cursorAfter(last);
        url.searchParams.set('after', `${cursor.tsMicros}:${cursor.id}`);
        next = `${url.pathname}${url.search}`;
      }
      return c.json({ records: page.map(toWire), next });
    }
    const body = streamReadings(db, filter, {
      format,
      batchSize,
      limit: query.limit,
      after: query.after,
      stats,
    });
    c.header('Content-Type', `${format === 'json' ? JSON_TYPE : NDJSON}; charset=utf-8`);
    if (format === 'ndjson') c.header(END_LINE_HEADER, END_LINE_KEY);
    c.header('Vary', 'Accept-Encoding', { append: true });
    if (accepts(c, { header: 'Accept-Encoding', supports: ['gzip'], default: 'identity' }) === 'gzip') {
      // Compressed here rather than by hono/compress, whose CompressionStream would hold each batch back until 16 kB of output pile up.
      c.header('Content-Encoding', 'gzip');
      return c.body(body.pipeThrough(flushingGzip()), 200);
    }
    return c.body(body, 200);
  });

  const hub = options.changeFeed;
  if (hub) {
    app.get('/api/changes', (c) => {
      const raw = queryObject(c);
      if (raw instanceof Response) return raw;
      const query = parse(c, changesQuerySchema, raw, 'query parameters');
      if (query instanceof Response) return query;
      if (hub.connections >= hub.maxConnections) {
        c.header('Retry-After', '5');
        return c.json({ error: `Too many change feed connections (${hub.maxConnections}); try again later.` }, 503);
      }
      c.header('Cache-Control', 'no-store');
      c.header('Content-Type', `${NDJSON}; charset=utf-8`);
      // Tells proxies such as nginx not to buffer the lines of this endless response.
      c.header('X-Accel-Buffering', 'no');
      if (c.req.method === 'HEAD') return c.body(null, 200);
      return c.body(changeFeedStream(hub, query.after), 200);
    });
  }

  app.get('/api/readings/:id', async (c) => {
    const params = parse(c, idParamSchema, c.req.param(), 'path');
    if (params instanceof Response) return params;
    const row = await getReading(db, params.id);
    return row ? c.json(toWire(row)) : c.json({ error: `No reading ${params.id}` }, 404);
  });

  app.post('/api/readings', async (c) => {
    const input = await readJsonBody(c);
    if (input instanceof Response) return input;
    const fields = parse(c, newReadingSchema, input, 'body');
    if (fields instanceof Response) return fields;
    const row = await insertReading(db, fields);
    c.header('Location', `/api/readings/${row.id}`);
    return c.json(toWire(row), 201);
  });

  app.patch('/api/readings/:id', async (c) => {
    const params = parse(c, idParamSchema, c.req.param(), 'path');
    if (params instanceof Response) return params;
    const input = await readJsonBody(c);
    if (input instanceof Response) return input;
    const fields = parse(c, readingPatchSchema, input, 'body');
    if (fields instanceof Response) return fields;
    const row = await updateReading(db, params.id, fields);
    return row ? c.json(toWire(row)) : c.json({ error: `No reading ${params.id}` }, 404);
  });

  app.delete('/api/readings/:id', async (c) => {
    const params = parse(c, idParamSchema, c.req.param(), 'path');
    if (params instanceof Response) return params;
    return (await deleteReading(db, params.id)) ? c.body(null, 204) : c.json({ error: `No reading ${params.id}` }, 404);
  });

  app.notFound((c) => c.json({ error: `No route for ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
  app.onError((error, c) => {
    console.error(`${c.req.method} ${c.req.url} failed:`, error);
    return c.json({ error: 'Internal server error' }, 500);
  });
  return app;
}

/** Readings past which `X-Total-Count` is left out: counting them would cost a good part of sending them. */
export const TOTAL_COUNT_CAP = 1_000_000;

/**
 * The `X-Total-Count` of `GET /api/readings`: how many readings the answer
 * holds, with every page it links to; `null` (no header) for the rest of a
 * paged answer (`after`), for a request bounded by neither ids nor a finite
 * time (the whole table), and past {@link TOTAL_COUNT_CAP}.
 */
async function totalCount(
  db: Database,
  query: z.output<typeof readingsQuerySchema>,
  filter: ReadingsFilter,
  format: 'json' | 'ndjson',
): Promise<number | null> {
  if (query.after !== undefined) return null;
  const bounded = query.ids !== undefined || [query.ge, query.lt].some((bound) => bound !== undefined && Number.isFinite(bound.epochMs));
  if (!bounded) return null;
  const count = await countMatching(db, filter, TOTAL_COUNT_CAP);
  // An NDJSON answer stops at `limit`; a JSON `limit` is the page size, and the pages together hold every reading.
  return count !== null && format === 'ndjson' && query.limit !== undefined ? Math.min(count, query.limit) : count;
}
