import { TableCacheError } from '../core/errors';

/** Why a {@link WorkerConnectionError} was thrown. */
export type WorkerConnectionFailure = 'worker-error' | 'worker-exit' | 'timeout';

/**
 * The client could not reach a table: the worker failed before it exposed
 * one (its script could not be loaded, or threw at start-up), a
 * `worker_threads` worker died, or nothing answered within
 * `connectTimeoutMs`. Every pending and later call of the client rejects
 * with it. Made in the client's own thread (it never crosses the boundary).
 */
export class WorkerConnectionError extends TableCacheError {
  override name = 'WorkerConnectionError';
  /**
   * `'worker-error'`: the worker's `error` event fired before it exposed the
   * table (a 404, a syntax error, a throw at start-up; `cause` holds the
   * error when the platform gave one), or a `worker_threads` worker threw an
   * uncaught error; `'worker-exit'`: a `worker_threads` worker exited;
   * `'timeout'`: no table answered within `timeoutMs`.
   */
  readonly reason: WorkerConnectionFailure;
  /** For `'timeout'`: the `connectTimeoutMs` that ran out, in milliseconds. */
  readonly timeoutMs: number | undefined;

  constructor(message: string, details: { reason: WorkerConnectionFailure; timeoutMs?: number | undefined; cause?: unknown }) {
    super(message, 'cause' in details ? { cause: details.cause } : undefined);
    this.reason = details.reason;
    this.timeoutMs = details.timeoutMs;
  }
}
