import { expose } from 'comlink';
import { TableCacheError } from '../core/errors';
import type { IndexSpec } from '../core/types';
import {
  BROADCAST_PROTOCOL_VERSION,
  type InboxMessage,
  type NodeId,
  type RelayedMethod,
  type SharedConnectMessage,
} from './broadcastProtocol';
import { protocolMismatch, refuseConnection } from '../worker/endpoint';
import { NodeChannels } from './NodeChannels';
import { OwnerElection, type NodeRole } from './OwnerElection';
import { PendingCalls } from './PendingCalls';
import type { RelayCallOptions, RelayNode } from './RelaySession';
import { RelaySession } from './RelaySession';
import type { UpdateMessage } from '../worker/protocol';
import { TabElection, type LockManagerLike } from './TabElection';
import { nodeLockName, ownerLockName } from './tabNames';
import type { TableFactory } from './TableHost';
import { watchClient } from '../worker/watchClient';

const protocol = BROADCAST_PROTOCOL_VERSION;

export type { NodeRole };

/** Options of a {@link SharedTableNode}. */
export interface SharedTableNodeOptions<R, PK, S extends IndexSpec, D> {
  readonly name: string;
  readonly version: number;
  readonly openTable: TableFactory<R, PK, S, D>;
  readonly locks: LockManagerLike;
  /** Whether this node is a shared worker (which outlives the pages that show its errors). */
  readonly sharedWorker: boolean;
  /** Closes this node's worker, freeing its locks and database connection. */
  readonly closeContext: () => void;
}

/**
 * One worker's part in a table shared by several tabs: it serves its own
 * client connections (a tab's dedicated worker has one tab's; a shared
 * worker has every tab's) and competes for the owner lock. The node holding
 * it opens the table and serves every node's connections ({@link TableHost});
 * the others forward their calls to it over BroadcastChannels and watch its
 * lifetime lock, so that when its context goes away they retry or reject the
 * calls it had not answered, re-attach subscriptions to the next owner, and
 * one of them takes over.
 */
export class SharedTableNode<R, PK, S extends IndexSpec, D> implements RelayNode {
  readonly id: NodeId = crypto.randomUUID();
  private readonly ownership: OwnerElection<R, PK, S, D>;
  private readonly calls: PendingCalls;
  private readonly relays = new Map<number, RelaySession<unknown>>();
  private nextConnection = 1;
  private readonly channels: NodeChannels;
  private readonly election: TabElection;

  constructor(private readonly options: SharedTableNodeOptions<R, PK, S, D>) {
    this.election = new TabElection(options.locks);
    this.channels = new NodeChannels({
      name: options.name,
      self: this.id,
      version: options.version,
      isClosed: () => this.ownership.isClosed,
      onChannel: (message) => this.ownership.receive(message),
      onInbox: (message) => this.onInbox(message),
    });
    this.ownership = new OwnerElection<R, PK, S, D>(options, {
      self: this.id,
      election: this.election,
      channels: this.channels,
      onOwnerFound: () => {
        for (const relay of this.relays.values()) relay.attach();
        this.calls.dispatchWaiting();
      },
      onOwnerLost: (node) => {
        for (const relay of this.relays.values()) relay.ownerLost();
        this.calls.ownerLost(node);
      },
      onShutDown: (error) => this.shutDownConnections(error),
    });
    this.calls = new PendingCalls(options.name, () => this.ownership.owner, this.channels);
  }

  get owner(): NodeId | null {
    return this.ownership.owner;
  }

  get tableName(): string {
    return this.options.name;
  }

  get role(): NodeRole {
    return this.ownership.role;
  }

  /** The client connections of this node. */
  get connections(): number {
    return this.relays.size;
  }

  /** The connections (of every node) served by this node's table, when it owns it. */
  get hostedConnections(): number {
    return this.ownership.host?.connections ?? 0;
  }

  /**
   * Joins the shared table: takes this node's lifetime lock (others watch
   * it), listens on the channels, says hello, and competes for ownership.
   * Calls made before then wait.
   */
  async start(): Promise<void> {
    await this.election.hold(nodeLockName(this.options.name, this.id));
    if (this.ownership.isClosed) return;
    this.channels.open();
    this.channels.broadcast({ kind: 'hello' });
    this.election.compete(ownerLockName(this.options.name, this.options.version), () => this.ownership.becomeOwner());
  }

  /** Serves a client connection (a `connectCachedTable` / `connectSharedCachedTable` request). */
  accept(message: SharedConnectMessage): void {
    message.updatesPort.postMessage({ type: 'connected' } satisfies UpdateMessage);
    const mismatch = protocolMismatch(message.protocol);
    if (mismatch) {
      refuseConnection(message, mismatch);
      return;
    }
    const relay = new RelaySession<unknown>(this.nextConnection++, message.updatesPort, this);
    this.relays.set(relay.connection, relay);
    expose(relay.api(), message.sessionPort);
    if (this.ownership.defunct || this.ownership.isClosed) {
      relay.shutDown(
        this.ownership.defunct ?? new TableCacheError(`Shared table '${this.options.name}' is no longer served by this worker.`),
      );
      return;
    }
    // Asks the owner (once known) for the feed status, which it then posts to this client on each change.
    relay.attach();
    // A shared worker outlives its pages: a client gone without close() would keep its reads open on the owner.
    void relay.whenClosed.then(watchClient(message, () => void relay.close().catch(() => {}), this.election));
  }

  call(
    relay: RelaySession<unknown>,
    method: RelayedMethod,
    args: readonly unknown[],
    options: RelayCallOptions,
  ): Promise<{ value: unknown; from: NodeId }> {
    const defunct = this.ownership.defunct;
    if (defunct) return Promise.reject(defunct);
    return this.calls.add(relay, method, args, options);
  }

  post(relay: RelaySession<unknown>, method: RelayedMethod, args: readonly unknown[]): void {
    const owner = this.ownership.owner;
    if (owner === null || this.ownership.defunct) return;
    // Request id 0 is never pending: the owner's reply is dropped.
    this.channels.sendRequest(owner, 0, relay, method, args, false);
  }

  dropQueued(relay: RelaySession<unknown>, error: Error): void {
    this.calls.dropQueued(relay, error);
  }

  detach(relay: RelaySession<unknown>): void {
    if (this.relays.get(relay.connection) === relay) this.relays.delete(relay.connection);
  }

  /**
   * Leaves the shared table: closes this node's connections (their calls
   * reject with `reason`, or a `TableCacheError` saying it closed), stops
   * competing, releases its locks (another node takes over what it owned)
   * and closes its channels, all at once; resolves once the reads running on
   * its table, if it owned it, are closed.
   */
  async close(reason?: Error): Promise<void> {
    const error = this.ownership.close(reason);
    if (!error) return;
    this.shutDownConnections(error);
    // Others may take over at once; reads still running on this node's table finish (or fail) on their own.
    this.election.release();
    this.channels.close();
    await this.ownership.host?.close(error);
  }

  /** The calls pending and this node's connections fail with `error`. */
  private shutDownConnections(error: Error): void {
    this.calls.rejectAll(error);
    for (const relay of [...this.relays.values()]) relay.shutDown(error);
  }

  private onInbox(message: InboxMessage): void {
    if (message.protocol !== protocol || this.ownership.isClosed) return;
    switch (message.kind) {
      case 'request':
        // Only an owner answers; a caller that thinks otherwise learns of the real owner and sends again.
        if (this.ownership.host) void this.ownership.host.handle(message);
        return;
      case 'reply':
        this.calls.reply(message);
        return;
      case 'progress':
        this.calls.progress(message);
        return;
      case 'update':
        if (message.from === this.ownership.owner) this.relays.get(message.connection)?.onUpdate(message.message);
        return;
    }
  }
}
