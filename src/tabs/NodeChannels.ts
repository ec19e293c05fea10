import {
  BROADCAST_PROTOCOL_VERSION,
  type ChannelMessage,
  type InboxMessage,
  type NodeId,
  type RelayedMethod,
  type RequestMessage,
} from './broadcastProtocol';
import type { serializeError } from '../worker/errorTransfer';
import { parseChannelMessage, parseInboxMessage } from './parseBroadcastMessage';
import type { RelaySession } from './RelaySession';
import { inboxChannelName, tableChannelName } from './tabNames';

const protocol = BROADCAST_PROTOCOL_VERSION;

/** What a node says to every node of the table. */
export type ChannelBody =
  { kind: 'hello' } | { kind: 'owner'; loaded: boolean } | { kind: 'shutdown'; error: ReturnType<typeof serializeError> };

/** Options of {@link NodeChannels}. */
export interface NodeChannelsOptions {
  /** The shared table's name. */
  readonly name: string;
  /** The node these channels belong to. */
  readonly self: NodeId;
  /** The app version this node runs, stamped on what it broadcasts. */
  readonly version: number;
  /** Whether the node is closed: nothing more is sent to other nodes. */
  readonly isClosed: () => boolean;
  /** Receives the well-formed messages of the table's channel. */
  readonly onChannel: (message: ChannelMessage) => void;
  /** Receives the well-formed messages of this node's inbox, and those it sends itself. */
  readonly onInbox: (message: InboxMessage) => void;
}

/**
 * A node's BroadcastChannels: the table's channel, which every node of the
 * table hears, this node's inbox, and one outbox per node it has sent to
 * (that node's inbox), kept open until that node is gone.
 */
export class NodeChannels {
  private channel: BroadcastChannel | null = null;
  private inbox: BroadcastChannel | null = null;
  private readonly outboxes = new Map<NodeId, BroadcastChannel>();
  private started = false;

  constructor(private readonly options: NodeChannelsOptions) {}

  /** Whether {@link open} was called (calls made before wait). */
  get opened(): boolean {
    return this.started;
  }

  /** Listens on the table's channel and this node's inbox. */
  open(): void {
    this.channel = new BroadcastChannel(tableChannelName(this.options.name));
    this.channel.onmessage = (event) => {
      const message = parseChannelMessage(event.data);
      if (message) this.options.onChannel(message);
    };
    this.inbox = new BroadcastChannel(inboxChannelName(this.options.name, this.options.self));
    this.inbox.onmessage = (event) => {
      const message = parseInboxMessage(event.data);
      if (message) this.options.onInbox(message);
    };
    this.started = true;
  }

  /** Sends a call of `relay` to node `to` (request id 0: no answer awaited); throws what posting it throws. */
  sendRequest(
    to: NodeId,
    requestId: number,
    relay: RelaySession<unknown>,
    method: RelayedMethod,
    args: readonly unknown[],
    progress: boolean,
  ): void {
    const request: RequestMessage = {
      protocol,
      kind: 'request',
      from: this.options.self,
      requestId,
      connection: relay.connection,
      method,
      args,
      progress,
    };
    this.send(to, request);
  }

  /** Posts `message` to node `to`'s inbox. */
  send(to: NodeId, message: InboxMessage): void {
    if (to === this.options.self) {
      // This node's own connections: no channel, no clone.
      queueMicrotask(() => this.options.onInbox(message));
      return;
    }
    if (this.options.isClosed()) return;
    let outbox = this.outboxes.get(to);
    if (!outbox) {
      outbox = new BroadcastChannel(inboxChannelName(this.options.name, to));
      this.outboxes.set(to, outbox);
    }
    outbox.postMessage(message);
  }

  /** Closes the outbox to a node that is gone. */
  closeOutbox(node: NodeId): void {
    this.outboxes.get(node)?.close();
    this.outboxes.delete(node);
  }

  /** Posts `body` to every node of the table, once the channels are open. */
  broadcast(body: ChannelBody): void {
    this.channel?.postMessage({ protocol, from: this.options.self, version: this.options.version, ...body } satisfies ChannelMessage);
  }

  /** Closes every channel. */
  close(): void {
    this.channel?.close();
    this.inbox?.close();
    for (const outbox of this.outboxes.values()) outbox.close();
    this.outboxes.clear();
  }
}
