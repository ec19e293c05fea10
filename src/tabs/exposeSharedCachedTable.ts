import { TableCacheError } from '../core/errors';
import type { IndexSpec } from '../core/types';
import { isSharedWorkerScope, listenForConnections, type TableExposeTarget } from '../worker/endpoint';
import { installErrorTransfer } from '../worker/errorTransfer';
import { isConnectMessage } from '../worker/isConnectMessage';
import { SharedTableNode, type NodeRole } from './SharedTableNode';
import { defaultLockManager, type LockManagerLike } from './TabElection';
import type { TableFactory } from './TableHost';

/** Options of {@link exposeSharedCachedTable}. */
export interface ExposeSharedOptions {
  /**
   * Names the shared table: the workers of one origin that expose the same
   * name share one table. It names the Web Locks (`tablecache-web:tabs:<name>:…`)
   * and BroadcastChannels they use.
   */
  name: string;
  /**
   * The version of the table's schema (its `indexNames`, its records'
   * shape), a whole number. Default 1. Bump it when the app changes them:
   * tabs of different versions never share a table, and as soon as a newer
   * version starts in one tab, the tabs of older versions close their
   * connections (their clients' calls reject, saying to reload) and the one
   * that owned the table closes its worker, so that the newer version can
   * rebuild the database.
   */
  version?: number;
  /** Where clients connect; default the worker's global scope (dedicated or shared). */
  target?: TableExposeTarget;
  /** The Web Locks manager. Default `navigator.locks`. */
  locks?: LockManagerLike;
}

/** What {@link exposeSharedCachedTable} returns: this worker's part in the shared table. */
export interface ExposedSharedCachedTable {
  /** Names this worker among those sharing the table (a random UUID). */
  readonly nodeId: string;
  /**
   * `'owner'`: this worker opened the table and serves every tab;
   * `'follower'`: it forwards its clients' calls to the owner;
   * `'starting'`: it has not met the owner yet (calls wait);
   * `'closed'`: closed, or the table can no longer be served.
   */
  readonly role: NodeRole;
  /** This worker's own client connections. */
  readonly connections: number;
  /** When the owner: the connections of every tab that its table serves. */
  readonly hostedConnections: number;
  /**
   * Leaves the shared table: this worker's clients are told (their calls
   * reject with `TableCacheError`), its locks are released, and when it
   * owned the table another worker takes over. Resolves once done.
   */
  close(): Promise<void>;
}

/**
 * Shares one `CachedTable` among every tab of the app. Call it at the top
 * level of the worker module, before any `await`, in a `SharedWorker` or in
 * each tab's dedicated `Worker` (`connectSharedCachedTable` picks which).
 *
 * Every worker that calls it competes for the Web Lock of `name` (per
 * `version`); the one holding it calls `openTable` — the only one that ever
 * does, so only one context opens the IndexedDB database — and serves every
 * tab: its own clients directly, the other workers' clients through
 * BroadcastChannels. When the owner's tab goes away, the browser releases
 * its lock and another worker takes over: it opens the table and `resume()`s
 * it when the owner had loaded it, calls in flight are repeated there when
 * safe (reads, `stats`, `loaded`, `resume`) or rejected with
 * `TableOwnerLostError` (`load`, `adjust`, `refreshInvalid`,
 * `invalidateRecords`, the rest of a read already under way), and
 * subscriptions re-attach by themselves.
 *
 * Across tabs `resume()` resolves when the table is already loaded (by
 * another tab), so apps start with `resume()` and fall back to `load()`.
 *
 * @param openTable makes the table (typically opening an `IdbStorageTable`);
 * when it throws or rejects, every call rejects with its error.
 * @throws {TableCacheError} when Web Locks are missing, `version` is not a
 * whole number, or `target` cannot receive messages.
 */
export function exposeSharedCachedTable<R, PK, S extends IndexSpec, D>(
  openTable: TableFactory<R, PK, S, D>,
  options: ExposeSharedOptions,
): ExposedSharedCachedTable {
  const version = options.version ?? 1;
  if (!Number.isInteger(version)) throw new TableCacheError(`version must be a whole number; got ${String(version)}.`);
  const locks = options.locks ?? defaultLockManager();
  if (!locks) throw new TableCacheError('exposeSharedCachedTable needs Web Locks (navigator.locks), which this context lacks.');
  installErrorTransfer();
  const target = options.target ?? (globalThis as unknown as TableExposeTarget);
  const node = new SharedTableNode<R, PK, S, D>({
    name: options.name,
    version,
    openTable,
    locks,
    sharedWorker: isSharedWorkerScope(target),
    closeContext: () => {
      // Only a worker closes itself this way; on a page, close() would close the window.
      const scope = globalThis as { WorkerGlobalScope?: unknown; close?: () => void };
      if (scope.WorkerGlobalScope !== undefined) scope.close?.();
    },
  });
  const accept = (data: unknown) => {
    if (isConnectMessage(data)) node.accept(data);
  };
  const stopListening = listenForConnections(target, accept);
  node.start().catch((error: unknown) => {
    // Without its lifetime lock the node cannot take part; its clients learn why.
    void node.close(new TableCacheError(`Shared table '${options.name}' cannot be served: ${String(error)}`, { cause: error }));
  });
  return {
    nodeId: node.id,
    get role() {
      return node.role;
    },
    get connections() {
      return node.connections;
    },
    get hostedConnections() {
      return node.hostedConnections;
    },
    close: () => {
      stopListening();
      return node.close();
    },
  };
}
