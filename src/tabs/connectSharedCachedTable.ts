import { wrap } from 'comlink';
import { TableCacheError } from '../core/errors';
import type { IndexSpec } from '../core/types';
import { checkBatchSize, DEFAULT_BATCH_SIZE } from '../worker/batchSize';
import { checkConnectTimeout, DEFAULT_CONNECT_TIMEOUT_MS, watchConnection } from '../worker/connectionWatch';
import type { SharedConnectMessage } from './broadcastProtocol';
import type { ConnectOptions } from '../worker/connectCachedTable';
import { newConnection } from '../worker/endpoint';
import type { TableSessionApi } from '../worker/protocol';
import { SharedCachedTableClient, type SharedTableMode } from './SharedCachedTableClient';
import { holdPageLock } from '../worker/pageLock';

/** Options of {@link connectSharedCachedTable}. */
export interface ConnectSharedOptions extends ConnectOptions {
  /**
   * Makes the app's shared worker, whose module calls
   * `exposeSharedCachedTable`: `() => new SharedWorker(new URL('./table.worker.ts',
   * import.meta.url), { type: 'module', name: 'table' })`. Only the app's own
   * code can have its bundler build the worker, hence a factory. Called once.
   */
  sharedWorker?: (() => SharedWorker) | undefined;
  /**
   * Makes this tab's dedicated worker, whose module calls
   * `exposeSharedCachedTable` (it may be the same module as the shared
   * worker's): `() => new Worker(new URL('./table.worker.ts', import.meta.url),
   * { type: 'module' })`. Used where `SharedWorker` is missing (Chrome on
   * Android, older Safari) or in `'web-locks'` mode. Called once.
   */
  worker?: (() => Worker) | undefined;
  /**
   * `'auto'` (the default): a shared worker where the browser has
   * `SharedWorker` and `sharedWorker` is given, otherwise this tab's own
   * worker with the Web Locks election. `'shared-worker'` and `'web-locks'`
   * force one (tests, or an app that knows better).
   */
  mode?: 'auto' | SharedTableMode | undefined;
}

function chooseMode(options: ConnectSharedOptions): SharedTableMode {
  const mode = options.mode ?? 'auto';
  if (mode !== 'auto') return mode;
  return typeof SharedWorker !== 'undefined' && options.sharedWorker ? 'shared-worker' : 'web-locks';
}

/**
 * Connects this tab to a `CachedTable` shared by every tab of the app (see
 * `exposeSharedCachedTable`): through one `SharedWorker` where the browser
 * has it, otherwise through this tab's own worker, which forwards to the
 * tab that owns the table (Web Locks election).
 *
 * Returns at once with a client that has the methods of
 * `connectCachedTable`'s, and says which `mode` it chose. An adjust or
 * invalidation made in any tab updates the subscriptions of every tab.
 * Start with `resume()`: across tabs it resolves when another tab has
 * loaded the table already; fall back to `load()` when it rejects.
 *
 * When the worker cannot serve the connection (its script is missing or
 * threw at start-up: the worker's `error` event; or no answer within
 * `connectTimeoutMs`), every pending and later call rejects with a
 * `WorkerConnectionError`, as with `connectCachedTable`.
 *
 * @throws {TableCacheError} when the factory the mode needs is missing,
 * `batchSize` is not a whole number of at least 1, or `connectTimeoutMs` is
 * not a number of milliseconds from 0.
 */
export function connectSharedCachedTable<R, S extends IndexSpec = IndexSpec>(options: ConnectSharedOptions): SharedCachedTableClient<R, S> {
  const batchSize = checkBatchSize(options.batchSize ?? DEFAULT_BATCH_SIZE);
  const timeoutMs = checkConnectTimeout(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const mode = chooseMode(options);
  const factory = mode === 'shared-worker' ? options.sharedWorker : options.worker;
  if (!factory) {
    throw new TableCacheError(
      `connectSharedCachedTable in '${mode}' mode needs the ${mode === 'shared-worker' ? 'sharedWorker' : 'worker'} option (a function that makes the worker).`,
    );
  }
  const { message, transfer, sessionPort, updatesPort } = newConnection();
  let worker: Worker | SharedWorker;
  if (mode === 'shared-worker') {
    const shared = (factory as () => SharedWorker)();
    worker = shared;
    // Calls made meanwhile wait in the session channel until the worker receives its port.
    void holdPageLock().then((lock) =>
      shared.port.postMessage(lock ? ({ ...message, pageLock: lock } satisfies SharedConnectMessage) : message, transfer),
    );
  } else {
    // A dedicated worker lives and dies with this page: there is no page to watch.
    const dedicated = (factory as () => Worker)();
    worker = dedicated;
    dedicated.postMessage(message, transfer);
  }
  return new SharedCachedTableClient<R, S>(
    wrap<TableSessionApi<R>>(sessionPort),
    updatesPort,
    batchSize,
    mode,
    worker,
    watchConnection(worker, timeoutMs),
  );
}
