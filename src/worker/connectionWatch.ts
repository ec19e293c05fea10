import { TableCacheError } from '../core/errors';
import { WorkerConnectionError } from './WorkerConnectionError';

/**
 * Default of `connectTimeoutMs`: how long a client waits for the worker to
 * expose the table before its calls reject. Long enough for a worker
 * module to load on a slow connection; a worker that exposes its table at
 * top level answers within milliseconds of loading.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

/** The largest delay `setTimeout` honours (a longer one fires at once). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A connection being watched until the worker says it is served. */
export interface ConnectionWatch {
  /** The worker has answered the connect request: stop the timer and stop taking its `error` events as a failure to start. */
  connected(): void;
  /** The client has closed: stop watching altogether. */
  stop(): void;
}

/** Starts watching a connection; `onFailure` is called at most once. */
export type StartConnectionWatch = (onFailure: (error: WorkerConnectionError) => void) => ConnectionWatch;

/**
 * `connectTimeoutMs` checked: a number of milliseconds from 0 (no timeout)
 * to 2^31−1, or `Infinity` (no timeout).
 * @throws {TableCacheError} otherwise.
 */
export function checkConnectTimeout(timeoutMs: number): number {
  if (timeoutMs === Infinity || (typeof timeoutMs === 'number' && timeoutMs >= 0 && timeoutMs <= MAX_TIMEOUT_MS)) return timeoutMs;
  throw new TableCacheError(
    `connectTimeoutMs must be a number of milliseconds from 0 (no timeout) to ${MAX_TIMEOUT_MS}, or Infinity; got ${String(timeoutMs)}.`,
  );
}

interface DomErrorSource {
  addEventListener(type: 'error', listener: (event: Event) => void): void;
  removeEventListener(type: 'error', listener: (event: Event) => void): void;
}

/** Node's `worker_threads` `Worker`: it emits `error` (an uncaught error, after which it exits) and `exit`. */
interface NodeWorker {
  readonly threadId: number;
  on(type: 'error' | 'exit', listener: (value: unknown) => void): unknown;
  off(type: 'error' | 'exit', listener: (value: unknown) => void): unknown;
}

function isNodeWorker(source: object): source is NodeWorker {
  const candidate = source as Partial<NodeWorker>;
  return typeof candidate.threadId === 'number' && typeof candidate.on === 'function' && typeof candidate.off === 'function';
}

function isDomErrorSource(source: object): source is DomErrorSource {
  return typeof (source as Partial<DomErrorSource>).addEventListener === 'function';
}

function startFailure(event: Event): WorkerConnectionError {
  const { message, filename, lineno, error } = event as Partial<ErrorEvent>;
  const where = filename ? ` (${filename}${lineno ? `:${lineno}` : ''})` : '';
  const what = message
    ? `it threw at start-up: ${message}${where}`
    : 'its script could not be loaded or evaluated (not found, not a module, a syntax error, or blocked); see the browser console';
  return new WorkerConnectionError(`The worker failed before it exposed the table: ${what}.`, {
    reason: 'worker-error',
    ...(error !== undefined ? { cause: error } : {}),
  });
}

/**
 * Watches the connection to `source` (a `Worker`, a `SharedWorker`, Node's
 * `Worker`, or a `MessagePort`, which has no such events): it fails on the
 * worker's `error` event before the worker has answered, on a Node worker's
 * `error` or `exit` at any time (its calls would never be answered), and
 * when `timeoutMs` pass without an answer (`0` or `Infinity`: never).
 */
export function watchConnection(source: unknown, timeoutMs: number): StartConnectionWatch {
  return (onFailure) => {
    let done = false;
    const stops: (() => void)[] = [];
    const stop = () => {
      for (const each of stops.splice(0)) each();
    };
    const fail = (error: WorkerConnectionError) => {
      if (done) return;
      done = true;
      stop();
      onFailure(error);
    };
    let connected = () => {};
    if (typeof source === 'object' && source !== null) {
      if (isNodeWorker(source)) {
        const onError = (error: unknown) =>
          fail(
            new WorkerConnectionError(`The worker thread threw an uncaught error and stopped: ${String(error)}`, {
              reason: 'worker-error',
              cause: error,
            }),
          );
        const onExit = (code: unknown) =>
          fail(
            new WorkerConnectionError(`The worker thread exited (exit code ${String(code)}): the table is no longer served.`, {
              reason: 'worker-exit',
            }),
          );
        source.on('error', onError);
        source.on('exit', onExit);
        stops.push(() => {
          source.off('error', onError);
          source.off('exit', onExit);
        });
      } else if (isDomErrorSource(source)) {
        // After the worker has answered, its `error` events are errors of its own code, which it survives.
        const onError = (event: Event) => fail(startFailure(event));
        source.addEventListener('error', onError);
        const removeListener = () => source.removeEventListener('error', onError);
        stops.push(removeListener);
        connected = removeListener;
      }
    }
    if (timeoutMs > 0 && timeoutMs !== Infinity) {
      const timer = setTimeout(
        () =>
          fail(
            new WorkerConnectionError(
              `The worker did not expose the table within ${timeoutMs} ms: its module must call exposeCachedTable (or exposeSharedCachedTable) at top level, with the same version of the library. Raise connectTimeoutMs if the worker loads slowly.`,
              { reason: 'timeout', timeoutMs },
            ),
          ),
        timeoutMs,
      );
      // In Node, a client left waiting must not keep the process alive.
      (timer as { unref?: () => void }).unref?.();
      stops.push(() => clearTimeout(timer));
      const beforeTimer = connected;
      connected = () => {
        clearTimeout(timer);
        beforeTimer();
      };
    }
    return {
      connected: () => {
        if (!done) connected();
      },
      stop: () => {
        done = true;
        stop();
      },
    };
  };
}
