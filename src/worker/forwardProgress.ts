import { releaseProxy } from 'comlink';
import type { AdjustProgress } from '../core/CachedTableOptions';
import type { ProgressCallback } from './protocol';

/**
 * Runs a load or adjust, handing it a progress listener that forwards to
 * the client's callback (a Comlink proxy, when the client sent one) without
 * making the call wait for it. The call's outcome is returned only once the
 * client has taken every progress report: reports travel on the callback's
 * own port, and one that arrived after the answer would undo what the app
 * showed for it (a progress bar back on a finished adjust). Releases the
 * callback when the call ends.
 */
export async function forwardProgress<T>(
  onProgress: ProgressCallback | undefined,
  call: (listener: ((progress: AdjustProgress) => void) | undefined) => Promise<T>,
): Promise<T> {
  if (typeof onProgress !== 'function') return call(undefined);
  const remote = onProgress as ProgressCallback & Partial<Record<typeof releaseProxy, () => void>>;
  // The callback's port delivers in order: once the last report is taken, every earlier one is.
  let delivered: Promise<unknown> = Promise.resolve();
  try {
    return await call((progress) => {
      // Progress is advisory; a client that went away must not fail the call.
      delivered = Promise.resolve(remote({ ...progress })).catch(() => {});
    });
  } finally {
    await delivered;
    remote[releaseProxy]?.();
  }
}
