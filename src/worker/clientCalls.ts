// How the client turns its calls' options and failures into what crosses the worker boundary, and back.
import { proxy } from 'comlink';
import type { AdjustOptions } from '../core/CachedTableOptions';
import { InvalidSpecError, TableCacheError } from '../core/errors';
import type { SubscribeOptions } from './clientOptions';
import type { CallOptions, ProgressCallback, ReadRequestOptions } from './protocol';

/** The read options the worker takes, without `undefined` fields (they would cross as present). */
export function readRequest(options: SubscribeOptions, call?: CallOptions): ReadRequestOptions | undefined {
  const request = {
    ...(options.staleWhileRevalidate === undefined ? {} : { staleWhileRevalidate: options.staleWhileRevalidate }),
    ...(options.partialWhenOffline === undefined ? {} : { partialWhenOffline: options.partialWhenOffline }),
    ...call,
  };
  return Object.keys(request).length > 0 ? request : undefined;
}

/** What the worker threw, as an `Error` (a non-error value is wrapped in a `TableCacheError`). */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new TableCacheError(`The worker threw a non-error value: ${String(value)}.`, { cause: value });
}

/**
 * `options.onProgress` as a Comlink proxy the worker can call back (`undefined` without one), and `end()`, to call
 * once the call has settled: reports that come later are dropped, so that none follows the call's outcome (one still
 * on its way when an aborted call rejected at once, for instance).
 */
export function progressProxy(options: AdjustOptions): { readonly callback: ProgressCallback | undefined; end(): void } {
  const { onProgress } = options;
  let ended = false;
  const callback = onProgress
    ? proxy((progress: Parameters<ProgressCallback>[0]) => {
        if (!ended) onProgress(progress);
      })
    : undefined;
  return { callback, end: () => (ended = true) };
}

/** A spec that `postMessage` cannot clone (a function, a class instance with private state…) is the caller's bad spec. */
export function asSpecError(error: unknown, method: string): unknown {
  if (typeof DOMException !== 'undefined' && error instanceof DOMException && error.name === 'DataCloneError') {
    return new InvalidSpecError(`${method}: the spec cannot be sent to the worker (it must be plain data): ${error.message}`, {
      cause: error,
    });
  }
  return error;
}
