/** When to try a failed request again. */
export interface RetryOptions {
  /** Tries in all, the first included; 1 turns retrying off. Default 3. */
  attempts?: number | undefined;
  /** Wait before the first retry, in ms; each further retry waits twice as long (with up to 50 % jitter below). Default 200. */
  baseDelayMs?: number | undefined;
  /**
   * The longest wait before a retry, in ms. A `Retry-After` asking for
   * longer is not retried at all: the failure is reported at once. Default 10 000.
   */
  maxDelayMs?: number | undefined;
}

/** {@link RetryOptions} with every default filled in. */
export type RetryPolicy = Required<{ [K in keyof RetryOptions]: number }>;

/** The defaults of {@link RetryOptions}. */
export const defaultRetryPolicy: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 10_000 };

/**
 * A `Retry-After` header in ms from `now`: delay-seconds or an HTTP date
 * (a date in the past is 0). `null` when absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
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
