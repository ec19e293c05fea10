import { InvalidSpecError } from '../core/errors';

/** When to try a failed request again. */
export interface RetryOptions {
  /** Tries in all, the first included; 1 turns retrying off. An integer from 1 to 100. Default 3. */
  attempts?: number | undefined;
  /** Wait before the first retry, in ms; each further retry waits twice as long (with up to 50 % jitter below). Finite, ≥ 0. Default 200. */
  baseDelayMs?: number | undefined;
  /**
   * The longest wait before a retry, in ms. A `Retry-After` asking for
   * longer is not retried at all: the failure is reported at once. Finite, ≥ 0. Default 10 000.
   */
  maxDelayMs?: number | undefined;
}

/** {@link RetryOptions} with every default filled in. */
export type RetryPolicy = Required<{ [K in keyof RetryOptions]: number }>;

/** The defaults of {@link RetryOptions}. */
export const defaultRetryPolicy: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 10_000 };

/** The most `attempts` accepted: more would only hide a backend that is down. */
const MAX_ATTEMPTS = 100;

/**
 * A duration option in ms: `fallback` when undefined, else a finite number ≥ 0.
 *
 * @throws {InvalidSpecError} naming `path` when the value is NaN, negative, infinite or not a number.
 */
export function durationOption(value: unknown, fallback: number, path: readonly string[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidSpecError(
      `${path.join('.')} must be a finite number of milliseconds ≥ 0 (0 where documented means no limit), not ${String(value)}.`,
      {
        path,
      },
    );
  }
  return value;
}

/**
 * {@link RetryOptions} checked, with the defaults filled in.
 *
 * @throws {InvalidSpecError} when `attempts` is not an integer from 1 to 100, or a delay is not a finite number ≥ 0.
 */
export function retryPolicy(options: RetryOptions | undefined): RetryPolicy {
  const attempts = options?.attempts ?? defaultRetryPolicy.attempts;
  if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 1 || attempts > MAX_ATTEMPTS) {
    throw new InvalidSpecError(`retry.attempts must be an integer from 1 to ${MAX_ATTEMPTS} (1: no retries), not ${String(attempts)}.`, {
      path: ['retry', 'attempts'],
    });
  }
  return {
    attempts,
    baseDelayMs: durationOption(options?.baseDelayMs, defaultRetryPolicy.baseDelayMs, ['retry', 'baseDelayMs']),
    maxDelayMs: durationOption(options?.maxDelayMs, defaultRetryPolicy.maxDelayMs, ['retry', 'maxDelayMs']),
  };
}

/**
 * A `Retry-After` header in ms from `now`: delay-seconds (fractions
 * honoured, `1.5` is 1 500 ms) or an HTTP date (a date in the past is 0).
 * `null` when absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Date.parse reads '1.5' or '-1' as dates; an HTTP date always has letters (the day and month names).
  if (!/[a-z]/i.test(text)) return null;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * How long to wait before retry number `retry` (1 for the first retry):
 * what `Retry-After` asks for when given, else exponential backoff with
 * jitter. `null` when `Retry-After` asks for more than `maxDelayMs`.
 */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfterMs: number | null, random = Math.random): number | null {
  if (retryAfterMs !== null) return retryAfterMs <= policy.maxDelayMs ? retryAfterMs : null;
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  // Jitter spreads out clients that failed together, so they do not all come back at the same instant.
  return backoff / 2 + (random() * backoff) / 2;
}
