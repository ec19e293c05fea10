import type { z } from 'zod';
import { DbAccessError, RecordValidationError } from '../core/errors';
import type { DbAccess, DbAccessOptions } from '../core/types';
import { firstIssue } from '../core/zodIssue';
import { ndjsonLines } from './ndjsonLines';
import { absoluteBaseUrl, restUrl, type RestQueryValue } from './restUrl';
import { defaultRetryPolicy, parseRetryAfter, retryDelay, type RetryOptions, type RetryPolicy } from './retryDelay';

/** What `RestDbAccess` fetches: `GET baseUrl + path + ?query`. Plain data. */
export interface RestRecordsSpec {
  /** Appended to the base URL's path, e.g. `'readings'` or `'/readings'`; without a query string. */
  readonly path: string;
  /**
   * Query parameters, in order. Arrays are sent comma-separated
   * (`{ ids: [1, 2] }` → `ids=1,2`), booleans as `true`/`false`, numbers
   * with `String()` (so `Infinity` is `Infinity`).
   */
  readonly query?: Readonly<Record<string, RestQueryValue>> | undefined;
}

/** Headers to send: an object or `Headers`, or a function resolving to one (called before every request, e.g. for a fresh auth token). */
export type RestHeaders = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

/** Options of {@link RestDbAccess}. */
export interface RestDbAccessOptions<R> {
  /** The API's base URL, e.g. `'https://example.com/api'`; a relative one (`'/api'`) is resolved against the page's or worker's location. */
  baseUrl: string | URL;
  /**
   * A zod schema for one record as it arrives; it may transform (e.g. ISO
   * strings to epoch ms), and what it outputs is the record. Must be
   * synchronous (no async refinements).
   */
  schema: z.ZodType<R>;
  /** The `fetch` to use (e.g. to add `credentials: 'include'`). Default: the global `fetch`. */
  fetch?: typeof fetch | undefined;
  /** Extra request headers; they override the default `Accept`. */
  headers?: RestHeaders | undefined;
  /** The `Accept` header. Default `'application/x-ndjson, application/json;q=0.9'`. */
  accept?: string | undefined;
  /**
   * The longest wait for each chunk of the response body, in ms (time the
   * consumer takes to process records does not count, so a long stream never
   * times out while it flows); the wait for the response headers is
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
   * Fail at once, with `offline: true` and without a request or a retry,
   * when `navigator.onLine` says the browser is offline. Default true.
   */
  trustNavigatorOnLine?: boolean | undefined;
  /** Retries of failed requests; see {@link RetryOptions} for the defaults. */
  retry?: RetryOptions | undefined;
}

const DEFAULT_ACCEPT = 'application/x-ndjson, application/json;q=0.9';
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** How much of an error response's body is read for the error message. */
const ERROR_BODY_BYTES = 4096;
const NDJSON_TYPE = /^application\/(x-)?(ndjson|jsonl|jsonlines)\b/i;
const JSON_TYPE = /^application\/([\w.+-]+\+)?json\b/i;

/** A failure that may be retried: a network error, a 5xx, a 429, a connection broken before any record of the response. */
class RetryableFailure extends Error {
  constructor(
    readonly error: DbAccessError,
    readonly retryAfterMs: number | null = null,
  ) {
    super(error.message);
  }
}

/** One request: its abort controller, linked to the caller's signal, and the timer that aborts it. */
class Attempt {
  readonly controller = new AbortController();
  timedOut = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onCallerAbort = () => this.controller.abort(this.callerSignal?.reason);

  constructor(private readonly callerSignal: AbortSignal | undefined) {
    callerSignal?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  /** Runs `work`, aborting the request when it takes longer than `ms` (0: no limit). */
  async within<T>(ms: number, work: Promise<T>): Promise<T> {
    if (ms > 0 && Number.isFinite(ms)) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
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
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }
}

function describeResponse(response: Response): string {
  return `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
}

/**
 * Fetches records from a REST backend with `fetch` (the README's REST protocol section
 * describes the protocol; the reference backend in `demo/server` speaks it).
 *
 * `getRecords({ path, query })` sends `GET baseUrl + path + ?query` and
 * streams the records of the response: NDJSON is parsed and validated line
 * by line as it arrives; a JSON array is parsed whole; a JSON page
 * `{ records, next }` is followed to its `next` URL until `next` is null.
 * Every record goes through `schema`.
 *
 * Failures reject the iteration with a `DbAccessError` (`status`, `offline`,
 * `timedOut`, `url`) or a `RecordValidationError` (`position` across pages,
 * field `path`). Network errors, 5xx and 429 are retried with exponential
 * backoff (honouring `Retry-After`), but only before a record of that
 * response has been yielded: a response that breaks after yielding records
 * rejects, and the caller never sees a record twice. 4xx, timeouts and bad
 * records are never retried.
 */
export class RestDbAccess<R> implements DbAccess<R, RestRecordsSpec> {
  /** The absolute base URL, ending in `/`. */
  readonly baseUrl: URL;
  private readonly schema: z.ZodType<R>;
  private readonly fetchImpl: typeof fetch;
  private readonly headers: RestHeaders | undefined;
  private readonly accept: string;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly trustNavigatorOnLine: boolean;
  private readonly retry: RetryPolicy;

  /** @throws {InvalidSpecError} when `baseUrl` is relative and there is no location to resolve it against. */
  constructor(options: RestDbAccessOptions<R>) {
    this.baseUrl = absoluteBaseUrl(options.baseUrl);
    this.schema = options.schema;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = options.headers;
    this.accept = options.accept ?? DEFAULT_ACCEPT;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.connectTimeoutMs =
      options.connectTimeoutMs ?? (this.timeoutMs === 0 ? DEFAULT_CONNECT_TIMEOUT_MS : Math.min(this.timeoutMs, DEFAULT_CONNECT_TIMEOUT_MS));
    this.trustNavigatorOnLine = options.trustNavigatorOnLine ?? true;
    this.retry = {
      attempts: Math.max(1, Math.floor(options.retry?.attempts ?? defaultRetryPolicy.attempts)),
      baseDelayMs: options.retry?.baseDelayMs ?? defaultRetryPolicy.baseDelayMs,
      maxDelayMs: options.retry?.maxDelayMs ?? defaultRetryPolicy.maxDelayMs,
    };
  }

  /** The URL `getRecords(spec)` fetches first. */
  url(spec: RestRecordsSpec): URL {
    return restUrl(this.baseUrl, spec.path, spec.query);
  }

  /**
   * The records of `spec`, streamed and validated. Breaking out of the loop
   * cancels the response body; aborting `signal` aborts the request (the
   * iteration rejects with a `DbAccessError` whose `cause` is the signal's reason).
   *
   * The iteration rejects with `DbAccessError` for an HTTP error status
   * (after retries for 5xx/429), a network failure (`offline`), a timeout
   * (`timedOut`), an abort, a broken connection or an unreadable response;
   * with `RecordValidationError` for a record that is not JSON or fails the
   * schema; with `InvalidSpecError` for a NaN query parameter.
   */
  async *getRecords(spec: RestRecordsSpec, options: DbAccessOptions = {}): AsyncGenerator<R> {
    const { signal } = options;
    let url: URL | null = this.url(spec);
    const visited = new Set<string>();
    let position = 0;
    while (url !== null) {
      visited.add(url.href);
      let next: URL | null = null;
      for (let attempt = 1; ; attempt++) {
        let yielded = 0;
        try {
          for await (const item of this.fetchPage(url, signal, position)) {
            if ('next' in item) {
              next = item.next;
              continue;
            }
            for (const record of item.records) {
              // Records already parsed (a JSON page, the rest of a chunk) must not outlive an abort either.
              if (signal?.aborted) throw this.abortError(url, signal);
              position++;
              yielded++;
              yield record;
            }
          }
          break;
        } catch (error) {
          if (!(error instanceof RetryableFailure)) throw error;
          if (yielded > 0 || attempt >= this.retry.attempts) throw error.error;
          const delay = retryDelay(this.retry, attempt, error.retryAfterMs);
          if (delay === null) throw error.error;
          await this.sleep(delay, signal, url);
        }
      }
      if (next !== null && visited.has(next.href)) {
        throw new DbAccessError(`GET ${url.href}: the next page links back to ${next.href}, which was already fetched.`, { url: url.href });
      }
      url = next;
    }
  }

  /**
   * One response's records, validated, in batches (`{ records }`: one per
   * chunk of an NDJSON body, one for a JSON body), then `{ next }` when the
   * page links to a next one. Validation runs ahead of the consumer by at
   * most one batch: a bad record rejects only once the records before it
   * have been yielded.
   */
  private async *fetchPage(
    url: URL,
    signal: AbortSignal | undefined,
    firstPosition: number,
  ): AsyncGenerator<{ records: R[] } | { next: URL }> {
    if (signal?.aborted) throw this.abortError(url, signal);
    const attempt = new Attempt(signal);
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      const response = await this.request(url, attempt, signal);
      if (response.status === 204 || !response.body) return;
      reader = response.body.getReader();
      const read = this.chunkReader(reader, url, attempt, signal, response);
      const type = response.headers.get('Content-Type') ?? '';
      let position = firstPosition;
      if (NDJSON_TYPE.test(type)) {
        for await (const lines of ndjsonLines(read)) {
          const { records, failure } = this.validate(lines, position, (line, at) => this.tryLine(line, at, url));
          position += records.length;
          yield { records };
          if (failure) throw failure;
        }
      } else if (JSON_TYPE.test(type)) {
        const body = this.parseJson(await this.readText(read), position, url);
        const page = this.page(body, url);
        const { records, failure } = this.validate(page.records, position, (value, at) => this.tryRecord(value, at, url));
        yield { records };
        if (failure) throw failure;
        if (page.next !== null) yield { next: page.next };
      } else {
        throw new DbAccessError(
          `GET ${url.href} answered with Content-Type '${type}'; expected application/x-ndjson or application/json.`,
          { status: response.status, url: url.href },
        );
      }
    } finally {
      attempt.dispose();
      // Cancelling tells the server to stop (the connection closes); after a complete read it does nothing.
      reader?.cancel().catch(() => {});
    }
  }

  /** Sends the request and resolves with a 2xx response, or throws the failure (wrapped as retryable when it is). */
  private async request(url: URL, attempt: Attempt, signal: AbortSignal | undefined): Promise<Response> {
    if (this.trustNavigatorOnLine && globalThis.navigator?.onLine === false) {
      // Not a RetryableFailure: retrying while the browser says it is offline would only delay the answer.
      throw new DbAccessError(`GET ${url.href} not sent: the browser is offline (navigator.onLine is false).`, {
        offline: true,
        url: url.href,
      });
    }
    const headers = new Headers({ Accept: this.accept });
    try {
      const extra = typeof this.headers === 'function' ? await this.headers() : this.headers;
      new Headers(extra).forEach((value, name) => headers.set(name, value));
    } catch (cause) {
      throw new DbAccessError(`GET ${url.href}: the headers option failed: ${String(cause)}`, { url: url.href, cause });
    }
    let response: Response;
    try {
      response = await attempt.within(
        this.connectTimeoutMs,
        this.fetchImpl(url.href, { method: 'GET', headers, signal: attempt.controller.signal }),
      );
    } catch (cause) {
      if (attempt.timedOut) {
        // No answer at all within the connect timeout: as far as the app can tell, the backend is unreachable.
        throw new DbAccessError(`GET ${url.href} timed out: no response within ${this.connectTimeoutMs} ms.`, {
          timedOut: true,
          offline: true,
          url: url.href,
          cause,
        });
      }
      if (signal?.aborted) throw this.abortError(url, signal);
      throw new RetryableFailure(
        new DbAccessError(`GET ${url.href} failed: the server could not be reached (offline or down).`, {
          offline: true,
          url: url.href,
          cause,
        }),
      );
    }
    if (response.ok) return response;
    const error = new DbAccessError(
      `GET ${url.href} failed with ${describeResponse(response)}${await this.errorDetail(response, attempt)}.`,
      { status: response.status, url: url.href },
    );
    if (response.status >= 500 || response.status === 429) {
      throw new RetryableFailure(error, parseRetryAfter(response.headers.get('Retry-After')));
    }
    throw error;
  }

  /** `: <message>` from an error response's body (`{ error }`, `{ message }` or text), or `''`. Never fails. */
  private async errorDetail(response: Response, attempt: Attempt): Promise<string> {
    if (!response.body) return '';
    const reader = response.body.getReader();
    try {
      const chunks: Uint8Array[] = [];
      let size = 0;
      while (size < ERROR_BODY_BYTES) {
        const { done, value } = await attempt.within(this.timeoutMs, reader.read());
        if (done) break;
        chunks.push(value);
        size += value.byteLength;
      }
      const bytes = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        bytes.set(chunk, offset);
        offset += chunk.byteLength;
      }
      const text = new TextDecoder().decode(bytes.subarray(0, ERROR_BODY_BYTES)).trim();
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
    } catch {
      // The status is what matters; a body that cannot be read adds nothing.
      return '';
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  /** `reader.read()` under the idle timeout, with failures turned into `DbAccessError`s. */
  private chunkReader(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    url: URL,
    attempt: Attempt,
    signal: AbortSignal | undefined,
    response: Response,
  ): () => Promise<ReadableStreamReadResult<Uint8Array>> {
    return async () => {
      try {
        return await attempt.within(this.timeoutMs, reader.read());
      } catch (cause) {
        if (attempt.timedOut) {
          throw new DbAccessError(`GET ${url.href} timed out: no data for ${this.timeoutMs} ms in the middle of the response.`, {
            status: response.status,
            timedOut: true,
            url: url.href,
            cause,
          });
        }
        if (signal?.aborted) throw this.abortError(url, signal);
        throw new RetryableFailure(
          new DbAccessError(`GET ${url.href}: the connection broke in the middle of the response.`, {
            status: response.status,
            url: url.href,
            cause,
          }),
        );
      }
    };
  }

  private async readText(read: () => Promise<ReadableStreamReadResult<Uint8Array>>): Promise<string> {
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { done, value } = await read();
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
    }
  }

  private parseJson(text: string, position: number, url: URL): unknown {
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new RecordValidationError(`Record ${position} from ${url.href} is not valid JSON: ${(cause as Error).message}`, {
        position,
        path: [],
        url: url.href,
        cause,
      });
    }
  }

  private page(body: unknown, url: URL): { records: readonly unknown[]; next: URL | null } {
    if (Array.isArray(body)) return { records: body, next: null };
    if (body && typeof body === 'object' && Array.isArray((body as { records?: unknown }).records)) {
      const { records, next } = body as { records: unknown[]; next?: unknown };
      if (next === null || next === undefined) return { records, next: null };
      if (typeof next === 'string') {
        try {
          return { records, next: new URL(next, this.baseUrl) };
        } catch (cause) {
          throw new DbAccessError(`GET ${url.href}: 'next' is not a URL: ${next}`, { url: url.href, cause });
        }
      }
    }
    throw new DbAccessError(`GET ${url.href}: expected a JSON array or { records: [...], next: string | null }.`, { url: url.href });
  }

  /**
   * The records of `values` (the first at `firstPosition`) up to the first
   * that fails validation, and that failure: the records before a bad one
   * are still delivered, then the iteration rejects.
   */
  private validate<T>(
    values: Iterable<T>,
    firstPosition: number,
    toRecord: (value: T, position: number) => R | RecordValidationError,
  ): { records: R[]; failure?: RecordValidationError } {
    const records: R[] = [];
    for (const value of values) {
      const record = toRecord(value, firstPosition + records.length);
      if (record instanceof RecordValidationError) return { records, failure: record };
      records.push(record);
    }
    return { records };
  }

  /** The record on an NDJSON line, or the error saying why there is none. */
  private tryLine(line: string, position: number, url: URL): R | RecordValidationError {
    try {
      return this.tryRecord(this.parseJson(line, position, url), position, url);
    } catch (error) {
      if (error instanceof RecordValidationError) return error;
      throw error;
    }
  }

  /** The record, or the error saying why `value` is not one. */
  private tryRecord(value: unknown, position: number, url: URL): R | RecordValidationError {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const { path, at, message } = firstIssue(result.error);
    return new RecordValidationError(`Record ${position} from ${url.href} is invalid${at}: ${message ?? 'does not match the schema'}.`, {
      position,
      path,
      url: url.href,
      cause: result.error,
    });
  }

  private abortError(url: URL, signal: AbortSignal): DbAccessError {
    return new DbAccessError(`GET ${url.href} was aborted.`, { url: url.href, cause: signal.reason });
  }

  private sleep(ms: number, signal: AbortSignal | undefined, url: URL): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(this.abortError(url, signal));
      const onAbort = () => {
        clearTimeout(timer);
        reject(this.abortError(url, signal as AbortSignal));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
