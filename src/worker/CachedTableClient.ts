import { releaseProxy, type Remote } from 'comlink';
import { abortable } from '../core/abortable';
import type {
  AdjustOptions,
  CachedTableStats,
  InvalidateKeysOptions,
  InvalidateOptions,
  RecordsRead,
  RefreshOptions,
  ResumeOptions,
} from '../core/CachedTableOptions';
import type { ChangeFeedStatus } from '../core/changeFeed';
import { StatusListeners } from '../core/StatusListeners';
import type { PrimaryKey } from '../core/keys';
import { TableCacheError } from '../core/errors';
import type { IndexSpec } from '../core/types';
import { checkBatchSize } from './batchSize';
import { BatchIterator, OpenOnFirstNext } from '../core/asyncIterators';
import type { ConnectionWatch, StartConnectionWatch } from './connectionWatch';
import { deserializeError } from './errorTransfer';
import type { CallOptions, OpenedRead, RecordBatch, TableSessionApi, UpdateMessage } from './protocol';

export type {
  GetRecordsOptions,
  SubscribeOptions,
  SubscriptionFailure,
  SubscriptionListener,
  SubscriptionRecords,
  SubscriptionUpdate,
} from './clientOptions';
import type { GetRecordsOptions, SubscribeOptions, SubscriptionListener, SubscriptionUpdate } from './clientOptions';
import { asError, asSpecError, progressProxy, readRequest } from './clientCalls';

/** Batches a client read keeps requested ahead of the one it hands out. */
const BATCHES_AHEAD = 2;

/**
 * A `CachedTable` in a worker, seen from the UI thread: the table's methods,
 * all async, plus live subscriptions. Made by `connectCachedTable`.
 *
 * Every method rejects with the error the table threw, as the same class
 * with its fields (`instanceof DbAccessError`, `error.status`, …); with an
 * `InvalidSpecError` naming the field when the worker's Indexes reject a
 * spec; with a `TableCacheError` once the client is closed; and with a
 * `WorkerConnectionError` when the worker cannot serve the connection (see
 * `connectCachedTable`).
 */
export class CachedTableClient<R, S extends IndexSpec = IndexSpec> {
  private readonly session: Remote<TableSessionApi<R>>;
  private readonly updatesPort: MessagePort;
  private readonly batchSize: number;
  private readonly listeners = new Map<number, SubscriptionListener<R>>();
  private readonly feedStatus = new StatusListeners<ChangeFeedStatus | 'none'>('none');
  /** Chunks of results still arriving, per subscription. */
  private readonly partialResults = new Map<number, R[][]>();
  private nextSubscriptionId = 1;
  /** Names the next cancellable call. */
  private nextOperationId = 1;
  private closed = false;
  /** Why the worker closed the connection, when it said. */
  private closedReason: Error | null = null;
  private closing: Promise<void> | null = null;
  /** Watches the worker until it answers the connect request (see `connectionWatch`). */
  private readonly connection: ConnectionWatch | undefined;
  /** Resolves if the connection fails: a `close()` then has nobody to wait for. */
  private readonly connectionFailed: Promise<void>;
  /**
   * How to reject each call still pending, for when the client closes. Each
   * entry goes once its call settles: a promise that never settles (as a
   * race against a "closed" promise) would keep every call's result, records
   * included, reachable until the client closes.
   */
  private readonly pendingCalls = new Set<(error: Error) => void>();

  /**
   * Use `connectCachedTable`, which opens the connection this wraps.
   * @param watchConnection fails the client (every call rejects) when the worker cannot serve it.
   */
  constructor(session: Remote<TableSessionApi<R>>, updatesPort: MessagePort, batchSize: number, watchConnection?: StartConnectionWatch) {
    this.session = session;
    this.updatesPort = updatesPort;
    this.batchSize = checkBatchSize(batchSize);
    let connectionFailed!: () => void;
    this.connectionFailed = new Promise<void>((resolve) => (connectionFailed = resolve));
    this.connection = watchConnection?.((error) => {
      connectionFailed();
      this.closedByWorker(error);
    });
    updatesPort.addEventListener('message', (event) => this.onUpdate(event.data as UpdateMessage));
    updatesPort.start();
  }

  /**
   * Calls `listener` at once with the status of the change feed the table
   * follows in the worker (`CachedTable.followChanges`; in a shared table,
   * the owner's), then on each change: `'live'`, `'catching-up'`,
   * `'offline'`, or `'none'` (it follows none, or the worker has not said
   * yet). Returns a function that stops the calls.
   */
  onChangeFeedStatus(listener: (status: ChangeFeedStatus | 'none') => void): () => void {
    return this.feedStatus.listen(listener);
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Clears storage and loads the records of `spec`; see `CachedTable.load`.
   * Resolves when loaded.
   * @param options `onProgress` is called in this thread as records load (every 1,000, when the backend tells
   * the `total`, and at the end), never after the returned promise settles; `signal` cancels the load.
   * @throws {TableCacheError} when the table is loaded or loading already.
   */
  load(spec: S, options: AdjustOptions = {}): Promise<void> {
    const progress = progressProxy(options);
    return this.cancellable(options.signal, (session, call) => session.load(spec, progress.callback, call), 'load').finally(progress.end);
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
   * @param options `onProgress` is called in this thread as records load and expire, with the `total` to load
   * when the backend tells it, never after the returned promise settles; `signal` cancels the adjust (the table
   * stays as it was).
   */
  adjust(spec: S, options: AdjustOptions = {}): Promise<void> {
    const progress = progressProxy(options);
    return this.cancellable(options.signal, (session, call) => session.adjust(spec, progress.callback, call), 'adjust').finally(
      progress.end,
    );
  }

  /**
   * The records of `spec`, streamed from the worker in batches of at most
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
    return new OpenOnFirstNext(async () => (await this.readRecords(spec, { ...options, batchSize })).records[Symbol.asyncIterator]());
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
    const opened = await this.cancellable(
      options.signal,
      (session, call) => session.openRead(spec, batchSize, readRequest(options, call)),
      'readRecords',
    );
    const counts = opened.counts ? { ...opened.counts } : undefined;
    const { from, refreshed, stale, incomplete } = opened;
    return { from, refreshed, stale, incomplete, ...(counts ? { counts } : {}), records: this.batches(opened, counts, options.signal) };
  }

  /** The records of an opened read: its first batch, then the next ones, `BATCHES_AHEAD` requests ahead. */
  private batches(
    opened: OpenedRead<R>,
    counts: { storage: number; db: number } | undefined,
    signal: AbortSignal | undefined,
  ): AsyncIterableIterator<R, undefined> {
    const readId = opened.readId;
    let open = readId !== undefined;
    const close = async () => {
      if (!open || this.closed) return;
      open = false;
      await this.call((session) => session.closeRead(readId as number));
    };
    const pull = () => {
      const batch = this.call((session) => session.nextBatch(readId as number));
      // Observed where awaited; if the loop ends first, the read is closed and this batch is not wanted.
      batch.catch(() => {});
      return batch;
    };
    // Batches requested ahead: the worker reads and posts the next while this thread takes in the last (measured:
    // with one request in flight, each batch waited for the round trip and the worker's share, ~1.5 ms per 500).
    const ahead: Promise<RecordBatch<R>>[] = [];
    return new BatchIterator(opened.records, !open, {
      start: () => {
        if (open) for (let i = 0; i < BATCHES_AHEAD; i++) ahead.push(pull());
      },
      next: async () => {
        let batch: RecordBatch<R>;
        try {
          batch = await abortable(ahead.shift() as Promise<RecordBatch<R>>, signal);
        } catch (error) {
          // The worker releases a read that failed; an aborted one is closed here.
          if (signal?.aborted) await close();
          else open = false;
          throw error;
        }
        if (counts && batch.counts) Object.assign(counts, batch.counts);
        // Requests still ahead of the last batch find the read ended; they reject unobserved.
        if (batch.done) open = false;
        else if (open) ahead.push(pull());
        return batch;
      },
      close,
    });
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

  /**
   * Refetches the records with these primary keys and places each where its
   * new scores say; see `CachedTable.invalidateKeys`. Resolves once
   * refreshed (or, with `forceRefreshOnNextRead: false`, once marked).
   * @throws {InvalidSpecError} when `keys` is not an array of valid primary keys.
   * @throws {UnsupportedOperationError} when the worker's storage or Indexes cannot fetch by keys.
   */
  invalidateKeys(keys: readonly PrimaryKey[], options: InvalidateKeysOptions = {}): Promise<void> {
    const { forceRefreshOnNextRead } = options;
    return this.cancellable(
      options.signal,
      (session, call) => session.invalidateKeys(keys, forceRefreshOnNextRead === undefined ? undefined : { forceRefreshOnNextRead }, call),
      'invalidateKeys',
    );
  }

  /**
   * Refreshes every invalidated record; see `CachedTable.refreshInvalid`. Resolves when done.
   * @param options `signal` cancels the worker-side refresh (storage and marks stay as they were) and rejects with its reason.
   */
  refreshInvalid(options: RefreshOptions = {}): Promise<void> {
    return this.cancellable(options.signal, (session, call) => session.refreshInvalid(call));
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
   * @param options `staleWhileRevalidate` for each of its reads.
   * @returns a function that ends the subscription (idempotent).
   * @throws {TableCacheError} when the client is closed.
   */
  subscribe(spec: S, listener: SubscriptionListener<R>, options: SubscribeOptions = {}): () => void {
    if (this.closed) throw this.closedError();
    const subscriptionId = this.nextSubscriptionId++;
    this.listeners.set(subscriptionId, listener);
    this.call((session) => session.subscribe(subscriptionId, spec, this.batchSize, readRequest(options)), 'subscribe').catch(
      (error: unknown) => this.deliver(subscriptionId, { error: asError(error) }),
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
        await Promise.race([this.session.close(), this.connectionFailed]);
      } finally {
        this.connection?.stop();
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
    this.connection?.stop();
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

  /**
   * `call`, cancellable by `signal`: the call is named, and an abort asks the
   * worker to cancel it, while the returned promise rejects at once with
   * `signal.reason` (whatever the worker answers later is ignored).
   */
  private cancellable<T>(
    signal: AbortSignal | undefined,
    invoke: (session: Remote<TableSessionApi<R>>, call: CallOptions | undefined) => Promise<T>,
    specMethod?: string,
  ): Promise<T> {
    if (!signal) return this.call((session) => invoke(session, undefined), specMethod);
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const operationId = this.nextOperationId++;
    const pending = this.call((session) => invoke(session, { operationId }), specMethod);
    const onAbort = () => {
      if (!this.closed)
        this.session.cancel(operationId).catch(() => {
          // Only a closed connection rejects, and closing ends the call anyway.
        });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return abortable(
      pending.finally(() => signal.removeEventListener('abort', onAbort)),
      signal,
    );
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
    if (message.type === 'connected') {
      this.connection?.connected();
      return;
    }
    if (message.type === 'closed') {
      this.closedByWorker(message.error ? asError(deserializeError(message.error)) : undefined);
      return;
    }
    if (message.type === 'changeFeedStatus') {
      this.feedStatus.set(message.status);
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
