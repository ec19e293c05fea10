import { finalizer } from 'comlink';
import type { CachedTable } from '../core/CachedTable';
import type { AdjustOptions, InvalidateOptions, ResumeOptions, TableReadOptions } from '../core/CachedTableOptions';
import type { ChangeFeedStatus } from '../core/changeFeed';
import { InvalidSpecError, TableCacheError } from '../core/errors';
import type { IndexSpec } from '../core/types';
import { checkBatchSize, recordsPerMessage } from './batchSize';
import { serializeError } from './errorTransfer';
import { forwardProgress } from './forwardProgress';
import { parseIndexSpec, parseIndexSpecList } from './parseIndexSpec';
import type {
  OpenedRead,
  ProgressCallback,
  ReadCounts,
  RecordBatch,
  SubscriptionMessage,
  TableSessionApi,
  UpdateMessage,
} from './protocol';
import { Subscriptions } from './Subscriptions';

/**
 * Where a session posts its {@link UpdateMessage}s: the client's updates
 * `MessagePort`, or anything that forwards them to it (a relay to another tab).
 */
export interface UpdateSink {
  postMessage(message: UpdateMessage): void;
  /** Called once, when the session has closed. */
  close(): void;
}

/** A read opened by `openRead`, pulled batch by batch. */
interface OpenRead<R> {
  readonly iterator: AsyncIterator<R>;
  /** A partial hit's live counts of records by source. */
  readonly counts: ReadCounts | undefined;
  readonly batchSize: number;
  /** Batches and the close run one after another, never overlapping on the iterator. */
  queue: Promise<unknown>;
  /** The iterator has ended, failed, or been closed. */
  closed: boolean;
  /** The client closed the read: batches it asked for ahead of need stop pulling records. */
  closing: boolean;
  /** The iterator failed after some records of a batch: they are sent first, the error with the next batch. */
  failure: { readonly error: unknown } | null;
}

/**
 * The worker side of one connection: serves a {@link TableSessionApi} for a
 * table, parsing every spec first, and owns the connection's open reads and
 * subscriptions so that closing it releases them all.
 */
export class TableSession<R, PK, S extends IndexSpec, D> {
  private readonly reads = new Map<number, OpenRead<R>>();
  private nextReadId = 1;
  private closing: Promise<void> | null = null;
  private readonly subscriptions: Subscriptions<R, PK, S, D>;
  /** The cancellable calls running, by the client's `operationId`. */
  private readonly operations = new Map<number, AbortController>();
  /** Cancels that arrived before their call. */
  private readonly cancelledEarly = new Set<number>();
  private readonly stopFeedStatus: () => void;

  /**
   * @param updatesPort where subscription results are posted (a `MessagePort` or another {@link UpdateSink}); closed with the session.
   * @param onClosed called once the session has closed.
   */
  constructor(
    private readonly table: CachedTable<R, PK, S, D>,
    private readonly updatesPort: UpdateSink,
    private readonly onClosed: () => void = () => {},
  ) {
    this.subscriptions = new Subscriptions(table, (message: SubscriptionMessage) => updatesPort.postMessage(message));
    this.stopFeedStatus = table.onChangeFeedStatus((status) => updatesPort.postMessage({ type: 'changeFeedStatus', status }));
  }

  /**
   * The object to expose over Comlink: the protocol's methods only (nothing
   * else of the session is reachable), plus Comlink's finalizer, which
   * closes the session when the client's proxy is released.
   */
  api(): TableSessionApi<R> & { [finalizer]: () => void } {
    return {
      load: (spec, onProgress, call) =>
        this.run('load', (context) =>
          this.cancellable(call, context, (signal) =>
            withProgress(onProgress, (options) => this.table.load(this.parse(spec, context), { ...options, signal })),
          ),
        ),
      resume: (options) => this.run('resume', async (context) => this.table.resume(parseResumeOptions(options, context))),
      loaded: () => this.table.loaded(),
      adjust: (spec, onProgress, call) =>
        this.run('adjust', (context) =>
          this.cancellable(call, context, (signal) =>
            withProgress(onProgress, (options) => this.table.adjust(this.parse(spec, context), { ...options, signal })),
          ),
        ),
      openRead: (spec, batchSize, options) =>
        this.run('getRecords', (context) =>
          this.cancellable(options, context, (signal) =>
            this.openRead(this.parse(spec, context), batchSize, { ...parseReadOptions(options, context), signal }),
          ),
        ),
      nextBatch: (readId) => this.run('getRecords', () => this.nextBatch(readId)),
      closeRead: (readId) => this.closeRead(readId),
      getFirstRecord: (spec) => this.run('getFirstRecord', (context) => this.table.getFirstRecord(this.parse(spec, context))),
      invalidateRecords: (oldSpecs, newSpecs, options) =>
        this.run('invalidateRecords', async (context) => {
          const indexes = this.table.indexes;
          this.table.invalidateRecords(
            parseIndexSpecList(indexes, oldSpecs, context, 'oldSpecs'),
            parseIndexSpecList(indexes, newSpecs, context, 'newSpecs'),
            parseInvalidateOptions(options, context),
          );
        }),
      invalidateKeys: (keys, options, call) =>
        this.run('invalidateKeys', (context) =>
          this.cancellable(call, context, (signal) =>
            this.table.invalidateKeys(keys as readonly PK[], { ...parseInvalidateOptions(options, context), signal }),
          ),
        ),
      refreshInvalid: (call) =>
        this.run('refreshInvalid', (context) => this.cancellable(call, context, (signal) => this.table.refreshInvalid({ signal }))),
      cancel: (operationId) => this.cancel(operationId),
      stats: () => this.run('stats', async () => this.table.stats()),
      changeFeedStatus: () => this.run('changeFeedStatus', async () => this.changeFeedStatusNow()),
      subscribe: (subscriptionId, spec, batchSize, options) => this.subscribe(subscriptionId, spec, batchSize, options),
      unsubscribe: (subscriptionId) => this.subscriptions.remove(subscriptionId),
      close: () => this.close(),
      [finalizer]: () => {
        // Released without close() (the client was collected): nobody is left to tell if closing a read fails.
        this.close().catch(() => {});
      },
    };
  }

  /**
   * Closes the session: ends its subscriptions, closes its open reads and
   * the updates port. Idempotent. Rejects with the first error a read threw
   * while being closed (after closing all of them).
   *
   * @param tellClient whether to tell the client that the worker closed the
   * connection (when the client did not ask for it).
   */
  close(tellClient = false): Promise<void> {
    this.closing ??= (async () => {
      if (tellClient) this.updatesPort.postMessage({ type: 'closed' } satisfies UpdateMessage);
      this.stopFeedStatus();
      this.subscriptions.dispose();
      const reads = [...this.reads.values()];
      this.reads.clear();
      for (const read of reads) read.closing = true;
      const results = await Promise.allSettled(reads.map((read) => this.release(read)));
      this.updatesPort.close();
      this.onClosed();
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
    })();
    return this.closing;
  }

  private changeFeedStatusNow(): ChangeFeedStatus | 'none' {
    let now: ChangeFeedStatus | 'none' = 'none';
    this.table.onChangeFeedStatus((status) => (now = status))();
    return now;
  }

  private async run<T>(method: string, call: (context: string) => Promise<T>): Promise<T> {
    if (this.closing) throw new TableCacheError(`The connection to table '${this.table.name}' is closed.`);
    return call(`${method} on table '${this.table.name}'`);
  }

  /**
   * Runs a call the client may cancel: with a signal its `cancel` aborts,
   * when the client named the call (`operationId`). A cancel that overtook
   * its call (relayed ones may) aborts it as soon as it starts.
   */
  private async cancellable<T>(call: unknown, context: string, run: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    const operationId = parseOperationId(call, context);
    if (operationId === undefined) return run(undefined);
    const controller = new AbortController();
    if (this.cancelledEarly.delete(operationId)) controller.abort(cancelledReason(this.table.name));
    this.operations.set(operationId, controller);
    try {
      return await run(controller.signal);
    } finally {
      if (this.operations.get(operationId) === controller) this.operations.delete(operationId);
    }
  }

  private cancel(operationId: unknown): void {
    if (typeof operationId !== 'number') return;
    const controller = this.operations.get(operationId);
    if (controller) {
      controller.abort(cancelledReason(this.table.name));
      return;
    }
    // Remembered briefly, in case the call itself is still on its way; the oldest are forgotten first.
    this.cancelledEarly.add(operationId);
    if (this.cancelledEarly.size > MAX_EARLY_CANCELS) this.cancelledEarly.delete(this.cancelledEarly.values().next().value as number);
  }

  private parse(spec: unknown, context: string): S {
    return parseIndexSpec(this.table.indexes, spec, context);
  }

  private async openRead(spec: S, batchSize: number, options: TableReadOptions): Promise<OpenedRead<R>> {
    checkBatchSize(batchSize);
    // Records are only posted to the client, which copies them: storage need not copy them first.
    const read = await this.table.readRecords(spec, { ...options, shared: true });
    const open: OpenRead<R> = {
      iterator: read.records[Symbol.asyncIterator](),
      counts: read.counts,
      batchSize,
      queue: Promise.resolve(),
      closed: false,
      closing: false,
      failure: null,
    };
    if (this.closing) {
      await this.release(open);
      throw new TableCacheError(`The connection to table '${this.table.name}' is closed.`);
    }
    const readId = this.nextReadId++;
    this.reads.set(readId, open);
    const batch = await this.nextBatch(readId);
    const { from, refreshed, stale, incomplete } = read;
    return { from, refreshed, stale, incomplete, readId: batch.done ? undefined : readId, ...batch };
  }

  private nextBatch(readId: number): Promise<RecordBatch<R>> {
    const open = this.reads.get(readId);
    if (!open) throw new TableCacheError(`Table '${this.table.name}' has no open read ${readId}; it has ended or was closed.`);
    return this.enqueue(open, async () => {
      if (open.failure) {
        this.reads.delete(readId);
        throw open.failure.error;
      }
      const records: R[] = [];
      let limit = open.batchSize;
      try {
        while (records.length < limit && !open.closed && !open.closing) {
          const step = await open.iterator.next();
          if (step.done) open.closed = true;
          else {
            if (records.length === 0) limit = recordsPerMessage(open.batchSize, step.value);
            records.push(step.value);
          }
        }
      } catch (error) {
        open.closed = true;
        if (records.length > 0) {
          // As a local loop would: first the records read before the failure, then (as the next batch) the error.
          open.failure = { error };
          return { records, done: false, ...countsOf(open) };
        }
        this.reads.delete(readId);
        throw error;
      }
      if (open.closed) this.reads.delete(readId);
      return { records, done: open.closed, ...countsOf(open) };
    });
  }

  private async closeRead(readId: number): Promise<void> {
    const open = this.reads.get(readId);
    if (!open) return;
    this.reads.delete(readId);
    open.closing = true;
    await this.release(open);
  }

  /** Closes the iterator of `open` after any batch being pulled from it. */
  private release(open: OpenRead<R>): Promise<void> {
    return this.enqueue(open, async () => {
      if (open.closed) return;
      open.closed = true;
      await open.iterator.return?.();
    });
  }

  private enqueue<T>(open: OpenRead<R>, task: () => Promise<T>): Promise<T> {
    const result = open.queue.then(task);
    // The queue only orders tasks; each task's own promise carries its outcome to its caller.
    open.queue = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  private subscribe(subscriptionId: number, spec: unknown, batchSize: number, options: unknown): void {
    if (this.closing) return;
    try {
      checkBatchSize(batchSize);
      const context = `subscribe on table '${this.table.name}'`;
      this.subscriptions.add(subscriptionId, this.parse(spec, context), batchSize, parseReadOptions(options, context));
    } catch (error) {
      this.updatesPort.postMessage({ type: 'error', subscriptionId, error: serializeError(error) } satisfies SubscriptionMessage);
    }
  }
}

function parseInvalidateOptions(options: unknown, context: string): InvalidateOptions {
  if (options === undefined) return {};
  const force = (options as { forceRefreshOnNextRead?: unknown } | null)?.forceRefreshOnNextRead;
  if (typeof options !== 'object' || options === null || (force !== undefined && typeof force !== 'boolean')) {
    throw new InvalidSpecError(`${context}: options.forceRefreshOnNextRead must be a boolean when given.`, {
      path: ['options', 'forceRefreshOnNextRead'],
    });
  }
  return force === undefined ? {} : { forceRefreshOnNextRead: force };
}

/** Cancels remembered for calls not arrived yet. */
const MAX_EARLY_CANCELS = 64;

/** Why the worker aborted a call its client cancelled (the client rejects with its own signal's reason). */
function cancelledReason(tableName: string): DOMException {
  return new DOMException(`The client cancelled this call on table '${tableName}'.`, 'AbortError');
}

/** The `operationId` of a call's options: absent, or a number. */
function parseOperationId(call: unknown, context: string): number | undefined {
  if (call === undefined || call === null) return undefined;
  const operationId = (call as { operationId?: unknown }).operationId;
  if (operationId === undefined) return undefined;
  if (typeof operationId !== 'number' || !Number.isInteger(operationId)) {
    throw new InvalidSpecError(`${context}: operationId must be a whole number when given.`, { path: ['options', 'operationId'] });
  }
  return operationId;
}

/** The read options a client sent: only known fields, each of its type. */
function parseReadOptions(options: unknown, context: string): TableReadOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new InvalidSpecError(`${context}: read options must be an object when given.`, { path: ['options'] });
  }
  const parsed: { staleWhileRevalidate?: boolean; partialWhenOffline?: boolean } = {};
  for (const name of ['staleWhileRevalidate', 'partialWhenOffline'] as const) {
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') {
      throw new InvalidSpecError(`${context}: options.${name} must be a boolean when given.`, { path: ['options', name] });
    }
    parsed[name] = value;
  }
  return parsed;
}

function countsOf(open: OpenRead<unknown>): { counts?: ReadCounts } {
  return open.counts ? { counts: { ...open.counts } } : {};
}

/** A load or adjust with its progress forwarded to the client's callback (see `forwardProgress`). */
function withProgress(onProgress: ProgressCallback | undefined, call: (options: AdjustOptions) => Promise<void>): Promise<void> {
  return forwardProgress(onProgress, (listener) => call(listener ? { onProgress: listener } : {}));
}

function parseResumeOptions(options: unknown, context: string): ResumeOptions {
  if (options === undefined) return {};
  const maxAge = (options as { maxAge?: unknown } | null)?.maxAge;
  if (typeof options !== 'object' || options === null || (maxAge !== undefined && (typeof maxAge !== 'number' || Number.isNaN(maxAge)))) {
    throw new InvalidSpecError(`${context}: options.maxAge must be a number of milliseconds when given.`, { path: ['options', 'maxAge'] });
  }
  return maxAge === undefined ? {} : { maxAge };
}
