import { z } from 'zod';
import { InvalidSpecError } from '../core/errors';
import { isValidKey, type PrimaryKey } from '../core/keys';
import { firstIssue } from '../core/zodIssue';

/** A score bound: a number (±Infinity allowed, not NaN), a Date, or an ISO 8601 date-time string (both as epoch ms). */
export const scoreBound = z.union(
  [
    z.custom<number>((value) => typeof value === 'number' && !Number.isNaN(value), { message: 'expected a number, not NaN' }),
    z.date().transform((date) => date.getTime()),
    z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)),
  ],
  {
    error: (issue) =>
      `expected a number (not NaN; ±Infinity allowed), a valid Date, or an ISO 8601 date-time string with a time zone (e.g. '2026-11-01T00:00:00Z'), got ${describeValue(issue.input)}`,
  },
);

/** A short rendering of an offending value for messages: its type, and the value when short. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
  if (value === null) return 'null';
  if (value instanceof Date) return 'an invalid Date';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** A valid IndexedDB key. */
export const primaryKeySchema = z.custom<PrimaryKey>((value) => isValidKey(value), {
  message: 'expected a valid IndexedDB key (number, string, Date, binary or array of those)',
});

/** An optional record filter; only usable in the same thread (functions do not cross the worker boundary). */
export const recheckSchema = z.custom<(record: never) => boolean>((value) => typeof value === 'function', {
  message: 'expected a function',
});

/** Parses `input` with `schema`, throwing an `InvalidSpecError` that names the first offending field. */
export function parseSpec<T>(schema: z.ZodType<T>, input: unknown, context: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const { path, at, message } = firstIssue(result.error);
  throw new InvalidSpecError(`${context}: invalid spec${at}: ${message ?? 'invalid input'}.`, { path, cause: result.error });
}

/** @throws {InvalidSpecError} (at `indexName`) unless `indexName` is the one index of these Indexes. */
export function checkIndexName(indexName: string, only: string): void {
  if (indexName !== only) {
    throw new InvalidSpecError(`There is no index '${indexName}'; the only index is '${only}'.`, { path: ['indexName'] });
  }
}
