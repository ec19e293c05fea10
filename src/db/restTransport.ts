import { InvalidSpecError } from '../core/errors';
import { absoluteBaseUrl } from './restUrl';
import { durationOption } from './retryDelay';

/** Headers to send: an object or `Headers`, or a function resolving to one (called before every request, e.g. for a fresh auth token). */
export type RestHeaders = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

/** How to reach the backend: the options {@link RestDbAccess} and {@link RestChangeFeed} share. */
export interface RestTransportOptions {
  /**
   * The API's base URL, e.g. `'https://example.com/api'`; a relative one
   * (`'/api'`) is resolved against the page's or worker's location. Every
   * request stays on its origin: a `next` link or a redirect elsewhere is a
   * `RestProtocolError`, so `headers` never reach another origin.
   */
  baseUrl: string | URL;
  /** The `fetch` to use (e.g. to add `credentials: 'include'`). Default: the global `fetch`. It is called with `redirect: 'manual'`. */
  fetch?: typeof fetch | undefined;
  /** Extra request headers; they override the default `Accept`. Sent only to the base URL's origin. */
  headers?: RestHeaders | undefined;
  /**
   * The longest wait for each chunk of the response body, in ms (time the
   * consumer takes to process records does not count, so a long stream never
   * times out while it flows; chunks holding only whitespace do not count as
   * progress either); the wait for the response headers is
   * `connectTimeoutMs`. 0 means no limit. Default 30 000.
   */
  timeoutMs?: number | undefined;
  /**
   * The longest wait for the response headers, in ms, so that an unreachable
   * backend fails fast (offline) instead of hanging. 0 means no limit.
   * Default 5 000 (or `timeoutMs` when that is shorter).
   */
  connectTimeoutMs?: number | undefined;
  /**
   * The longest one request may take in all, in ms: from sending it to the
   * end of its response body, waiting for the consumer included. A backend
   * that trickles data (a byte every few seconds) cannot hold a request
   * longer than this. Each retry and each page is a new request. 0 means no
   * limit. Default 300 000 (5 minutes).
   */
  deadlineMs?: number | undefined;
  /** The longest NDJSON line accepted, in bytes; a longer one is a `RestProtocolError` (`line-too-long`). Default 1 048 576 (1 MiB). */
  maxLineBytes?: number | undefined;
  /**
   * Fail at once, with `offline: true` and without a request or a retry,
   * when `navigator.onLine` says the browser is offline. Default true.
   */
  trustNavigatorOnLine?: boolean | undefined;
}

/** {@link RestTransportOptions} checked, with the defaults filled in. */
export interface RestTransport {
  readonly baseUrl: URL;
  readonly fetch: typeof fetch;
  readonly headers: RestHeaders | undefined;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly deadlineMs: number;
  readonly maxLineBytes: number;
  readonly trustNavigatorOnLine: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_DEADLINE_MS = 300_000;
const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/**
 * The transport options checked, with defaults filled in.
 *
 * @throws {InvalidSpecError} when `baseUrl` cannot be made absolute or is not http/https, or a number option is NaN, negative or infinite.
 */
export function restTransport(options: RestTransportOptions): RestTransport {
  const baseUrl = absoluteBaseUrl(options.baseUrl);
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') {
    throw new InvalidSpecError(`baseUrl must be an http or https URL, not ${baseUrl.protocol}.`, { path: ['baseUrl'] });
  }
  const timeoutMs = durationOption(options.timeoutMs, DEFAULT_TIMEOUT_MS, ['timeoutMs']);
  const maxLineBytes = durationOption(options.maxLineBytes, DEFAULT_MAX_LINE_BYTES, ['maxLineBytes']);
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new InvalidSpecError(`maxLineBytes must be a positive integer, not ${maxLineBytes}.`, { path: ['maxLineBytes'] });
  }
  const fetchImpl = options.fetch;
  return {
    baseUrl,
    fetch: fetchImpl ?? ((input, init) => globalThis.fetch(input, init)),
    headers: options.headers,
    timeoutMs,
    connectTimeoutMs: durationOption(
      options.connectTimeoutMs,
      timeoutMs === 0 ? DEFAULT_CONNECT_TIMEOUT_MS : Math.min(timeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
      ['connectTimeoutMs'],
    ),
    deadlineMs: durationOption(options.deadlineMs, DEFAULT_DEADLINE_MS, ['deadlineMs']),
    maxLineBytes,
    trustNavigatorOnLine: options.trustNavigatorOnLine ?? true,
  };
}
