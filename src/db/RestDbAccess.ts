import type { z } from 'zod';
import { DbAccessError, RecordValidationError } from '../core/errors';
import type { DbAccess, DbAccessOptions } from '../core/types';
import { firstIssue } from '../core/zodIssue';
import { bodyReader, type BodyReader } from './bodyReader';
import { END_LINE_HEADER, END_LINE_KEY, endLineCount } from './endLine';
import { parseTotalCount, TOTAL_COUNT_HEADER } from './totalCount';
import { ndjsonLines } from './ndjsonLines';
import { RestProtocolError } from './RestProtocolError';
import { abortError, assertSameOrigin, Attempt, chunkReader, RetryableFailure, sendRequest } from './restRequest';
import { restTransport, type RestTransport, type RestTransportOptions } from './restTransport';
import { restUrl, type RestQueryValue } from './restUrl';
import { retryDelay, retryPolicy, type RetryOptions, type RetryPolicy } from './retryDelay';

export type { RestHeaders } from './restTransport';

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

/** Options of {@link RestDbAccess}: how to reach the backend ({@link RestTransportOptions}), the record schema, and retries. */
export interface RestDbAccessOptions<R> extends RestTransportOptions {
  /**
   * A zod schema for one record as it arrives; it may transform (e.g. ISO
   * strings to epoch ms), and what it outputs is the record. Must be
   * synchronous (no async refinements).
   */
  schema: z.ZodType<R>;
  /** The `Accept` header. Default `'application/x-ndjson, application/json;q=0.9'`. */
  accept?: string | undefined;
  /** Retries of failed requests; see {@link RetryOptions} for the defaults. */
  retry?: RetryOptions | undefined;
}

const DEFAULT_ACCEPT = 'application/x-ndjson, application/json;q=0.9';

const NDJSON_TYPE = /^application\/(x-)?(ndjson|jsonl|jsonlines)\b/i;
const JSON_TYPE = /^application\/([\w.+-]+\+)?json\b/i;

/**
 * Values of a response as they arrive (NDJSON lines, or a JSON body's
 * values), each validated into its record only when it is handed out: a
 * chunk of thousands of lines is not parsed in one go, and the records the
 * consumer has not reached yet do not take memory.
 */
interface Values<R> {
  readonly values: readonly unknown[];
  /** The record of a value (at `position` across pages), or the error saying why there is none. */
  readonly toRecord: (value: unknown, position: number) => R | RecordValidationError;
}

/**
 * Fetches records from a REST backend with `fetch` (docs/rest-protocol.md
 * describes the protocol; the reference backend in
 * `demo/server` speaks it).
 *
 * `getRecords({ path, query })` sends `GET baseUrl + path + ?query` and
 * streams the records of the response: NDJSON is parsed and validated line
 * by line as it arrives; a JSON array is parsed whole; a JSON page
 * `{ records, next }` is followed to its `next` URL until `next` is null.
 * Every record goes through `schema`. Requests never leave the base URL's
 * origin: a `next` or a redirect elsewhere is a {@link RestProtocolError}.
 *
 * Failures reject the iteration with a `DbAccessError` (`status`, `offline`,
 * `timedOut`, `url`), a `RestProtocolError` (a `DbAccessError` with a
 * `violation`) or a `RecordValidationError` (`position` across pages, field
 * `path`). Reset connections, 5xx and 429 are retried with exponential
 * backoff (honouring `Retry-After`), but only before a record of that
 * response has been yielded: a response that breaks after yielding records
 * rejects, and the caller never sees a record twice. A refused connection is
 * `offline` at once; 4xx, timeouts and bad records are never retried.
 */
export class RestDbAccess<R> implements DbAccess<R, RestRecordsSpec> {
  /** The absolute base URL, ending in `/`. */
  readonly baseUrl: URL;
  private readonly transport: RestTransport;
  private readonly schema: z.ZodType<R>;
  private readonly accept: string;
  private readonly retry: RetryPolicy;

  /**
   * @throws {InvalidSpecError} when `baseUrl` is relative and there is no location to resolve it against, or is
   * not http/https; when a number option is NaN, negative or infinite, or `retry.attempts` is not an integer from 1 to 100.
   */
  constructor(options: RestDbAccessOptions<R>) {
    this.transport = restTransport(options);
    this.baseUrl = this.transport.baseUrl;
    this.schema = options.schema;
    this.accept = options.accept ?? DEFAULT_ACCEPT;
    this.retry = retryPolicy(options.retry);
  }

  /** The URL `getRecords(spec)` fetches first. */
  url(spec: RestRecordsSpec): URL {
    return restUrl(this.baseUrl, spec.path, spec.query);
  }

  /**
   * The records of `spec`, streamed and validated. Breaking out of the loop
   * cancels the response body; aborting `signal` aborts the request (the
   * iteration rejects with a `DbAccessError` whose `cause` is the signal's reason).
   * `onTotal` is called once, before the first record, with the first
   * response's `X-Total-Count` (a whole number) when it has one.
   *
   * The iteration rejects with `DbAccessError` for an HTTP error status
   * (after retries for 5xx/429), a network failure (`offline`), a timeout
   * or the deadline (`timedOut`), an abort, a broken connection or an
   * unreadable response; with `RestProtocolError` for a `next` or redirect
   * off the base URL's origin, a redirect loop, a line over `maxLineBytes`,
   * or a body cut before its announced end line; with
   * `RecordValidationError` for a record that is not JSON or fails the
   * schema; with `InvalidSpecError` for a NaN query parameter.
   */
  async *getRecords(spec: RestRecordsSpec, options: DbAccessOptions = {}): AsyncGenerator<R> {
    const { signal } = options;
    // The first response's `X-Total-Count` counts every page; a retry of it must not tell twice.
    let onTotal = options.onTotal;
    const tellTotal = (total: number) => {
      onTotal?.(total);
      onTotal = undefined;
    };
    let url: URL | null = this.url(spec);
    const visited = new Set<string>();
    let position = 0;
    while (url !== null) {
      visited.add(url.href);
      let next: URL | null = null;
      for (let attempt = 1; ; attempt++) {
        let yielded = 0;
        try {
          for await (const item of this.fetchPage(url, signal, position, position === 0 ? tellTotal : undefined)) {
            if ('next' in item) {
              next = item.next;
              continue;
            }
            for (const value of item.values) {
              // Values already received (a JSON page, the rest of a chunk) must not outlive an abort either.
              if (signal?.aborted) throw abortError(url, signal);
              // A bad record rejects once the records before it have been yielded.
              const record = item.toRecord(value, position);
              if (record instanceof RecordValidationError) throw record;
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
   * One response's values, in batches (`Values`: one per piece of an NDJSON
   * body, one for a JSON body), then `{ next }` when the page links to a
   * next one.
   */
  private async *fetchPage(
    url: URL,
    signal: AbortSignal | undefined,
    firstPosition: number,
    onTotal: ((total: number) => void) | undefined,
  ): AsyncGenerator<Values<R> | { next: URL }> {
    if (signal?.aborted) throw abortError(url, signal);
    const attempt = new Attempt(signal, this.transport.deadlineMs);
    let reader: BodyReader | undefined;
    try {
      const response = await sendRequest(this.transport, url, this.accept, attempt, signal);
      const total = response.ok ? parseTotalCount(response.headers.get(TOTAL_COUNT_HEADER)) : null;
      if (total !== null) onTotal?.(total);
      if (response.status === 204 || !response.body) return;
      reader = bodyReader(response.body);
      const read = chunkReader(this.transport, reader, url, attempt, signal, response.status);
      const type = response.headers.get('Content-Type') ?? '';
      if (NDJSON_TYPE.test(type)) {
        const endPromised = response.headers.get(END_LINE_HEADER)?.trim() === END_LINE_KEY;
        yield* this.ndjsonRecords(read, url, firstPosition, endPromised, response.status);
      } else if (JSON_TYPE.test(type)) {
        const body = this.parseJson(await this.readText(read), firstPosition, url);
        const page = this.page(body, url);
        yield { values: page.records, toRecord: (value, at) => this.tryRecord(value, at, url) };
        if (page.next !== null) yield { next: page.next };
      } else {
        throw new DbAccessError(
          `GET ${url.href} answered with Content-Type '${type}'; expected application/x-ndjson or application/json.`,
          {
            status: response.status,
            url: url.href,
          },
        );
      }
    } finally {
      attempt.dispose();
      // Cancelling tells the server to stop (the connection closes); after a complete read it does nothing.
      reader?.cancel().catch(() => {});
    }
  }

  /** The lines of an NDJSON body, batch by batch; when `endPromised`, the body must end with the end line, counting them. */
  private async *ndjsonRecords(
    read: () => Promise<ReadableStreamReadResult<Uint8Array>>,
    url: URL,
    firstPosition: number,
    endPromised: boolean,
    status: number,
  ): AsyncGenerator<Values<R>> {
    let position = firstPosition;
    const toRecord = (line: unknown, at: number) => this.tryLine(line as string, at, url);
    let endCount: number | null = null;
    const lineTooLong = (bytes: number) =>
      new RestProtocolError(
        `GET ${url.href}: an NDJSON line is longer than maxLineBytes (${this.transport.maxLineBytes} bytes; ${bytes} seen).`,
        {
          violation: 'line-too-long',
          status,
          url: url.href,
        },
      );
    for await (let lines of ndjsonLines(read, { maxLineBytes: this.transport.maxLineBytes, lineTooLong })) {
      if (endPromised) {
        if (endCount !== null) throw this.truncated(url, status, 'lines follow the end line');
        const last = lines.length - 1;
        for (let index = 0; index <= last; index++) {
          const count = endLineCount(lines[index] as string);
          if (count === null) continue;
          if (index !== last) throw this.truncated(url, status, 'lines follow the end line');
          endCount = count;
          lines = lines.slice(0, last);
        }
      }
      position += lines.length;
      yield { values: lines, toRecord };
    }
    if (!endPromised) return;
    if (endCount === null) {
      // Nothing of this response is lost when nothing was yielded yet: retrying is as safe as after a broken connection.
      throw new RetryableFailure(this.truncated(url, status, `the body ended without the end line it announced (${END_LINE_HEADER})`));
    }
    if (endCount !== position - firstPosition) {
      throw this.truncated(url, status, `the end line counts ${endCount} records, but ${position - firstPosition} arrived`);
    }
  }

  private truncated(url: URL, status: number, what: string): RestProtocolError {
    return new RestProtocolError(`GET ${url.href}: incomplete response: ${what}.`, { violation: 'truncated', status, url: url.href });
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
        let nextUrl: URL;
        try {
          nextUrl = new URL(next, this.baseUrl);
        } catch (cause) {
          throw new DbAccessError(`GET ${url.href}: 'next' is not a URL: ${next}`, { url: url.href, cause });
        }
        assertSameOrigin(this.transport, nextUrl, url, "the page's next link to");
        return { records, next: nextUrl };
      }
    }
    throw new DbAccessError(`GET ${url.href}: expected a JSON array or { records: [...], next: string | null }.`, { url: url.href });
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

  private sleep(ms: number, signal: AbortSignal | undefined, url: URL): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(url, signal));
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError(url, signal as AbortSignal));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
