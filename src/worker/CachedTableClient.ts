import { proxy, releaseProxy, type Remote } from 'comlink';
import type { AdjustOptions, CachedTableStats, InvalidateOptions, RecordsRead, ResumeOptions } from '../core/CachedTable';
import { InvalidSpecError, TableCacheError } from '../core/errors';
import type { IndexSpec } from '../core/types';
import { checkBatchSize } from './batchSize';
import { deserializeError } from './errorTransfer';
import type { OpenedRead, ProgressCallback, ReadCounts, ReadInfo, RecordBatch, TableSessionApi, UpdateMessage } from './protocol';

/**
 * A subscription's new result: every record of the spec, and how they were
 * read (`from`, `refreshed`, `stale`, and `counts` for a partial hit).
 */
export interface SubscriptionRecords<R> extends ReadInfo {
  /** All records of the spec, in no defined order. */
  readonly records: R[];
  readonly error?: undefined;
}

/** A subscription's re-read failed; the next change that can alter the result reads again. */
export interface SubscriptionFailure {
  /** The read's error, as its own class (e.g. a `DbAccessError` with `offline` set). */
  readonly error: Error;
  readonly records?: undefined;
  readonly from?: undefined;
}

/** What a subscription listener receives: check `error` first. */
export type SubscriptionUpdate<R> = SubscriptionRecords<R> | SubscriptionFailure;

/** Receives a subscription's results; see {@link CachedTableClient.subscribe}. */
export type SubscriptionListener<R> = (update: SubscriptionUpdate<R>) => void;

/** Batches a client read keeps requested ahead of the one it hands out. */
const BATCHES_AHEAD = 2;

/** Options of {@link CachedTableClient.getRecords}. */
export interface GetRecordsOptions {
  /** Records per message from the worker. Default: the client's `batchSize`. */
  batchSize?: number;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new TableCacheError(`The worker threw a non-error value: ${String(value)}.`, { cause: value });
}

/** `options.onProgress` as a Comlink proxy the worker can call back, or `undefined`. */
function progressProxy(options: AdjustOptions): ProgressCallback | undefined {
  const { onProgress } = options;
  return onProgress ? proxy((progress: Parameters<ProgressCallback>[0]) => onProgress(progress)) : undefined;
}

/** A spec that `postMessage` cannot clone (a function, a class instance with private state…) is the caller's bad spec. */
function asSpecError(error: unknown, method: string): unknown {
  if (typeof DOMException !== 'undefined' && error instanceof DOMException && error.name === 'DataCloneError') {
    return new InvalidSpecError(`${method}: the spec cannot be sent to the worker (it must be plain data): ${error.message}`, {
      cause: error,
    });
  }
  return error;
}

/**
 * A `CachedTable` in a worker, seen from the UI thread: the table's methods,
 * all async, plus live subscriptions. Made by `connectCachedTable`.
 *
 * Every method rejects with the error the table threw, as the same class
 * with its fields (`instanceof DbAccessError`, `error.status`, …); with an
 * `InvalidSpecError` naming the field when the worker's Indexes reject a
 * spec; and with a `TableCacheError` once the client is closed.
 */
export class CachedTableClient<R, S extends IndexSpec = IndexSpec> {
  private readonly session: Remote<TableSessionApi<R>>;
  private readonly updatesPort: MessagePort;
  private readonly batchSize: number;
  private readonly listeners = new Map<number, SubscriptionListener<R>>();
  /** Chunks of results still arriving, per subscription. */
  private readonly partialResults = new Map<number, R[][]>();
  private nextSubscriptionId = 1;
  private closed = false;
  /** Why the worker closed the connection, when it said. */
  private closedReason: Error | null = null;
  private closing: Promise<void> | null = null;
  /**
   * How to reject each call still pending, for when the client closes. Each
   * entry goes once its call settles: a promise that never settles (as a
   * race against a "closed" promise) would keep every call's result, records
   * included, reachable until the client closes.
   */
  private readonly pendingCalls = new Set<(error: Error) => void>();

  /** Use `connectCachedTable`, which opens the connection this wraps. */
  constructor(session: Remote<TableSessionApi<R>>, updatesPort: MessagePort, batchSize: number) {
    this.session = session;
    this.updatesPort = updatesPort;
    this.batchSize = checkBatchSize(batchSize);
    updatesPort.addEventListener('message', (event) => this.onUpdate(event.data as UpdateMessage));
    updatesPort.start();
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Clears storage and loads the records of `spec`; see `CachedTable.load`.
   * Resolves when loaded.
   * @param options `onProgress` is called in this thread as records load (every 1,000 and at the end).
   * @throws {TableCacheError} when the table is loaded or loading already.
   */
  load(spec: S, options: AdjustOptions = {}): Promise<void> {
    return this.call((session) => session.load(spec, progressProxy(options)), 'load');
  }

  /**
   * Becomes loaded from what the worker's storage already holds, serving
   * its records as stale until refreshed; see `CachedTable.resume`.
   * @throws {TableCacheError} when there is nothing to resume: call `load()`.
   */
  resume(options: ResumeOptions = {}): Promise<void> {
    return this.call((session) => session.resume(options));
  }

  /** Resolves once the table's first load (or resume) has completed; rejects only when the client is closed. */
  loaded(): Promise<void> {
    return this.call((session) => session.loaded());
  }

  /**
   * Changes the cached records to exactly those of `spec`; see `CachedTable.adjust`. Resolves when visible.
   * @param options `onProgress` is called in this thread as records load and expire.
   */
  adjust(spec: S, options: AdjustOptions = {}): Promise<void> {
    return this.call((session) => session.adjust(spec, progressProxy(options)), 'adjust');
  }

  /**
   * The records of `spec`, streamed from the worker in batches of
   * `batchSize` records (one message each, the next batch requested while
   * this one is consumed). Leaving the loop early (`break`, `return`, a
   * thrown error) closes the worker-side read: the storage read, or the
   * backend fetch, is released before the loop statement completes.
   *
   * The iteration rejects as `CachedTable.getRecords`' does, and with an
   * `InvalidSpecError` for a bad spec.
   * @throws {TableCacheError} at once when `batchSize` is not a whole number of at least 1.
   */
  getRecords(spec: S, options: GetRecordsOptions = {}): AsyncIterable<R> {
    const batchSize = checkBatchSize(options.batchSize ?? this.batchSize);
    const read = () => this.readRecords(spec, { batchSize });
    return (async function* () {
      yield* (await read()).records;
    })();
  }

  /**
   * Like `getRecords`, but resolves once the worker has decided where the
   * records come from (and done any refresh that needed), with the first
   * batch at hand: `from`, `refreshed`, `stale`, and for a partial hit
   * `counts` (updated as batches arrive, complete at the end). Iterate
   * `records` at once, to its end or out of the loop: until then the worker
   * keeps the read open.
   *
   * Rejects as `CachedTable.readRecords` does, and with an `InvalidSpecError` for a bad spec.
   * @throws {TableCacheError} at once when `batchSize` is not a whole number of at least 1.
   */
  async readRecords(spec: S, options: GetRecordsOptions = {}): Promise<RecordsRead<R>> {
    const batchSize = checkBatchSize(options.batchSize ?? this.batchSize);
    const opened = await this.call((session) => session.openRead(spec, batchSize), 'readRecords');
    const counts = opened.counts ? { ...opened.counts } : undefined;
    const { from, refreshed, stale } = opened;
    return { from, refreshed, stale, ...(counts ? { counts } : {}), records: this.batches(opened, counts) };
  }

  /** The records of an opened read: its first batch, then the next ones, `BATCHES_AHEAD` requests ahead. */
  private async *batches(opened: OpenedRead<R>, counts: { storage: number; db: number } | undefined): AsyncGenerator<R, void, undefined> {
    const readId = opened.readId;
    if (readId === undefined) {
      yield* opened.records;
      return;
    }
    const updateCounts = (latest: ReadCounts | undefined) => {
      if (counts && latest) Object.assign(counts, latest);
    };
    let open = true;
    const pull = () => {
      const batch = this.call((session) => session.nextBatch(readId));
      // Observed where awaited; if the loop ends first, the read is closed and this batch is not wanted.
      batch.catch(() => {});
      return batch;
    };
    // Batches requested ahead: the worker reads and posts the next while this thread takes in the last (measured:
    // with one request in flight, each batch waited for the round trip and the worker's share, ~1.5 ms per 500).
    const ahead = Array.from({ length: BATCHES_AHEAD }, pull);
    try {
      let records = opened.records;
      for (;;) {
        for (const record of records) yield record;
        let batch: RecordBatch<R>;
        try {
          batch = await (ahead.shift() as Promise<RecordBatch<R>>);
        } catch (error) {
          // The worker releases a read that failed.
          open = false;
          throw error;
        }
        updateCounts(batch.counts);
        if (batch.done) {
          // Requests still ahead find the read ended; they reject unobserved.
          open = false;
          yield* batch.records;
          return;
        }
        records = batch.records;
        ahead.push(pull());
      }
    } finally {
      if (open && !this.closed) await this.call((session) => session.closeRead(readId));
    }
  }

  /**
   * The first record `getRecords(spec)` would yield.
   * @throws {RecordNotFoundError} when no record matches.
   */
  getFirstRecord(spec: S): Promise<R> {
    return this.call((session) => session.getFirstRecord(spec) as Promise<R>, 'getFirstRecord');
  }

  /**
   * Marks records as changed in the backend; see `CachedTable.invalidateRecords`.
   * Resolves once marked (no I/O happens).
   * @throws {InvalidSpecError} when a list is empty, names an index twice, holds a bad or uncovered spec.
   */
  invalidateRecords(oldSpecs: readonly S[], newSpecs: readonly S[], options?: InvalidateOptions): Promise<void> {
    return this.call((session) => session.invalidateRecords(oldSpecs, newSpecs, options), 'invalidateRecords');
  }

  /** Refreshes every invalidated record; see `CachedTable.refreshInvalid`. Resolves when done. */
  refreshInvalid(): Promise<void> {
    return this.call((session) => session.refreshInvalid());
  }

  /** The table's counters. */
  stats(): Promise<CachedTableStats> {
    return this.call((session) => session.stats());
  }

  /**
   * Live results: `listener` receives `{ records, from }` with every record
   * of `spec` as soon as they are read (after the table's first load), and
   * again after every load, adjust, refresh or invalidation that can change
   * them — one that touched records in the spec's score intervals, or
   * switched it between storage and the backend. An invalidation of covered
   * records refreshes them before the re-read. When a read fails (a bad
   * spec included), `listener` receives `{ error }` instead.
   *
   * A result larger than `batchSize` records crosses in several messages and
   * is delivered once complete. Results are delivered in order; a result
   * overtaken by a newer change is not delivered.
   *
   * @returns a function that ends the subscription (idempotent).
   * @throws {TableCacheError} when the client is closed.
   */
  subscribe(spec: S, listener: SubscriptionListener<R>): () => void {
    if (this.closed) throw this.closedError();
    const subscriptionId = this.nextSubscriptionId++;
    this.listeners.set(subscriptionId, listener);
    this.call((session) => session.subscribe(subscriptionId, spec, this.batchSize), 'subscribe').catch((error: unknown) =>
      this.deliver(subscriptionId, { error: asError(error) }),
    );
    return () => {
      if (!this.listeners.delete(subscriptionId)) return;
      this.partialResults.delete(subscriptionId);
      if (this.closed) return;
      this.call((session) => session.unsubscribe(subscriptionId)).catch(() => {
        // Unsubscribing cannot fail in the worker; only a closed connection rejects, and closing ends every subscription.
      });
    };
  }

  /**
   * Closes the connection: the worker ends this client's subscriptions and
   * closes its open reads, then the channel is released. Calls still pending
   * afterwards, and any later call, reject with a `TableCacheError`.
   * Idempotent. Rejects with the error a worker-side read threw while being
   * closed (the connection is closed anyway).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.listeners.clear();
      this.partialResults.clear();
      try {
        await this.session.close();
      } finally {
        this.rejectClosed(this.closedError());
        this.updatesPort.close();
        this.session[releaseProxy]();
      }
    })();
    return this.closing;
  }

  /**
   * The worker ended the connection: pending and later calls reject (with
   * `reason` when the worker gave one), subscriptions get a last `{ error }`.
   */
  private closedByWorker(reason?: Error): void {
    if (this.closing) return;
    const error = reason ?? new TableCacheError('The worker closed the connection to the table (it is no longer exposed).');
    const subscriptionIds = [...this.listeners.keys()];
    for (const subscriptionId of subscriptionIds) this.deliver(subscriptionId, { error });
    this.closing = Promise.resolve();
    this.closed = true;
    this.closedReason = reason ?? null;
    this.listeners.clear();
    this.partialResults.clear();
    this.rejectClosed(error);
    this.updatesPort.close();
    this.session[releaseProxy]();
  }

  private closedError(): Error {
    return this.closedReason ?? new TableCacheError('This CachedTableClient is closed.');
  }

  /** Calls the worker, unless closed; pending calls reject when the client closes. */
  private call<T>(invoke: (session: Remote<TableSessionApi<R>>) => Promise<T>, specMethod?: string): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise<T>((resolve, reject) => {
      const rejectOnClose = (error: Error) => reject(error);
      this.pendingCalls.add(rejectOnClose);
      const settled = () => this.pendingCalls.delete(rejectOnClose);
      let pending: Promise<T>;
      try {
        pending = invoke(this.session);
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (value) => {
          settled();
          resolve(value);
        },
        (error: unknown) => {
          settled();
          reject(specMethod ? asSpecError(error, specMethod) : error);
        },
      );
    });
  }

  /** Rejects every pending call with `error`. */
  private rejectClosed(error: Error): void {
    const pending = [...this.pendingCalls];
    this.pendingCalls.clear();
    for (const reject of pending) reject(error);
  }

  private onUpdate(message: UpdateMessage): void {
    if (message.type === 'closed') {
      this.closedByWorker(message.error ? asError(deserializeError(message.error)) : undefined);
      return;
    }
    const { subscriptionId } = message;
    if (!this.listeners.has(subscriptionId)) return;
    if (message.type === 'error') {
      this.partialResults.delete(subscriptionId);
      this.deliver(subscriptionId, { error: asError(deserializeError(message.error)) });
      return;
    }
    const parts = this.partialResults.get(subscriptionId) ?? [];
    parts.push(message.records as R[]);
    if (!message.info) {
      this.partialResults.set(subscriptionId, parts);
      return;
    }
    this.partialResults.delete(subscriptionId);
    this.deliver(subscriptionId, { ...message.info, records: parts.length === 1 ? (parts[0] as R[]) : (parts.flat() as R[]) });
  }

  private deliver(subscriptionId: number, update: SubscriptionUpdate<R>): void {
    const listener = this.listeners.get(subscriptionId);
    if (!listener) return;
    try {
      listener(update);
    } catch (error) {
      // A listener's bug must not stop other subscriptions; surface it on its own.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
