import { releaseProxy } from 'comlink';
import type { AdjustProgress } from '../core/CachedTableOptions';
import type { ProgressCallback } from './protocol';

/**
 * Runs a load or adjust, handing it a progress listener that forwards to
 * the client's callback (a Comlink proxy, when the client sent one) without
 * waiting for it; releases the callback when the call ends.
 */
export async function forwardProgress<T>(
  onProgress: ProgressCallback | undefined,
  call: (listener: ((progress: AdjustProgress) => void) | undefined) => Promise<T>,
): Promise<T> {
  if (typeof onProgress !== 'function') return call(undefined);
  const remote = onProgress as ProgressCallback & Partial<Record<typeof releaseProxy, () => void>>;
  try {
    return await call((progress) => {
      // Progress is advisory; a client that went away must not fail the call.
      Promise.resolve(remote({ ...progress })).catch(() => {});
    });
  } finally {
    remote[releaseProxy]?.();
  }
}
