import { wrap } from 'comlink';
import type { IndexSpec } from '../core/types';
import { checkBatchSize, DEFAULT_BATCH_SIZE } from './batchSize';
import { CachedTableClient } from './CachedTableClient';
import { newConnection, type TableEndpoint } from './endpoint';
import type { TableSessionApi } from './protocol';

/** Options of {@link connectCachedTable}. */
export interface ConnectOptions {
  /**
   * Records per message for `getRecords` and for subscription results. Each
   * message is deserialized on the UI thread in one piece, so keep it well
   * under a frame. Default {@link DEFAULT_BATCH_SIZE} (500).
   */
  batchSize?: number;
}

/**
 * Connects to a `CachedTable` that a worker serves with `exposeCachedTable`,
 * through `endpoint`: a `Worker`, a `SharedWorker`'s `port`, a `MessagePort`,
 * or Node's `worker_threads` `Worker` or `MessagePort`.
 *
 * Returns at once; calls made before the worker listens wait for it (as long
 * as it calls `exposeCachedTable` at the top level of its module). Each
 * connection is separate: closing it ends only its own reads and subscriptions.
 *
 * @throws {TableCacheError} when `batchSize` is not a whole number of at least 1.
 */
export function connectCachedTable<R, S extends IndexSpec = IndexSpec>(
  endpoint: TableEndpoint,
  options: ConnectOptions = {},
): CachedTableClient<R, S> {
  const batchSize = checkBatchSize(options.batchSize ?? DEFAULT_BATCH_SIZE);
  const connection = newConnection();
  endpoint.postMessage(connection.message, connection.transfer as never[]);
  return new CachedTableClient<R, S>(wrap<TableSessionApi<R>>(connection.sessionPort), connection.updatesPort, batchSize);
}
