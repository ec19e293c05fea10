import { z } from 'zod';
import { DbAccessError, InvalidSpecError } from '../core/errors';
import type { ChangeFeedEvent, ChangeFeedStatus, ChangeOp, ChangeSource } from '../core/changeFeed';
import { bodyReader, type BodyReader } from './bodyReader';
import { parseChangeFeedLine } from './changeFeedLine';
import { ndjsonLines } from './ndjsonLines';
import { RestProtocolError } from './RestProtocolError';
import { Attempt, chunkReader, RetryableFailure, sendRequest } from './restRequest';
import { restTransport, type RestTransport, type RestTransportOptions } from './restTransport';
import { restUrl } from './restUrl';
import { durationOption, retryDelay, retryPolicy, type RetryOptions, type RetryPolicy } from './retryDelay';

export type { ChangeFeedEvent, ChangeFeedStatus, ChangeOp } from '../core/changeFeed';

/** Options of {@link RestChangeFeed}: the transport's (same origin, headers, line limit; the body's silence limit is `heartbeatMs × missedHeartbeats` and there is no deadline) and the feed's own. */
export interface RestChangeFeedOptions<K> extends Omit<RestTransportOptions, 'deadlineMs' | 'timeoutMs'> {
  /** The feed's path below the base URL. Default `'changes'`. */
  path?: string | undefined;
  /** Start after this cursor (one the feed gave before); `null` or absent: from now. */
  after?: string | null | undefined;
  /** Checks (and may transform) each change's key. Default: a number or a string. */
  keySchema?: z.ZodType<K> | undefined;
  /**
   * How long changes are gathered into one batch after the first of them
   * arrives, in ms, before an idle consumer gets it. Default 0: at once (the
   * changes read together from the network still come as one batch).
   * Whatever the window, batches that gather while the consumer handles one
   * are joined (up to `maxBatchKeys`) when it asks for the next.
   */
  batchWindowMs?: number | undefined;
  /** The most keys in one batch; a batch that reaches it is yielded at once. Default 500. */
  maxBatchKeys?: number | undefined;
  /** The server's heartbeat interval, in ms. Default 15 000 (the reference backend's). */
  heartbeatMs?: number | undefined;
  /** Heartbeats missed in a row after which the connection is taken for dead and made again. Default 3. */
  missedHeartbeats?: number | undefined;
  /** Waits between reconnections: exponential backoff from `baseDelayMs` up to `maxDelayMs` (`attempts` is ignored: the feed retries until closed). */
  retry?: RetryOptions | undefined;
}

const defaultKeySchema = z.union([z.number(), z.string()]);

/**
 * Follows a backend's change feed (`GET baseUrl/changes?after=CURSOR`,
 * docs/rest-protocol.md#the-change-feed-protocol) and yields what changed, coalesced into
 * batches, for a cache to refetch exactly those records.
 *
 * Iterate it once (`for await (const event of feed)`); while the consumer
 * handles a batch, the next one gathers. It reconnects by itself with
 * backoff after a failure or a silence of `missedHeartbeats` heartbeats,
 * resuming from the last cursor it yielded; waits while `navigator.onLine`
 * is false; and ends when `close()` is called or `signal` aborts. The
 * iteration rejects only on failures that retrying cannot mend: a 4xx other
 * than 400 and 429 (e.g. no such endpoint), a `RestProtocolError` (another
 * origin, a line over `maxLineBytes`), or a line that is not of the protocol. A
 * 400 (a cursor the backend does not accept) is taken as a reset.
 *
 * Requests follow `RestDbAccess`'s rules: the base URL's origin only, the
 * `headers` option, `maxLineBytes`.
 */
export class RestChangeFeed<K = number | string> implements ChangeSource<K> {
  private readonly transport: RestTransport;
  private readonly path: string;
  private readonly keySchema: z.ZodType<K>;
  private readonly batchWindowMs: number;
  private readonly maxBatchKeys: number;
  private readonly retry: RetryPolicy;
  private readonly stop = new AbortController();
  private readonly listeners = new Set<(status: ChangeFeedStatus) => void>();
  private currentStatus: ChangeFeedStatus = 'catching-up';
  private position: string | null;
  private iterating = false;

  /** @throws {InvalidSpecError} for a bad base URL, a NaN/negative/infinite number option, or an `after` that is not a cursor. */
  constructor(options: RestChangeFeedOptions<K>) {
    const heartbeatMs = durationOption(options.heartbeatMs, 15_000, ['heartbeatMs']);
    const missed = options.missedHeartbeats ?? 3;
    if (!Number.isInteger(missed) || missed < 1) {
      throw new InvalidSpecError(`missedHeartbeats must be a positive integer, not ${String(missed)}.`, { path: ['missedHeartbeats'] });
    }
    // A quiet feed is normal; a feed quiet for several heartbeats is a dead connection.
    this.transport = { ...restTransport(options), timeoutMs: heartbeatMs * missed, deadlineMs: 0 };
    this.path = options.path ?? 'changes';
    this.keySchema = options.keySchema ?? (defaultKeySchema as unknown as z.ZodType<K>);
    this.batchWindowMs = durationOption(options.batchWindowMs, 0, ['batchWindowMs']);
    this.maxBatchKeys = options.maxBatchKeys ?? 500;
    if (!Number.isInteger(this.maxBatchKeys) || this.maxBatchKeys < 1) {
      throw new InvalidSpecError(`maxBatchKeys must be a positive integer, not ${String(options.maxBatchKeys)}.`, {
        path: ['maxBatchKeys'],
      });
    }
    this.retry = retryPolicy({ ...options.retry, attempts: 1 });
    if (options.after != null && !/^\d{1,20}$/.test(options.after)) {
      throw new InvalidSpecError(`after must be a cursor the feed gave (a string of digits), not '${options.after}'.`, { path: ['after'] });
    }
    this.position = options.after ?? null;
  }

  /** The feed's status now; see {@link ChangeFeedStatus}. */
  get status(): ChangeFeedStatus {
    return this.currentStatus;
  }

  /** The last cursor yielded (or learnt from the server when starting from now); `null` before the first. */
  get cursor(): string | null {
    return this.position;
  }

  /** Calls `listener` with each new status; returns a function that removes it. */
  onStatus(listener: (status: ChangeFeedStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops following: the connection closes and the iteration ends (after the batch being handled). */
  close(): void {
    this.stop.abort(new DOMException('The change feed was closed.', 'AbortError'));
  }

  /**
   * The events, in order.
   *
   * @throws {TableCacheError} when iterated twice.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<ChangeFeedEvent<K>> {
    if (this.iterating) throw new InvalidSpecError('A RestChangeFeed can be iterated once.');
    this.iterating = true;
    const queue: ChangeFeedEvent<K>[] = [];
    let failure: unknown = null;
    let finished = false;
    let wake: (() => void) | null = null;
    const notify = () => {
      wake?.();
      wake = null;
    };
    const run = this.run((event) => {
      queue.push(event);
      notify();
    })
      .then(
        () => void (finished = true),
        (error: unknown) => void ((failure = error), (finished = true)),
      )
      .finally(notify);
    try {
      for (;;) {
        const event = queue.shift();
        if (event) {
          yield this.coalesce(event, queue);
          continue;
        }
        if (finished) {
          if (failure) throw failure;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      this.close();
      await run;
    }
  }

  /**
   * Joins to `event` the change batches queued right behind it (those that
   * gathered while the consumer was busy), up to `maxBatchKeys` keys: a busy
   * consumer refetches them together, while an idle one gets each batch at once.
   */
  private coalesce(event: ChangeFeedEvent<K>, queue: ChangeFeedEvent<K>[]): ChangeFeedEvent<K> {
    if (event.type !== 'changes') return event;
    let next = queue[0];
    if (next?.type !== 'changes') return event;
    let keys = new Map<K, ChangeOp>(event.changes.map(({ key, op }) => [key, op]));
    let cursor = event.cursor;
    while (next?.type === 'changes') {
      const merged = new Map(keys);
      for (const { key, op } of next.changes) {
        // As within a batch: a key changed again counts once, with its last op.
        merged.delete(key);
        merged.set(key, op);
      }
      if (merged.size > this.maxBatchKeys) break;
      queue.shift();
      keys = merged;
      cursor = next.cursor;
      next = queue[0];
    }
    return { type: 'changes', cursor, changes: [...keys].map(([key, op]) => ({ key, op })) };
  }

  private setStatus(status: ChangeFeedStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    for (const listener of this.listeners) listener(status);
  }

  /** Connects, reads and reconnects until closed; `emit` receives the coalesced events. */
  private async run(emit: (event: ChangeFeedEvent<K>) => void): Promise<void> {
    const pending = new Map<K, ChangeOp>();
    let pendingCursor = '';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      if (pending.size === 0) return;
      this.position = pendingCursor;
      emit({ type: 'changes', cursor: pendingCursor, changes: [...pending].map(([key, op]) => ({ key, op })) });
      pending.clear();
    };
    let failures = 0;
    let resetPending = false;
    try {
      while (!this.stop.signal.aborted) {
        if (globalThis.navigator?.onLine === false && this.transport.trustNavigatorOnLine) {
          this.setStatus('offline');
          await this.waitOnline();
          continue;
        }
        if (this.currentStatus !== 'offline') this.setStatus('catching-up');
        let retryAfterMs: number | null = null;
        try {
          await this.connect((line) => {
            failures = 0;
            if (line.kind === 'change') {
              // A key changed twice in one batch is refetched once; its last op is what holds.
              pending.delete(line.key);
              pending.set(line.key, line.op);
              pendingCursor = line.cursor;
              if (pending.size >= this.maxBatchKeys) flush();
              else timer ??= setTimeout(flush, this.batchWindowMs);
              return;
            }
            flush();
            if (line.kind === 'reset') {
              this.position = line.cursor;
              emit({ type: 'reset', cursor: line.cursor });
            } else if (this.position === null || line.kind === 'live') {
              this.position = line.cursor;
              if (resetPending) emit({ type: 'reset', cursor: line.cursor });
              resetPending = false;
            }
            if (line.kind === 'live' || (line.kind === 'heartbeat' && this.currentStatus !== 'live')) this.setStatus('live');
          });
        } catch (error) {
          if (this.stop.signal.aborted) return;
          flush();
          let offline = false;
          if (error instanceof RetryableFailure) {
            retryAfterMs = error.retryAfterMs;
            offline = error.error.offline;
          } else if (error instanceof DbAccessError && !(error instanceof RestProtocolError) && (error.offline || error.timedOut)) {
            offline = error.offline;
          } else if (error instanceof DbAccessError && error.status === 400) {
            // The backend does not take this cursor (another database, or one restored from a backup): start afresh from now,
            // and tell the consumer once the new cursor is known.
            this.position = null;
            resetPending = true;
          } else {
            throw error;
          }
          this.setStatus(offline ? 'offline' : 'catching-up');
        }
        if (this.stop.signal.aborted) return;
        failures++;
        const delay = retryDelay(this.retry, failures, retryAfterMs) ?? this.retry.maxDelayMs;
        await this.sleep(delay);
      }
    } finally {
      flush();
    }
  }

  /** One connection: reads lines until it ends or fails (the end of an endless feed is a failure too). */
  private async connect(onLine: (line: Exclude<ReturnType<typeof parseChangeFeedLine<K>>, string>) => void): Promise<void> {
    const url = restUrl(this.transport.baseUrl, this.path, this.position === null ? {} : { after: this.position });
    const attempt = new Attempt(this.stop.signal, 0);
    let reader: BodyReader | undefined;
    try {
      const response = await sendRequest(this.transport, url, 'application/x-ndjson', attempt, this.stop.signal);
      if (!response.body)
        throw new RetryableFailure(
          new DbAccessError(`GET ${url.href} answered without a body.`, { status: response.status, url: url.href }),
        );
      reader = bodyReader(response.body);
      const read = chunkReader(this.transport, reader, url, attempt, this.stop.signal, response.status);
      const lineTooLong = (bytes: number) =>
        new RestProtocolError(
          `GET ${url.href}: a change feed line is longer than maxLineBytes (${this.transport.maxLineBytes}; ${bytes} seen).`,
          {
            violation: 'line-too-long',
            url: url.href,
          },
        );
      for await (const lines of ndjsonLines(read, { maxLineBytes: this.transport.maxLineBytes, lineTooLong })) {
        for (const text of lines) {
          const line = parseChangeFeedLine(text, this.keySchema);
          if (typeof line === 'string') {
            throw new DbAccessError(`GET ${url.href}: a line is ${line}: ${text.slice(0, 200)}`, {
              status: response.status,
              url: url.href,
            });
          }
          onLine(line);
        }
      }
      throw new RetryableFailure(new DbAccessError(`GET ${url.href}: the change feed ended.`, { status: response.status, url: url.href }));
    } finally {
      attempt.dispose();
      reader?.cancel().catch(() => {});
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stop.signal.removeEventListener('abort', done);
        globalThis.removeEventListener?.('online', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stop.signal.addEventListener('abort', done, { once: true });
      // Coming back online is worth a try at once.
      globalThis.addEventListener?.('online', done);
    });
  }

  /** Waits for the browser's `online` event (checking again now and then, in case it is missed), or `close()`. */
  private waitOnline(): Promise<void> {
    return this.sleep(this.retry.maxDelayMs);
  }
}
