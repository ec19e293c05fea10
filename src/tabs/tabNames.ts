// The names of the Web Locks and BroadcastChannels of a table shared by
// several tabs. One origin shares them all, so each starts with the library's
// prefix and the table's shared name.
import type { NodeId } from './broadcastProtocol';

const prefix = 'tablecache-web:tabs:';

/** The BroadcastChannel every node of the shared table listens to. */
export function tableChannelName(name: string): string {
  return `${prefix}${name}`;
}

/** The BroadcastChannel of one node's inbox (addressed messages). */
export function inboxChannelName(name: string, node: NodeId): string {
  return `${prefix}${name}:node:${node}`;
}

/** The Web Lock whose holder owns the table, per app version: versions elect apart. */
export function ownerLockName(name: string, version: number): string {
  return `${prefix}${name}:owner:v${version}`;
}

/** The Web Lock a node holds for its lifetime, so that others learn when its context is gone. */
export function nodeLockName(name: string, node: NodeId): string {
  return `${prefix}${name}:node:${node}`;
}

/** The Web Lock a page holds for its lifetime while connected to a shared worker. */
export function pageLockName(page: string): string {
  return `tablecache-web:page:${page}`;
}
