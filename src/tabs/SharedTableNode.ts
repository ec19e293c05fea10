import { expose } from 'comlink';
import { TableCacheError } from '../core/errors';
import type { IndexSpec } from '../core/types';
import { BROADCAST_PROTOCOL_VERSION, type ChannelMessage, type InboxMessage, type NodeId, type RelayedMethod, type SharedConnectMessage } from './broadcastProtocol';
import { protocolMismatch, refuseConnection } from '../worker/endpoint';
import { deserializeError, serializeError } from '../worker/errorTransfer';
import { NodeChannels } from './NodeChannels';
import { PendingCalls } from './PendingCalls';
import type { RelayCallOptions, RelayNode } from './RelaySession';
import { RelaySession } from './RelaySession';
import type { UpdateMessage } from '../worker/protocol';
import { TabElection, type LockManagerLike } from './TabElection';
import { nodeLockName, ownerLockName } from './tabNames';
import { TableHost, type TableFactory } from './TableHost';
import { watchClient } from '../worker/watchClient';

const protocol = BROADCAST_PROTOCOL_VERSION;

/** What a node is doing: starting up, forwarding to another node, owning the table, or closed. */
export type NodeRole = 'starting' | 'follower' | 'owner' | 'closed';

/** Options of a {@link SharedTableNode}. */
export interface SharedTableNodeOptions<R, PK, S extends IndexSpec, D> {
  readonly name: string;
  readonly version: number;
  readonly openTable: TableFactory<R, PK, S, D>;
  readonly dbName: string | null;
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
  private ownerId: NodeId | null = null;
  private host: TableHost<R, PK, S, D> | null = null;
  /** Whether an owner has had a loaded table: a node taking over then resumes it. */
  private everLoaded = false;
  private defunctError: Error | null = null;
  private closed = false;
  private readonly calls: PendingCalls;
  private readonly relays = new Map<number, RelaySession<unknown>>();
  private nextConnection = 1;
  private readonly channels: NodeChannels;
  private readonly election: TabElection;
  private stopWatchingOwner: (() => void) | null = null;

  constructor(private readonly options: SharedTableNodeOptions<R, PK, S, D>) {
    this.election = new TabElection(options.locks);
    this.channels = new NodeChannels({
      name: options.name,
      self: this.id,
      version: options.version,
      isClosed: () => this.closed,
      onChannel: (message) => this.onChannel(message),
      onInbox: (message) => this.onInbox(message),
    });
    this.calls = new PendingCalls(options.name, () => this.ownerId, this.channels);
  }

  get owner(): NodeId | null {
    return this.ownerId;
  }

  get tableName(): string {
    return this.options.name;
  }

  get role(): NodeRole {
    if (this.closed || this.defunctError) return 'closed';
    if (this.host) return 'owner';
    return this.ownerId ? 'follower' : 'starting';
  }

  /** The client connections of this node. */
  get connections(): number {
    return this.relays.size;
  }

  /** The connections (of every node) served by this node's table, when it owns it. */
  get hostedConnections(): number {
    return this.host?.connections ?? 0;
  }

  /**
   * Joins the shared table: takes this node's lifetime lock (others watch
   * it), listens on the channels, says hello, and competes for ownership.
   * Calls made before then wait.
   */
  async start(): Promise<void> {
    await this.election.hold(nodeLockName(this.options.name, this.id));
    if (this.closed) return;
    this.channels.open();
    this.channels.broadcast({ kind: 'hello' });
    this.election.compete(ownerLockName(this.options.name, this.options.version), () => this.becomeOwner());
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
    if (this.defunctError || this.closed) {
      relay.shutDown(this.defunctError ?? new TableCacheError(`Shared table '${this.options.name}' is no longer served by this worker.`));
      return;
    }
    // Asks the owner (once known) for the feed status, which it then posts to this client on each change.
    relay.attach();
    // A shared worker outlives its pages: a client gone without close() would keep its reads open on the owner.
    void relay.whenClosed.then(watchClient(message, () => void relay.close().catch(() => {}), this.election));
  }

  call(relay: RelaySession<unknown>, method: RelayedMethod, args: readonly unknown[], options: RelayCallOptions): Promise<{ value: unknown; from: NodeId }> {
    if (this.defunctError) return Promise.reject(this.defunctError);
    return this.calls.add(relay, method, args, options);
  }

  post(relay: RelaySession<unknown>, method: RelayedMethod, args: readonly unknown[]): void {
    if (this.ownerId === null || this.defunctError) return;
    // Request id 0 is never pending: the owner's reply is dropped.
    this.channels.sendRequest(this.ownerId, 0, relay, method, args, false);
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
    if (this.closed) return;
    this.closed = true;
    this.defunctError ??= reason ?? new TableCacheError(`Shared table '${this.options.name}' is no longer served by this worker (it was closed).`);
    this.calls.rejectAll(this.defunctError);
    for (const relay of [...this.relays.values()]) relay.shutDown(this.defunctError);
    // Others may take over at once; reads still running on this node's table finish (or fail) on their own.
    this.election.release();
    this.channels.close();
    await this.host?.close(this.defunctError);
  }

  /**
   * The table cannot be served any more: every connection is told `error`
   * (its client's calls reject with it), calls pending reject with it, and
   * this node stops competing for ownership. An owner in a dedicated worker
   * keeps its lock while its page lives, so that no node of this version
   * reopens the database another connection has just upgraded.
   */
  private shutDown(error: Error, announce: boolean, superseded = false): void {
    if (this.defunctError) return;
    this.defunctError = error;
    const owned = this.host !== null;
    this.election.stopCompeting();
    this.stopWatchingOwner?.();
    if (announce) this.channels.broadcast({ kind: 'shutdown', error: serializeError(error) });
    this.calls.rejectAll(error);
    for (const relay of [...this.relays.values()]) relay.shutDown(error);
    void this.host?.close(error);
    // A superseded owner's open database would block the newer version's upgrade; a shared worker would keep
    // refusing the pages that reload to recover. Closing the worker (once its clients are told) ends both.
    if (this.options.sharedWorker || (superseded && owned)) setTimeout(() => this.options.closeContext(), 0);
  }

  private becomeOwner(): void {
    if (this.defunctError || this.closed) return;
    if (this.ownerId !== null) this.ownerLost(this.ownerId);
    this.host = new TableHost<R, PK, S, D>({
      self: this.id,
      openTable: this.options.openTable,
      resume: this.everLoaded,
      dbName: this.options.dbName,
      send: (to, message) => this.channels.send(to, message),
      watchNode: (node, onGone) =>
        this.election.watch(nodeLockName(this.options.name, node), () => {
          onGone();
          this.channels.closeOutbox(node);
        }),
      onLoaded: () => {
        this.everLoaded = true;
        this.announceOwner();
      },
      onUnusable: (error) => this.shutDown(error, true),
    });
    this.ownerId = this.id;
    this.announceOwner();
    this.ownerFound();
  }

  private announceOwner(): void {
    if (this.host && !this.defunctError) this.channels.broadcast({ kind: 'owner', loaded: this.everLoaded });
  }

  private onChannel(message: ChannelMessage): void {
    if (message.protocol !== protocol || message.from === this.id || this.closed) return;
    if (message.version > this.options.version) {
      this.superseded(message.version);
      return;
    }
    if (message.version < this.options.version) {
      // An older version of the app: say hello back, so that it learns it is superseded.
      if (message.kind === 'hello') this.channels.broadcast({ kind: 'hello' });
      return;
    }
    switch (message.kind) {
      case 'hello':
        if (this.defunctError) this.channels.broadcast({ kind: 'shutdown', error: serializeError(this.defunctError) });
        else this.announceOwner();
        return;
      case 'owner':
        this.ownerIs(message.from, message.loaded);
        return;
      case 'shutdown':
        this.shutDown(deserializeError(message.error) as Error, false);
        return;
    }
  }

  private superseded(version: number): void {
    this.shutDown(
      new TableCacheError(
        `Shared table '${this.options.name}' was closed: version ${version} of the app is open in another tab, and this tab runs version ${this.options.version}. Reload this page.`,
      ),
      false,
      true,
    );
  }

  private ownerIs(node: NodeId, loaded: boolean): void {
    if (this.defunctError) return;
    if (loaded) this.everLoaded = true;
    // While the known owner's lifetime lock is held, another claim is stale or false (any context of the origin can
    // post here): the lock's release, not a message, says the owner is gone; the next owner's claim follows it.
    if (node === this.ownerId || this.host || this.ownerId !== null) return;
    this.ownerId = node;
    this.stopWatchingOwner = this.election.watch(nodeLockName(this.options.name, node), () => this.ownerLost(node));
    this.ownerFound();
  }

  private ownerFound(): void {
    for (const relay of this.relays.values()) relay.attach();
    this.calls.dispatchWaiting();
  }

  private ownerLost(node: NodeId): void {
    if (this.ownerId !== node) return;
    this.ownerId = null;
    this.stopWatchingOwner?.();
    this.stopWatchingOwner = null;
    this.channels.closeOutbox(node);
    for (const relay of this.relays.values()) relay.ownerLost();
    this.calls.ownerLost(node);
    // The next owner may have announced itself before this node learnt the last one was gone (or the one lost was
    // never an owner, only claimed to be): asking makes the owner there is say so again.
    if (!this.host && !this.closed && !this.defunctError) this.channels.broadcast({ kind: 'hello' });
  }

  private onInbox(message: InboxMessage): void {
    if (message.protocol !== protocol || this.closed) return;
    switch (message.kind) {
      case 'request':
        // Only an owner answers; a caller that thinks otherwise learns of the real owner and sends again.
        if (this.host) void this.host.handle(message);
        return;
      case 'reply':
        this.calls.reply(message);
        return;
      case 'progress':
        this.calls.progress(message);
        return;
      case 'update':
        if (message.from === this.ownerId) this.relays.get(message.connection)?.onUpdate(message.message);
        return;
    }
  }
}
