// The messages between the workers of several tabs that share one table
// (`exposeSharedCachedTable`), over BroadcastChannels. Types, and the
// version number; the code lives in the files that use them.
import type { AdjustProgress } from '../core/CachedTableOptions';
import type { ConnectMessage, SerializedError, TableSessionApi, UpdateMessage } from '../worker/protocol';

/** Version of this protocol; nodes that speak another one ignore each other's messages. */
export type BroadcastProtocolVersion = 1;
export const BROADCAST_PROTOCOL_VERSION: BroadcastProtocolVersion = 1;

/** Names one worker (one node) for its lifetime: a random UUID. */
export type NodeId = string;

/**
 * What `connectSharedCachedTable` posts to open a connection: a
 * {@link ConnectMessage} that may also name the Web Lock the page holds for
 * its lifetime, so that a shared worker can close the connection when the
 * page goes away without closing it.
 */
export interface SharedConnectMessage extends ConnectMessage {
  readonly pageLock?: string;
}

/** A method of the session protocol, forwarded to the node that owns the table. */
export type RelayedMethod = keyof TableSessionApi<unknown>;

/** Fields of every message. */
interface Envelope {
  readonly protocol: BroadcastProtocolVersion;
  /** The sending node. */
  readonly from: NodeId;
}

/**
 * Posted on the table's channel, seen by every node.
 *
 * - `hello`: a node has started (or met a node of another app version);
 *   the owner answers with `owner`.
 * - `owner`: `from` owns the table (holds the election lock); `loaded` says
 *   whether its table has completed a load or resume.
 * - `shutdown`: the table cannot be served any more (its database was
 *   upgraded or deleted by another connection): every node of `version` or
 *   older closes its connections with `error`.
 */
export type ChannelMessage = Envelope & { readonly version: number } & (
    | { readonly kind: 'hello' }
    | { readonly kind: 'owner'; readonly loaded: boolean }
    | { readonly kind: 'shutdown'; readonly error: SerializedError }
  );

/**
 * A call of one connection, sent to the owner's inbox. `connection` names
 * the connection within the sending node; `progress` says whether the
 * caller wants `progress` messages (for `load` and `adjust`).
 */
export interface RequestMessage extends Envelope {
  readonly kind: 'request';
  readonly requestId: number;
  readonly connection: number;
  readonly method: RelayedMethod;
  readonly args: readonly unknown[];
  readonly progress: boolean;
}

/** The outcome of a request, sent back to the caller's inbox. */
export type ReplyMessage = Envelope & { readonly kind: 'reply'; readonly requestId: number } & (
    { readonly value: unknown; readonly error?: undefined } | { readonly error: SerializedError }
  );

/** Progress of a `load` or `adjust` request. */
export interface ProgressMessage extends Envelope {
  readonly kind: 'progress';
  readonly requestId: number;
  readonly progress: AdjustProgress;
}

/** A subscription message for one connection of the receiving node. */
export interface RelayedUpdateMessage extends Envelope {
  readonly kind: 'update';
  readonly connection: number;
  readonly message: UpdateMessage;
}

/** Posted on one node's inbox channel, seen by that node only. */
export type InboxMessage = RequestMessage | ReplyMessage | ProgressMessage | RelayedUpdateMessage;
