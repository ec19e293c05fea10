/**
 * Cooperative time slicing for work that runs on promises alone (reads from
 * memory): such work never returns to the event loop by itself, so a loop of
 * reads would keep IndexedDB's events, timers and messages waiting forever.
 */

/** How long promise-only work may hold the event loop before it steps aside. */
const SLICE_MS = 8;

const now = () => performance.now();

/** Resolves in a later task of the event loop (after tasks already queued). */
export const nextTask: () => Promise<void> = (() => {
  // Node's (not in the DOM typings the library builds with).
  const setImmediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  if (typeof setImmediate === 'function') return () => new Promise<void>((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    // A message is a task without the clamping of nested timers; one channel serves every waiter in order.
    const waiting: (() => void)[] = [];
    let channel: MessageChannel | null = null;
    return () =>
      new Promise<void>((resolve) => {
        if (!channel) {
          channel = new MessageChannel();
          channel.port1.onmessage = () => waiting.shift()?.();
        }
        waiting.push(resolve);
        channel.port2.postMessage(null);
      });
  }
  return () => new Promise<void>((resolve) => setTimeout(resolve, 0));
})();

/** When the probe task was queued; `null` when none is queued (the event loop has turned since). */
let probeQueuedAt: number | null = null;

/**
 * Resolves at once (returns `undefined`) unless the event loop has not
 * turned for `sliceMs` — a probe task queued that long ago has not run —
 * and then in a later task, after the tasks queued meanwhile. With 0: steps
 * aside whenever the event loop has not turned since the last call. Cheap
 * enough to call per batch of records.
 */
export function yieldWhenBusy(sliceMs: number = SLICE_MS): Promise<void> | undefined {
  if (probeQueuedAt === null) {
    probeQueuedAt = now();
    void nextTask().then(() => (probeQueuedAt = null));
    return undefined;
  }
  if (now() - probeQueuedAt < sliceMs) return undefined;
  return nextTask();
}
