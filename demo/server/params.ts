import { z } from 'zod';
import type { ReadingFields, ReadingsCursor } from './readings';

/** The largest Postgres `integer`, the id column's type. */
const MAX_ID = 2147483647;
/** Epoch ms of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the span an ISO 8601 date-time with a four-digit year can name. */
const MIN_EPOCH_MS = -62135596800000;
const MAX_EPOCH_MS = 253402300799999;
/** The most ids one request may ask for (1000 ids make a URL of about 7 kB; Node refuses request heads over 16 kB). */
export const MAX_IDS = 1000;
/** The largest JSON page. */
export const MAX_LIMIT = 10000;

/** A time bound, parsed: a Postgres `timestamptz` literal, and an approximate epoch ms value for comparing bounds. */
export interface TimeBound {
  literal: string;
  epochMs: number;
}

const epochMsPattern = /^-?\d+(\.\d+)?$/;
const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();

/** Epoch microseconds (an integer) as an ISO 8601 string Postgres parses exactly, e.g. `2026-11-01T00:00:00.000250Z`. */
function microsToIso(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const extra = micros - ms * 1000;
  return new Date(ms).toISOString().replace('Z', `${String(extra).padStart(3, '0')}Z`);
}

/**
 * Parses a time bound: `Infinity`/`-Infinity`, epoch milliseconds (decimals
 * allowed), an ISO 8601 date-time with offset, or an ISO date (midnight UTC).
 * Fractions of a microsecond round up, which keeps `ts >= ge` and `ts < lt`
 * exact for Postgres' microsecond timestamps.
 */
function parseTimeBound(text: string, ctx: z.RefinementCtx, allowInfinite: boolean): TimeBound {
  if (allowInfinite && /^\+?infinity$/i.test(text)) return { literal: 'infinity', epochMs: Infinity };
  if (allowInfinite && /^-infinity$/i.test(text)) return { literal: '-infinity', epochMs: -Infinity };
  if (epochMsPattern.test(text)) {
    const ms = Number(text);
    if (!(ms >= MIN_EPOCH_MS && ms <= MAX_EPOCH_MS)) {
      ctx.addIssue({
        code: 'custom',
        message: `epoch milliseconds must lie between ${MIN_EPOCH_MS} and ${MAX_EPOCH_MS} (years 1 to 9999)${allowInfinite ? '; use -Infinity or Infinity for no bound' : ''}`,
      });
      return z.NEVER;
    }
    return { literal: microsToIso(Math.ceil(ms * 1000)), epochMs: ms };
  }
  const epochMs = Date.parse(text);
  const isIso = isoDateTime.safeParse(text).success || isoDate.safeParse(text).success;
  if (!isIso || Number.isNaN(epochMs)) {
    ctx.addIssue({
      code: 'custom',
      message: `expected epoch milliseconds, an ISO 8601 date-time with offset (e.g. 2026-11-01T00:00:00Z) or date${allowInfinite ? ', or -Infinity/Infinity' : ''}`,
    });
    return z.NEVER;
  }
  // Checked in UTC: 9999-12-31T23:00:00-05:00 is in year 10000, which the wire format (four-digit years) cannot carry back.
  if (epochMs < MIN_EPOCH_MS || epochMs > MAX_EPOCH_MS) {
    ctx.addIssue({
      code: 'custom',
      message: `the time must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z once its offset is applied${allowInfinite ? '; use -Infinity or Infinity for no bound' : ''}`,
    });
    return z.NEVER;
  }
  return { literal: text, epochMs };
}

const timeBound = z.string().transform((text, ctx) => parseTimeBound(text, ctx, true));

const idText = z
  .string()
  .regex(/^\d{1,10}$/, 'expected a positive integer id')
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_ID, `ids are at most ${MAX_ID}`));

/** `ids=1,2,3`: positive integer ids, comma-separated, duplicates ignored. */
const idList = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'expected comma-separated positive integer ids, e.g. 1,2,3')
  .transform((text) => [...new Set(text.split(',').map(Number))])
  .pipe(z.array(z.number().int().min(1).max(MAX_ID, `ids are at most ${MAX_ID}`)).max(MAX_IDS, `at most ${MAX_IDS} ids`));

/** `after=<ts in epoch µs>:<id>`: the opaque-looking cursor of the next page. */
const cursor = z
  .string()
  .regex(/^-?\d{1,19}:\d{1,10}$/, 'expected a cursor from a previous page')
  .transform((text, ctx): ReadingsCursor => {
    const [tsMicros = '', id = ''] = text.split(':');
    const micros = BigInt(tsMicros);
    // A cursor from a page lies within the times a reading can have; anything else would overflow Postgres' bigint or timestamp.
    if (micros < BigInt(MIN_EPOCH_MS) * 1000n || micros > BigInt(MAX_EPOCH_MS) * 1000n + 999n || Number(id) > MAX_ID) {
      ctx.addIssue({ code: 'custom', message: 'expected a cursor from a previous page' });
      return z.NEVER;
    }
    return { tsMicros, id: Number(id) };
  });

/** The query parameters of `GET /api/readings`. Unknown parameters are rejected, so that a typo (`gte=`) is a 400, not a silent full scan. */
export const readingsQuerySchema = z
  .strictObject({
    ge: timeBound.optional(),
    lt: timeBound.optional(),
    ids: idList.optional(),
    format: z.enum(['ndjson', 'json']).optional(),
    limit: z
      .string()
      .regex(/^\d{1,6}$/, 'expected a positive integer')
      .transform(Number)
      .pipe(z.number().int().min(1).max(MAX_LIMIT, `at most ${MAX_LIMIT}`))
      .optional(),
    after: cursor.optional(),
  })
  .refine((query) => !query.ge || !query.lt || query.ge.epochMs <= query.lt.epochMs, {
    message: 'ge must not be after lt',
    path: ['lt'],
  });

export type ReadingsQuery = z.output<typeof readingsQuerySchema>;

/** The `:id` of `/api/readings/:id`. */
export const idParamSchema = z.object({ id: idText });

/** Postgres text cannot hold a NUL character: refused here with a 400 rather than failing in the database with a 500. */
const noNul = (text: string) => !text.includes('\u0000');
const NO_NUL = 'must not contain NUL characters (\\u0000)';

const fieldSchemas = {
  sensor: z.string().trim().min(1).max(100).refine(noNul, NO_NUL),
  ts: z
    .union([z.string(), z.number()])
    // Postgres rounds to microseconds: 9999-12-31T23:59:59.9999999Z would be stored in year 10000.
    .refine((value) => typeof value === 'number' || !/\.\d{7,}/.test(value), 'at most 6 fractional digits (microseconds)')
    .transform((value, ctx) => parseTimeBound(String(value), ctx, false).literal),
  value: z.number(),
  note: z.string().max(1000).refine(noNul, NO_NUL).nullable(),
};

/** The body of `POST /api/readings`. */
export const newReadingSchema = z
  .strictObject({ ...fieldSchemas, note: fieldSchemas.note.optional() })
  .transform((body): ReadingFields => ({ ...body, note: body.note ?? null }));

/** The body of `PATCH /api/readings/:id`: any non-empty subset of the fields. */
export const readingPatchSchema = z
  .strictObject({
    sensor: fieldSchemas.sensor.optional(),
    ts: fieldSchemas.ts.optional(),
    value: fieldSchemas.value.optional(),
    note: fieldSchemas.note.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'expected at least one of sensor, ts, value, note' });

/** The JSON body of a 400 response. */
export interface BadRequestBody {
  error: string;
  issues: { path: (string | number)[]; message: string }[];
}

/** A 400 body naming every offending parameter or field. */
export function badRequest(error: string, zodError: z.ZodError): BadRequestBody {
  return {
    error,
    issues: zodError.issues.map((issue) => ({
      path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
      message: issue.message,
    })),
  };
}

/** The largest Postgres `bigint`: the change log's cursors are `bigserial`. */
const MAX_BIGINT = 2n ** 63n - 1n;

/** The query parameters of `GET /api/changes`. */
export const changesQuerySchema = z.strictObject({
  after: z
    .string()
    .regex(/^\d{1,19}$/, 'expected a cursor from this feed (a non-negative integer), or no after to start from now')
    .refine((text) => !/^\d{1,19}$/.test(text) || BigInt(text) <= MAX_BIGINT, `a cursor is at most ${MAX_BIGINT}`)
    .transform((text) => BigInt(text).toString())
    .optional(),
});
