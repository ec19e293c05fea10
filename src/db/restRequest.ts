import { DbAccessError } from '../core/errors';
import type { BodyReader } from './bodyReader';
import { RestProtocolError } from './RestProtocolError';
import type { RestTransport } from './restTransport';
import { parseRetryAfter } from './retryDelay';

/** How much of an error response's body is read for the error message. */
const ERROR_BODY_BYTES = 4096;
/** The longest wait for an error response's body: the status is the answer, the body only decorates it. */
const ERROR_BODY_MS = 2000;
/** Redirects followed (on the base URL's origin) before giving up. */
const MAX_REDIRECTS = 5;
/** Error codes (Node's) of a connection that could not be made at all: nobody is listening, or the host is unknown or unreachable. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** A failure that may be retried: a reset connection, a 5xx, a 429, a connection broken before any record of the response. */
export class RetryableFailure extends Error {
  constructor(
    readonly error: DbAccessError,
    readonly retryAfterMs: number | null = null,
  ) {
    super(error.message);
  }
}

/**
 * One request: its abort controller, linked to the caller's signal, the
 * overall deadline that aborts it, and the per-wait timer.
 */
export class Attempt {
  readonly controller = new AbortController();
  /** Which limit aborted the request, if one did. */
  timedOut: 'wait' | 'deadline' | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly deadline: ReturnType<typeof setTimeout> | undefined;
  private readonly onCallerAbort = () => this.controller.abort(this.callerSignal?.reason);

  constructor(
    private readonly callerSignal: AbortSignal | undefined,
    readonly deadlineMs: number,
  ) {
    callerSignal?.addEventListener('abort', this.onCallerAbort, { once: true });
    if (deadlineMs > 0) {
      this.deadline = setTimeout(() => {
        this.timedOut ??= 'deadline';
        this.controller.abort(new DOMException(`Not complete within ${deadlineMs} ms`, 'TimeoutError'));
      }, deadlineMs);
    }
  }

  /** Runs `work`, aborting the request when it takes longer than `ms` (0: no limit). */
  async within<T>(ms: number, work: Promise<T>): Promise<T> {
    if (ms > 0 && Number.isFinite(ms)) {
      this.timer = setTimeout(() => {
        this.timedOut ??= 'wait';
        this.controller.abort(new DOMException(`No answer within ${ms} ms`, 'TimeoutError'));
      }, ms);
    }
    try {
      return await work;
    } finally {
      clearTimeout(this.timer);
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }
}

/** The error of an aborted request. */
export function abortError(url: URL, signal: AbortSignal): DbAccessError {
  return new DbAccessError(`GET ${url.href} was aborted.`, { url: url.href, cause: signal.reason });
}

/** The error of a request that ran past `deadlineMs`. */
function deadlineError(url: URL, attempt: Attempt, status: number | undefined, cause: unknown): DbAccessError {
  return new DbAccessError(`GET ${url.href} timed out: not complete within deadlineMs (${attempt.deadlineMs} ms).`, {
    status,
    timedOut: true,
    url: url.href,
    cause,
  });
}

/**
 * Throws a `RestProtocolError` unless `url` is on the base URL's origin
 * over http or https: the configured headers (credentials) must never
 * reach another origin, and records must come from the backend only.
 */
export function assertSameOrigin(transport: RestTransport, url: URL, from: URL, what: string): void {
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === transport.baseUrl.origin) return;
  throw new RestProtocolError(
    `GET ${from.href}: ${what} ${url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : `'${url.protocol}' URL`} ` +
      `is not on the base URL's origin ${transport.baseUrl.origin}; it is not followed (the configured headers go to that origin only).`,
    { violation: 'cross-origin', url: from.href },
  );
}

function errorCode(cause: unknown): string | undefined {
  const inner = (cause as { cause?: { code?: unknown; errors?: { code?: unknown }[] } } | null)?.cause;
  const code = inner?.code ?? inner?.errors?.[0]?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Sends `GET url` with the configured headers and resolves with a 2xx
 * response, following redirects itself (`redirect: 'manual'`) only on the
 * base URL's origin. Throws the failure as a `DbAccessError` (wrapped in a
 * {@link RetryableFailure} when retrying may help).
 */
export async function sendRequest(
  transport: RestTransport,
  url: URL,
  accept: string,
  attempt: Attempt,
  signal: AbortSignal | undefined,
): Promise<Response> {
  if (transport.trustNavigatorOnLine && globalThis.navigator?.onLine === false) {
    // Not a RetryableFailure: retrying while the browser says it is offline would only delay the answer.
    throw new DbAccessError(`GET ${url.href} not sent: the browser is offline (navigator.onLine is false).`, {
      offline: true,
      url: url.href,
    });
  }
  const headers = new Headers({ Accept: accept });
  try {
    const extra = typeof transport.headers === 'function' ? await transport.headers() : transport.headers;
    new Headers(extra).forEach((value, name) => headers.set(name, value));
  } catch (cause) {
    throw new DbAccessError(`GET ${url.href}: the headers option failed: ${String(cause)}`, { url: url.href, cause });
  }
  const visited = [url.href];
  let target = url;
  for (;;) {
    const response = await fetchOnce(transport, target, headers, attempt, signal);
    if (response.type === 'opaqueredirect') {
      throw new RestProtocolError(
        `GET ${target.href} was redirected, and the browser hides where to; redirects are not followed blindly (the configured headers might reach another origin). Point baseUrl at the final URL.`,
        { violation: 'redirect', status: response.status, url: target.href },
      );
    }
    if (response.status < 300 || response.status >= 400) return checkStatus(transport, response, target);
    const location = response.headers.get('Location');
    response.body?.cancel().catch(() => {});
    if (location === null) {
      throw new DbAccessError(`GET ${target.href} answered ${response.status} without a Location.`, {
        status: response.status,
        url: target.href,
      });
    }
    let next: URL;
    try {
      next = new URL(location, target);
    } catch (cause) {
      throw new RestProtocolError(`GET ${target.href} redirects to '${location}', which is not a URL.`, {
        violation: 'redirect',
        status: response.status,
        url: target.href,
        cause,
      });
    }
    assertSameOrigin(transport, next, target, `the redirect (${response.status}) to`);
    if (visited.includes(next.href) || visited.length > MAX_REDIRECTS) {
      throw new RestProtocolError(
        `GET ${url.href}: ${visited.includes(next.href) ? 'redirect loop' : `more than ${MAX_REDIRECTS} redirects`} (${[...visited, next.href].join(' → ')}).`,
        { violation: 'redirect', status: response.status, url: url.href },
      );
    }
    visited.push(next.href);
    target = next;
  }
}

async function fetchOnce(
  transport: RestTransport,
  url: URL,
  headers: Headers,
  attempt: Attempt,
  signal: AbortSignal | undefined,
): Promise<Response> {
  try {
    return await attempt.within(
      transport.connectTimeoutMs,
      transport.fetch(url.href, { method: 'GET', headers, redirect: 'manual', signal: attempt.controller.signal }),
    );
  } catch (cause) {
    if (attempt.timedOut === 'wait') {
      // No answer at all within the connect timeout: as far as the app can tell, the backend is unreachable.
      throw new DbAccessError(`GET ${url.href} timed out: no response within ${transport.connectTimeoutMs} ms.`, {
        timedOut: true,
        offline: true,
        url: url.href,
        cause,
      });
    }
    if (attempt.timedOut === 'deadline') throw deadlineError(url, attempt, undefined, cause);
    if (signal?.aborted) throw abortError(url, signal);
    const message = (cause as { cause?: { message?: unknown } } | null)?.cause?.message;
    if (typeof message === 'string' && /redirect/i.test(message)) {
      // A fetch given as an option may follow redirects itself; Node's reports a loop as 'redirect count exceeded'.
      throw new RestProtocolError(`GET ${url.href} failed on a redirect: ${message}.`, { violation: 'redirect', url: url.href, cause });
    }
    const code = errorCode(cause);
    const error = new DbAccessError(`GET ${url.href} failed: the server could not be reached (${code ?? 'offline or down'}).`, {
      offline: true,
      url: url.href,
      cause,
    });
    // Nobody listening (or a browser, which does not say why): offline now, so that stale records are served at once.
    if (code === undefined || UNREACHABLE_CODES.has(code)) throw error;
    throw new RetryableFailure(error);
  }
}

async function checkStatus(transport: RestTransport, response: Response, url: URL): Promise<Response> {
  if (response.ok) return response;
  const error = new DbAccessError(
    `GET ${url.href} failed with ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${await errorDetail(transport, response)}.`,
    { status: response.status, url: url.href },
  );
  if (response.status >= 500 || response.status === 429) {
    throw new RetryableFailure(error, parseRetryAfter(response.headers.get('Retry-After')));
  }
  throw error;
}

/** `: <message>` from an error response's body (`{ error }`, `{ message }` or text), or `''`. Never fails; waits at most 2 s. */
async function errorDetail(transport: RestTransport, response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + Math.min(ERROR_BODY_MS, transport.timeoutMs || ERROR_BODY_MS);
  let text = '';
  try {
    let size = 0;
    while (size < ERROR_BODY_BYTES) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const { done, value } = await Promise.race([
        reader.read(),
        new Promise<ReadableStreamReadResult<Uint8Array>>((resolve) => setTimeout(() => resolve({ done: true, value: undefined }), left)),
      ]);
      if (done) break;
      text += decoder.decode(value, { stream: true });
      size += value.byteLength;
    }
  } catch {
    // The status is what matters; a body that cannot be read adds nothing.
  } finally {
    reader.cancel().catch(() => {});
  }
  text = text.slice(0, ERROR_BODY_BYTES).trim();
  let detail = text;
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === 'object') {
      const { error, message } = body as { error?: unknown; message?: unknown };
      if (typeof error === 'string') detail = error;
      else if (typeof message === 'string') detail = message;
    }
  } catch {
    // Not JSON: the text itself is the detail.
  }
  return detail ? `: ${detail.slice(0, 300)}` : '';
}

function isBlank(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (byte !== 32 && byte !== 10 && byte !== 13 && byte !== 9) return false;
  }
  return true;
}

/**
 * `reader.read()` under the idle timeout and the deadline, with failures
 * turned into `DbAccessError`s. A chunk of whitespace only is no progress:
 * the idle timeout keeps running across it.
 */
export function chunkReader(
  transport: RestTransport,
  reader: BodyReader,
  url: URL,
  attempt: Attempt,
  signal: AbortSignal | undefined,
  status: number,
): () => Promise<ReadableStreamReadResult<Uint8Array>> {
  let idleSince: number | null = null;
  return async () => {
    const since = idleSince ?? Date.now();
    const left = transport.timeoutMs === 0 ? 0 : Math.max(1, transport.timeoutMs - (Date.now() - since));
    try {
      const result = await attempt.within(left, reader.read());
      idleSince = !result.done && isBlank(result.value) ? since : null;
      return result;
    } catch (cause) {
      if (attempt.timedOut === 'wait') {
        throw new DbAccessError(`GET ${url.href} timed out: no data for ${transport.timeoutMs} ms in the middle of the response.`, {
          status,
          timedOut: true,
          url: url.href,
          cause,
        });
      }
      if (attempt.timedOut === 'deadline') throw deadlineError(url, attempt, status, cause);
      if (signal?.aborted) throw abortError(url, signal);
      throw new RetryableFailure(
        new DbAccessError(`GET ${url.href}: the connection broke in the middle of the response.`, { status, url: url.href, cause }),
      );
    }
  };
}
