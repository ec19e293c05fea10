import { TableCacheError } from '../core/errors';
import type { NodeId, ProgressMessage, RelayedMethod, ReplyMessage } from './broadcastProtocol';
import { deserializeError } from '../worker/errorTransfer';
import type { NodeChannels } from './NodeChannels';
import type { RelayCallOptions, RelaySession } from './RelaySession';

/** A call of a relay, until answered. */
interface PendingCall {
  readonly relay: RelaySession<unknown>;
  readonly method: RelayedMethod;
  readonly args: readonly unknown[];
  readonly options: RelayCallOptions;
  /** The owner it was sent to; `null` while waiting for an owner. */
  sentTo: NodeId | null;
  readonly resolve: (answer: { value: unknown; from: NodeId }) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A node's calls relayed to the owner and waiting for its answer, by request
 * id: each is sent once an owner is known, settled by its reply, and, when
 * its owner goes away unanswered, sent again, resolved or rejected as its
 * {@link RelayCallOptions.onOwnerLost} policy says.
 */
export class PendingCalls {
  private readonly pending = new Map<number, PendingCall>();
  private nextRequestId = 1;

  /**
   * @param tableName The shared table's name, for messages.
   * @param owner The node that owns the table, when known.
   * @param channels Where calls are sent, once open.
   */
  constructor(
    private readonly tableName: string,
    private readonly owner: () => NodeId | null,
    private readonly channels: NodeChannels,
  ) {}

  /** Sends a call to the owner (once one is known) and resolves with its answer and who answered. */
  add(
    relay: RelaySession<unknown>,
    method: RelayedMethod,
    args: readonly unknown[],
    options: RelayCallOptions,
  ): Promise<{ value: unknown; from: NodeId }> {
    return new Promise((resolve, reject) => {
      const requestId = this.nextRequestId++;
      const call: PendingCall = { relay, method, args, options, sentTo: null, resolve, reject };
      this.pending.set(requestId, call);
      if (options.pinned !== undefined && options.pinned !== this.owner()) {
        this.settleLost(requestId, call);
        return;
      }
      this.dispatch(requestId, call);
    });
  }

  /** Sends the calls waiting for an owner to the owner now known. */
  dispatchWaiting(): void {
    for (const [requestId, call] of this.pending) if (call.sentTo === null) this.dispatch(requestId, call);
  }

  /** Settles the calls sent to `node`, which went away before answering them. */
  ownerLost(node: NodeId): void {
    for (const [requestId, call] of this.pending) if (call.sentTo === node) this.settleLost(requestId, call);
  }

  /** Rejects the calls of `relay` not sent yet. */
  dropQueued(relay: RelaySession<unknown>, error: Error): void {
    for (const [requestId, call] of this.pending) {
      if (call.relay === relay && call.sentTo === null) {
        this.pending.delete(requestId);
        call.reject(error);
      }
    }
  }

  /** Rejects every call with `error`. */
  rejectAll(error: Error): void {
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }

  /** Settles a call with the answer of the owner it was sent to. */
  reply(message: ReplyMessage): void {
    const call = this.pending.get(message.requestId);
    if (!call || call.sentTo !== message.from) return;
    this.pending.delete(message.requestId);
    if (message.error) call.reject(deserializeError(message.error));
    else call.resolve({ value: message.value, from: message.from });
  }

  /** Passes on the progress the owner a call was sent to reports. */
  progress(message: ProgressMessage): void {
    const call = this.pending.get(message.requestId);
    if (call && call.sentTo === message.from) call.options.onProgress?.(message.progress);
  }

  /** A call whose owner went away: sent again to the next owner, resolved, or rejected, as its policy says. */
  private settleLost(requestId: number, call: PendingCall): void {
    const policy = call.options.onOwnerLost;
    if (policy === 'retry' && call.options.pinned === undefined) {
      call.sentTo = null;
      this.dispatch(requestId, call);
      return;
    }
    this.pending.delete(requestId);
    if (policy === 'resolve') call.resolve({ value: undefined, from: call.sentTo ?? '' });
    else if (policy === 'retry')
      call.reject(new TableCacheError(`Shared table '${this.tableName}': the node holding this call's state went away.`));
    else call.reject(policy());
  }

  private dispatch(requestId: number, call: PendingCall): void {
    const owner = this.owner();
    if (owner === null || !this.channels.opened) return;
    call.sentTo = owner;
    try {
      this.channels.sendRequest(owner, requestId, call.relay, call.method, call.args, call.options.onProgress !== undefined);
    } catch (error) {
      // Typically a spec that cannot be cloned: the caller's error, not the channel's.
      this.pending.delete(requestId);
      call.reject(error);
    }
  }
}
