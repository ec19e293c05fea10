import { TableCacheError } from '../core/errors';
import type { IndexSpec } from '../core/types';
import { BROADCAST_PROTOCOL_VERSION, type ChannelMessage, type NodeId } from './broadcastProtocol';
import { deserializeError, serializeError } from '../worker/errorTransfer';
import type { NodeChannels } from './NodeChannels';
import type { TabElection } from './TabElection';
import { nodeLockName } from './tabNames';
import { TableHost, type TableFactory } from './TableHost';

const protocol = BROADCAST_PROTOCOL_VERSION;

/** What a node is doing: starting up, forwarding to another node, owning the table, or closed. */
export type NodeRole = 'starting' | 'follower' | 'owner' | 'closed';

/** The options of a node that decide how it owns the table. */
export interface OwnerElectionOptions<R, PK, S extends IndexSpec, D> {
  readonly name: string;
  readonly version: number;
  readonly openTable: TableFactory<R, PK, S, D>;
  /** Whether this node is a shared worker (which outlives the pages that show its errors). */
  readonly sharedWorker: boolean;
  /** Closes this node's worker, freeing its locks and database connection. */
  readonly closeContext: () => void;
}

/** The rest of the node an {@link OwnerElection} works with. */
export interface OwnerElectionParts {
  readonly self: NodeId;
  readonly election: TabElection;
  readonly channels: NodeChannels;
  /** An owner is known: the node's connections attach to it and the calls waiting go to it. */
  readonly onOwnerFound: () => void;
  /** The owner `node` is gone: the node's connections and the calls sent to it learn so. */
  readonly onOwnerLost: (node: NodeId) => void;
  /** The table cannot be served any more: the node's calls and connections fail with `error`. */
  readonly onShutDown: (error: Error) => void;
}

/**
 * A node's role in the shared table and how it changes: which node owns the
 * table (learnt from its claims on the table's channel, and lost when its
 * lifetime lock is released), taking over when this node wins the owner lock
 * ({@link TableHost}), and shutting down for good when the table cannot be
 * served any more (a newer app version, an unusable database) or the node
 * closes.
 */
export class OwnerElection<R, PK, S extends IndexSpec, D> {
  private ownerId: NodeId | null = null;
  private hosted: TableHost<R, PK, S, D> | null = null;
  /** Whether an owner has had a loaded table: a node taking over then resumes it. */
  private everLoaded = false;
  private defunctError: Error | null = null;
  private closed = false;
  private stopWatchingOwner: (() => void) | null = null;

  constructor(
    private readonly options: OwnerElectionOptions<R, PK, S, D>,
    private readonly parts: OwnerElectionParts,
  ) {}

  /** The node that owns the table, when known (this node, when it does). */
  get owner(): NodeId | null {
    return this.ownerId;
  }

  /** This node's table, when it owns it. */
  get host(): TableHost<R, PK, S, D> | null {
    return this.hosted;
  }

  /** Why the table is not served any more, once it is not. */
  get defunct(): Error | null {
    return this.defunctError;
  }

  /** Whether the node was closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** What this node is doing. */
  get role(): NodeRole {
    if (this.closed || this.defunctError) return 'closed';
    if (this.hosted) return 'owner';
    return this.ownerId ? 'follower' : 'starting';
  }

  /**
   * Closes the node for good; returns the error its calls and connections
   * fail with (`reason`, or a `TableCacheError` saying it closed), or `null`
   * when it was closed already.
   */
  close(reason: Error | undefined): Error | null {
    if (this.closed) return null;
    this.closed = true;
    this.defunctError ??=
      reason ?? new TableCacheError(`Shared table '${this.options.name}' is no longer served by this worker (it was closed).`);
    return this.defunctError;
  }

  /** This node won the owner lock: it opens the table and says so. */
  becomeOwner(): void {
    if (this.defunctError || this.closed) return;
    if (this.ownerId !== null) this.ownerLost(this.ownerId);
    const { channels, election } = this.parts;
    this.hosted = new TableHost<R, PK, S, D>({
      self: this.parts.self,
      openTable: this.options.openTable,
      resume: this.everLoaded,
      send: (to, message) => channels.send(to, message),
      watchNode: (node, onGone) =>
        election.watch(nodeLockName(this.options.name, node), () => {
          onGone();
          channels.closeOutbox(node);
        }),
      onLoaded: () => {
        this.everLoaded = true;
        this.announceOwner();
      },
      onUnusable: (error) => this.shutDown(error, true),
    });
    this.ownerId = this.parts.self;
    this.announceOwner();
    this.parts.onOwnerFound();
  }

  /** Handles a message of the table's channel. */
  receive(message: ChannelMessage): void {
    if (message.protocol !== protocol || message.from === this.parts.self || this.closed) return;
    if (message.version > this.options.version) {
      this.superseded(message.version);
      return;
    }
    const { channels } = this.parts;
    if (message.version < this.options.version) {
      // An older version of the app: say hello back, so that it learns it is superseded.
      if (message.kind === 'hello') channels.broadcast({ kind: 'hello' });
      return;
    }
    switch (message.kind) {
      case 'hello':
        if (this.defunctError) channels.broadcast({ kind: 'shutdown', error: serializeError(this.defunctError) });
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
    const owned = this.hosted !== null;
    this.parts.election.stopCompeting();
    this.stopWatchingOwner?.();
    if (announce) this.parts.channels.broadcast({ kind: 'shutdown', error: serializeError(error) });
    this.parts.onShutDown(error);
    void this.hosted?.close(error);
    // A superseded owner's open database would block the newer version's upgrade; a shared worker would keep
    // refusing the pages that reload to recover. Closing the worker (once its clients are told) ends both.
    if (this.options.sharedWorker || (superseded && owned)) setTimeout(() => this.options.closeContext(), 0);
  }

  private announceOwner(): void {
    if (this.hosted && !this.defunctError) this.parts.channels.broadcast({ kind: 'owner', loaded: this.everLoaded });
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
    if (node === this.ownerId || this.hosted || this.ownerId !== null) return;
    this.ownerId = node;
    this.stopWatchingOwner = this.parts.election.watch(nodeLockName(this.options.name, node), () => this.ownerLost(node));
    this.parts.onOwnerFound();
  }

  private ownerLost(node: NodeId): void {
    if (this.ownerId !== node) return;
    this.ownerId = null;
    this.stopWatchingOwner?.();
    this.stopWatchingOwner = null;
    this.parts.channels.closeOutbox(node);
    this.parts.onOwnerLost(node);
    // The next owner may have announced itself before this node learnt the last one was gone (or the one lost was
    // never an owner, only claimed to be): asking makes the owner there is say so again.
    if (!this.hosted && !this.closed && !this.defunctError) this.parts.channels.broadcast({ kind: 'hello' });
  }
}
