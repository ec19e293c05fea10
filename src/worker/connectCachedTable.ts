import { wrap } from 'comlink';
import type { IndexSpec } from '../core/types';
import { checkBatchSize, DEFAULT_BATCH_SIZE } from './batchSize';
import { CachedTableClient } from './CachedTableClient';
import { checkConnectTimeout, DEFAULT_CONNECT_TIMEOUT_MS, watchConnection } from './connectionWatch';
import type { SharedConnectMessage } from '../tabs/broadcastProtocol';
import { newConnection, type TableEndpoint } from './endpoint';
import { holdPageLock } from './pageLock';
import { defaultLockManager } from '../tabs/TabElection';
import type { TableSessionApi } from './protocol';

/** Options of {@link connectCachedTable}. */
export interface ConnectOptions {
  /**
   * Records per message for `getRecords` and for subscription results, at
   * most: records whose JSON is large go fewer to a message, so that none
   * passes `MAX_BATCH_CHARS`. Each message is deserialized on the UI
   * thread in one piece, so keep it well under a frame. Default
   * {@link DEFAULT_BATCH_SIZE} (1,000).
   */
  batchSize?: number;
  /**
   * Milliseconds to wait for the worker to answer the connection (it
   * answers as soon as its `exposeCachedTable` receives the request, before
   * the table itself is made). When they pass, every pending and later call
   * rejects with a `WorkerConnectionError` (`reason: 'timeout'`). Default
   * {@link DEFAULT_CONNECT_TIMEOUT_MS} (15,000); `0` (or `Infinity`) waits forever.
   */
  connectTimeoutMs?: number;
}

/** A `SharedWorker`, whose `port` is the endpoint and whose `error` event says its script failed. */
interface SharedWorkerLike {
  readonly port: TableEndpoint;
}

function isSharedWorkerLike(endpoint: TableEndpoint | SharedWorkerLike): endpoint is SharedWorkerLike {
  return (
    typeof (endpoint as Partial<TableEndpoint>).postMessage !== 'function' &&
    typeof (endpoint as Partial<SharedWorkerLike>).port === 'object'
  );
}

/**
 * Whether the worker behind `endpoint` may outlive this page (a shared
 * worker, or whatever a `MessagePort` leads to), so that it should watch
 * this page's lifetime lock; a dedicated `Worker` ends with its page.
 */
function outlivesPage(endpoint: TableEndpoint | SharedWorkerLike): boolean {
  return typeof Worker === 'undefined' || !(endpoint instanceof Worker);
}

/**
 * Connects to a `CachedTable` that a worker serves with `exposeCachedTable`,
 * through `endpoint`: a `Worker`, a `SharedWorker` (or its `port`), a
 * `MessagePort`, or Node's `worker_threads` `Worker` or `MessagePort`.
 *
 * Returns at once; calls made before the worker listens wait for it (as long
 * as it calls `exposeCachedTable` at the top level of its module). Each
 * connection is separate: closing it ends only its own reads and
 * subscriptions. A worker that may outlive this page (any endpoint but a
 * dedicated `Worker`) is told the Web Lock this page holds for its
 * lifetime, so that it closes the connection, and its open reads, when the
 * page goes away without closing it.
 *
 * When the worker cannot serve the connection, every pending and later call
 * rejects with a `WorkerConnectionError`: on the `error` event of a `Worker`
 * or `SharedWorker` fired before the worker answered (its script is missing
 * or threw at start-up), on the `error` or `exit` of a `worker_threads`
 * `Worker`, and after `connectTimeoutMs` without an answer (the only sign
 * on a bare `MessagePort`).
 *
 * @throws {TableCacheError} when `batchSize` is not a whole number of at
 * least 1, or `connectTimeoutMs` is not a number of milliseconds from 0.
 */
export function connectCachedTable<R, S extends IndexSpec = IndexSpec>(
  endpoint: TableEndpoint | SharedWorkerLike,
  options: ConnectOptions = {},
): CachedTableClient<R, S> {
  const batchSize = checkBatchSize(options.batchSize ?? DEFAULT_BATCH_SIZE);
  const timeoutMs = checkConnectTimeout(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const port = isSharedWorkerLike(endpoint) ? endpoint.port : endpoint;
  const connection = newConnection();
  const { message, transfer } = connection;
  if (outlivesPage(endpoint) && defaultLockManager()) {
    // Calls made meanwhile wait in the session channel until the worker receives its port.
    void holdPageLock().then((pageLock) =>
      port.postMessage(pageLock ? ({ ...message, pageLock } satisfies SharedConnectMessage) : message, transfer as never[]),
    );
  } else {
    port.postMessage(message, transfer as never[]);
  }
  return new CachedTableClient<R, S>(
    wrap<TableSessionApi<R>>(connection.sessionPort),
    connection.updatesPort,
    batchSize,
    watchConnection(endpoint, timeoutMs),
  );
}
