import { finalizer } from 'comlink';
import type { AdjustProgress } from '../core/CachedTableOptions';
import { TableCacheError } from '../core/errors';
import type { NodeId, RelayedMethod } from './broadcastProtocol';
import { serializeError } from '../worker/errorTransfer';
import { forwardProgress } from '../worker/forwardProgress';
import type {
  OpenedRead,
  ProgressCallback,
  ReadRequestOptions,
  RecordBatch,
  SubscriptionMessage,
  TableSessionApi,
  UpdateMessage,
} from '../worker/protocol';
import { TableOwnerLostError } from './TableOwnerLostError';

/** What to do with a call whose owner went away before answering it. */
export type OwnerLostPolicy = 'retry' | 'resolve' | (() => TableOwnerLostError);

/** Options of one call of {@link RelayNode.call}. */
export interface RelayCallOptions {
  readonly onOwnerLost: OwnerLostPolicy;
  /** Only this owner can answer the call (an open read lives there). */
  readonly pinned?: NodeId | undefined;
  readonly onProgress?: ((progress: AdjustProgress) => void) | undefined;
}

/** What a {@link RelaySession} needs from the node it lives in. */
export interface RelayNode {
  /** The node that owns the table, when known. */
  readonly owner: NodeId | null;
  /** The shared table's name, for messages. */
  readonly tableName: string;
  /** Sends a call to the owner (once one is known) and resolves with its answer and who answered. */
  call(
    relay: RelaySession<unknown>,
    method: RelayedMethod,
    args: readonly unknown[],
    options: RelayCallOptions,
  ): Promise<{ value: unknown; from: NodeId }>;
  /** Sends a call to the current owner, if any, without waiting for its answer. */
  post(relay: RelaySession<unknown>, method: RelayedMethod, args: readonly unknown[]): void;
  /** Rejects the calls of `relay` not sent yet. */
  dropQueued(relay: RelaySession<unknown>, error: Error): void;
  /** Forgets a closed relay. */
  detach(relay: RelaySession<unknown>): void;
}

/** A read open on an owner, under the id the client knows it by. */
interface RelayedRead {
  readonly owner: NodeId;
  readonly remoteId: number;
}

interface RelayedSubscription {
  readonly spec: unknown;
  readonly batchSize: number;
  readonly options: ReadRequestOptions | undefined;
}

/**
 * One client connection of a node, served by whichever node owns the table:
 * exposes the session protocol to the client over Comlink and forwards each
 * call through its node. It keeps what must survive a change of owner — the
 * subscriptions, re-attached to each new owner — and maps the ids of open
 * reads to the owner that holds them, so that a read cut off by a change of
 * owner fails clearly instead of continuing elsewhere.
 */
export class RelaySession<R> {
  private readonly subscriptions = new Map<number, RelayedSubscription>();
  /** Chunks of a subscription's result held back until its last one arrives, so that an owner change never splices two results. */
  private readonly chunks = new Map<number, SubscriptionMessage[]>();
  private readonly reads = new Map<number, RelayedRead>();
  private nextReadId = 1;
  /** The owner's feed status last passed on to the client. */
  private feedStatus: string = 'none';
  private closedError: Error | null = null;
  private closing: Promise<void> | null = null;
  private signalClosed!: () => void;
  /** Resolves once the connection is closed (by the client, or shut down). */
  readonly whenClosed: Promise<void> = new Promise((resolve) => (this.signalClosed = resolve));

  /**
   * @param connection names the connection within its node.
   * @param updatesPort the client's port for subscription results.
   */
  constructor(
    readonly connection: number,
    private readonly updatesPort: MessagePort,
    private readonly node: RelayNode,
  ) {}

  /** The session protocol to expose to the client, plus Comlink's finalizer. */
  api(): TableSessionApi<R> & { [finalizer]: () => void } {
    return {
      load: (spec, onProgress, call) => this.withProgress('load', [spec, call], onProgress, () => this.lostWrite('load')),
      resume: (options) => this.value('resume', [options], 'retry') as Promise<void>,
      loaded: () => this.value('loaded', [], 'retry') as Promise<void>,
      adjust: (spec, onProgress, call) => this.withProgress('adjust', [spec, call], onProgress, () => this.lostWrite('adjust')),
      openRead: (spec, batchSize, options) => this.openRead(spec, batchSize, options),
      nextBatch: (readId) => this.nextBatch(readId),
      closeRead: (readId) => this.closeRead(readId),
      getFirstRecord: (spec) => this.value('getFirstRecord', [spec], 'retry') as Promise<R>,
      invalidateRecords: (oldSpecs, newSpecs, options) =>
        this.value('invalidateRecords', [oldSpecs, newSpecs, options], () => this.lostWrite('invalidateRecords')) as Promise<void>,
      invalidateKeys: (keys, options, call) =>
        this.value('invalidateKeys', [keys, options, call], () => this.lostWrite('invalidateKeys')) as Promise<void>,
      refreshInvalid: (call) => this.value('refreshInvalid', [call], () => this.lostWrite('refreshInvalid')) as Promise<void>,
      cancel: (operationId) => {
        // Sent to whichever node owns the table now: the call runs there, or is not sent yet (then it is dropped with the relay's queue, or aborted on arrival).
        if (!this.closedError) this.node.post(this, 'cancel', [operationId]);
      },
      stats: () => this.value('stats', [], 'retry') as ReturnType<TableSessionApi<R>['stats']>,
      changeFeedStatus: () => this.value('changeFeedStatus', [], 'retry') as ReturnType<TableSessionApi<R>['changeFeedStatus']>,
      subscribe: (subscriptionId, spec, batchSize, options) => this.subscribe(subscriptionId, spec, batchSize, options),
      unsubscribe: (subscriptionId) => this.unsubscribe(subscriptionId),
      close: () => this.close(),
      [finalizer]: () => {
        // Released without close() (the client was collected): nobody is left to tell if closing fails.
        this.close().catch(() => {});
      },
    };
  }

  /** A new owner is known: re-attach every subscription to it (each then delivers a fresh result). */
  attach(): void {
    // Makes the owner's session for this connection, which posts the owner's feed status now and on each change.
    if (!this.closedError) this.node.post(this, 'changeFeedStatus', []);
    for (const [subscriptionId, { spec, batchSize, options }] of this.subscriptions) {
      this.node.post(this, 'subscribe', [subscriptionId, spec, batchSize, options]);
    }
  }

  /** The owner went away: results it was sending will not complete. */
  ownerLost(): void {
    this.chunks.clear();
    // The next owner follows the feed again from the cursor stored with the table (or says it follows none).
    if (!this.closedError && this.feedStatus !== 'none') {
      this.feedStatus = 'catching-up';
      this.updatesPort.postMessage({ type: 'changeFeedStatus', status: 'catching-up' } satisfies UpdateMessage);
    }
  }

  /** A subscription message from the owner, for this connection's client. */
  onUpdate(message: UpdateMessage): void {
    // The owner's session closing is not the client's connection closing: this relay decides that.
    if (message.type === 'changeFeedStatus') {
      this.feedStatus = message.status;
      if (!this.closedError) this.updatesPort.postMessage(message);
      return;
    }
    if (message.type === 'closed' || message.type === 'connected' || !this.subscriptions.has(message.subscriptionId)) return;
    const held = this.chunks.get(message.subscriptionId) ?? [];
    if (message.type === 'records' && !message.info) {
      held.push(message);
      this.chunks.set(message.subscriptionId, held);
      return;
    }
    this.chunks.delete(message.subscriptionId);
    if (message.type === 'records') for (const chunk of held) this.updatesPort.postMessage(chunk);
    this.updatesPort.postMessage(message);
  }

  /**
   * Closes the connection: ends its subscriptions and reads on the owner.
   * Idempotent. Rejects with the error a read threw while being closed.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closedError ??= new TableCacheError(`The connection to shared table '${this.node.tableName}' is closed.`);
      this.forget();
      this.node.dropQueued(this, this.closedError);
      try {
        if (this.node.owner !== null) await this.node.call(this, 'close', [], { onOwnerLost: 'resolve' });
      } finally {
        this.updatesPort.close();
        this.node.detach(this);
        this.signalClosed();
      }
    })();
    return this.closing;
  }

  /** The table cannot be served any more: tells the client why (its calls then reject with `error`) and closes. */
  shutDown(error: Error): void {
    if (this.closing) return;
    this.closedError = error;
    this.closing = Promise.resolve();
    this.forget();
    this.node.dropQueued(this, error);
    try {
      this.updatesPort.postMessage({ type: 'closed', error: serializeError(error) } satisfies UpdateMessage);
    } finally {
      this.updatesPort.close();
      this.node.detach(this);
      this.signalClosed();
    }
  }

  private forget(): void {
    this.subscriptions.clear();
    this.chunks.clear();
    this.reads.clear();
  }

  private async value(method: RelayedMethod, args: readonly unknown[], onOwnerLost: OwnerLostPolicy): Promise<unknown> {
    if (this.closedError) throw this.closedError;
    return (await this.node.call(this, method, args, { onOwnerLost })).value;
  }

  /** A load or adjust: progress reaches the client's callback (a Comlink proxy), released when the call ends. */
  private async withProgress(
    method: 'load' | 'adjust',
    args: readonly unknown[],
    onProgress: ProgressCallback | undefined,
    onOwnerLost: () => TableOwnerLostError,
  ): Promise<void> {
    if (this.closedError) throw this.closedError;
    await forwardProgress(onProgress, (listener) =>
      this.node.call(this, method, args, listener ? { onOwnerLost, onProgress: listener } : { onOwnerLost }),
    );
  }

  private async openRead(spec: unknown, batchSize: number, options: ReadRequestOptions | undefined): Promise<OpenedRead<R>> {
    if (this.closedError) throw this.closedError;
    const { value, from } = await this.node.call(this, 'openRead', [spec, batchSize, options], { onOwnerLost: 'retry' });
    const opened = value as OpenedRead<R>;
    if (opened.readId === undefined) return opened;
    if (this.closedError) {
      this.node.post(this, 'closeRead', [opened.readId]);
      throw this.closedError;
    }
    const readId = this.nextReadId++;
    this.reads.set(readId, { owner: from, remoteId: opened.readId });
    return { ...opened, readId };
  }

  private async nextBatch(readId: number): Promise<RecordBatch<R>> {
    if (this.closedError) throw this.closedError;
    const read = this.reads.get(readId);
    if (!read) throw new TableCacheError(`Shared table '${this.node.tableName}' has no open read ${readId}; it has ended or was closed.`);
    if (read.owner !== this.node.owner) {
      this.reads.delete(readId);
      throw this.lostRead();
    }
    try {
      const { value } = await this.node.call(this, 'nextBatch', [read.remoteId], {
        onOwnerLost: () => this.lostRead(),
        pinned: read.owner,
      });
      const batch = value as RecordBatch<R>;
      if (batch.done) this.reads.delete(readId);
      return batch;
    } catch (error) {
      // The owner releases a read that failed; a lost owner took it along.
      this.reads.delete(readId);
      throw error;
    }
  }

  private async closeRead(readId: number): Promise<void> {
    const read = this.reads.get(readId);
    if (!read) return;
    this.reads.delete(readId);
    if (read.owner !== this.node.owner) return;
    await this.node.call(this, 'closeRead', [read.remoteId], { onOwnerLost: 'resolve', pinned: read.owner });
  }

  private subscribe(subscriptionId: number, spec: unknown, batchSize: number, options: ReadRequestOptions | undefined): void {
    if (this.closedError) return;
    this.subscriptions.set(subscriptionId, { spec, batchSize, options });
    this.chunks.delete(subscriptionId);
    this.node.post(this, 'subscribe', [subscriptionId, spec, batchSize, options]);
  }

  private unsubscribe(subscriptionId: number): void {
    if (!this.subscriptions.delete(subscriptionId)) return;
    this.chunks.delete(subscriptionId);
    this.node.post(this, 'unsubscribe', [subscriptionId]);
  }

  private lostWrite(method: 'load' | 'adjust' | 'refreshInvalid' | 'invalidateRecords' | 'invalidateKeys'): TableOwnerLostError {
    const table = `shared table '${this.node.tableName}'`;
    const cut = `${method}() on ${table} was cut off: the tab that owned the table went away while it ran`;
    const advice = {
      load: 'so it may or may not have completed. Call resume(): it resolves when the load was committed; call load() again if it rejects.',
      adjust:
        'so it may or may not have been applied. An adjust is all or nothing and the tab that took over resumed the state committed last, either before or after it; call adjust() again to be sure.',
      refreshInvalid:
        'so it may or may not have been applied. The tab that took over resumed the state committed last, in which every record is stale and is refreshed by its next read.',
      invalidateKeys:
        'so the keys may or may not have been refreshed. The tab that took over resumed the state committed last, in which every record is stale; call invalidateKeys() again to be sure (it is idempotent).',
      invalidateRecords:
        'so the records may or may not have been marked. The tab that took over resumed the state committed last, in which every record is stale and is refreshed by its next read, so there is nothing to invalidate again.',
    }[method];
    return new TableOwnerLostError(`${cut}, ${advice}`, { method, mayHaveApplied: true });
  }

  private lostRead(): TableOwnerLostError {
    return new TableOwnerLostError(
      `A read of shared table '${this.node.tableName}' was cut off after part of its records: the tab that owned the table went away. Read again; the tab that took over serves it.`,
      { method: 'getRecords', mayHaveApplied: false },
    );
  }
}
