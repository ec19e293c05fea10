import { expose } from 'comlink';
import type { CachedTable } from '../core/CachedTable';
import { TableCacheError } from '../core/errors';
import type { IndexSpec } from '../core/types';
import { listenForConnections, protocolMismatch, refuseConnection, type TableExposeTarget } from './endpoint';
import { installErrorTransfer } from './errorTransfer';
import { isConnectMessage } from './isConnectMessage';
import type { SharedConnectMessage } from '../tabs/broadcastProtocol';
import type { UpdateMessage } from './protocol';
import { TableSession } from './TableSession';
import { defaultLockManager, TabElection } from '../tabs/TabElection';
import { watchClient } from './watchClient';

/** What {@link exposeCachedTable} returns: a handle on the exposed table. */
export interface ExposedCachedTable {
  /** The number of connections open right now. */
  readonly connections: number;
  /**
   * Stops accepting connections and closes every open one (their reads are
   * closed, their subscriptions ended). Resolves when all are closed; rejects
   * with the first error a read threw while being closed.
   */
  close(): Promise<void>;
}

/**
 * Serves `table` to `connectCachedTable` clients that connect through
 * `target`. Call it in the worker module at top level, before any `await`,
 * so that it listens before the first connection request arrives; when
 * making the table is asynchronous (opening IndexedDB), pass the promise of
 * it: connections wait for it, and if it rejects, every call of theirs
 * rejects with its error.
 *
 * `target` defaults to the worker's global scope: a dedicated worker's
 * `self`, or a shared worker's scope, where every `connect` event's port is
 * served. It may also be a `MessagePort` (e.g. one port of a shared worker),
 * or Node's `worker_threads` `parentPort` (or any of its `MessagePort`s).
 *
 * Every client gets its own connection (its own Comlink channel); closing a
 * client closes its reads and subscriptions in the worker. Errors thrown by
 * the table reach the client as the same classes, with their fields.
 *
 * @throws {TableCacheError} when `target` cannot receive messages (e.g. Node's
 * main thread, where `globalThis` has no message events: pass `parentPort`).
 */
export function exposeCachedTable<R, PK, S extends IndexSpec, D>(
  table: CachedTable<R, PK, S, D> | PromiseLike<CachedTable<R, PK, S, D>>,
  target: TableExposeTarget = globalThis as unknown as TableExposeTarget,
): ExposedCachedTable {
  installErrorTransfer();
  /** Open sessions, with the port each is exposed on. */
  const sessions = new Map<TableSession<R, PK, S, D>, MessagePort>();
  let closed = false;
  let ready: CachedTable<R, PK, S, D> | null = isPromiseLike(table) ? null : table;
  let failure: { error: unknown } | null = null;
  const waiting: SharedConnectMessage[] = [];
  /** Watches the Web Locks that pages connected from outside this worker hold for their lifetime. */
  const locks = defaultLockManager();
  const election = locks ? new TabElection(locks) : undefined;
  /** Connections whose client went away before they were served. */
  const gone = new WeakSet<SharedConnectMessage>();

  const serve = (message: SharedConnectMessage) => {
    if (gone.has(message)) return;
    const { sessionPort, updatesPort } = message;
    const mismatch = protocolMismatch(message.protocol);
    if (mismatch || failure || !ready) {
      // Refuse every call of this connection, saying why (a table that could not be made, or an old client).
      refuseConnection(message, failure ? failure.error : mismatch);
      return;
    }
    // A client's close() is answered on the session port, and Comlink closes that port when the client releases it.
    const session: TableSession<R, PK, S, D> = new TableSession(ready, updatesPort, () => {
      sessions.delete(session);
      stopWatching();
    });
    // A client gone without close() would keep its reads open: their storage iteration, their backend fetch.
    const stopWatching = watchClient(message, () => void session.close().catch(() => {}), election);
    sessions.set(session, sessionPort);
    expose(session.api(), sessionPort);
  };

  const accept = (data: unknown) => {
    if (closed || !isConnectMessage(data)) return;
    data.updatesPort.postMessage({ type: 'connected' } satisfies UpdateMessage);
    if (ready || failure) {
      serve(data);
      return;
    }
    // Until the table exists, connections wait; their ports hold the calls already made.
    waiting.push(data);
    const stopWatching = watchClient(data, () => gone.add(data), election);
    void whenMade.then(stopWatching);
  };

  const whenMade = isPromiseLike(table)
    ? Promise.resolve(table).then(
        () => {},
        () => {},
      )
    : Promise.resolve();
  if (isPromiseLike(table)) {
    table.then(
      (value) => {
        ready = value;
        for (const message of waiting.splice(0)) if (!closed) serve(message);
      },
      (error: unknown) => {
        failure = { error };
        for (const message of waiting.splice(0)) if (!closed) serve(message);
      },
    );
  }

  const stopListening = listenForConnections(target, accept);

  return {
    get connections() {
      return sessions.size;
    },
    async close() {
      closed = true;
      stopListening();
      election?.release();
      const closedError = new TableCacheError('The table is no longer exposed.');
      for (const message of waiting.splice(0)) refuseConnection(message, closedError);
      const results = await Promise.allSettled(
        [...sessions].map(async ([session, sessionPort]) => {
          try {
            await session.close(true);
          } finally {
            sessionPort.close();
          }
        }),
      );
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
    },
  };
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as Partial<PromiseLike<T>>).then === 'function';
}
