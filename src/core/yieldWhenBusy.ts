/**
 * Cooperative time slicing for work that runs on promises alone (reads from
 * memory): such work never returns to the event loop by itself, so a loop of
 * reads would keep IndexedDB's events, timers and messages waiting forever.
 */

/** How long promise-only work may hold the event loop before it steps aside. */
const SLICE_MS = 8;

/**
 * The slice of background work that shares the thread with reads (an
 * adjust parsing, scoring and writing 200,000 records): a read that comes
 * in meanwhile waits for this much of it at most, not for a batch.
 */
export const BACKGROUND_SLICE_MS = 2;

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

/**
 * Tells whether the event loop has turned since a probe task was queued.
 * One per kind of work: a probe queued by one kind (an adjust's write)
 * sits behind the tasks queued before it (a read from the page), and must
 * not make the other kind step aside as if it had held the event loop.
 */
export class EventLoopTurns {
  /** When the probe task was queued; `null` when none is queued (the event loop has turned since). */
  private probeQueuedAt: number | null = null;

  /**
   * Resolves at once (returns `undefined`) unless the event loop has not
   * turned for `sliceMs` — a probe task queued that long ago has not run —
   * and then in a later task, after the tasks queued meanwhile. With 0:
   * steps aside whenever the event loop has not turned since the last call.
   * Cheap enough to call per record.
   */
  yieldWhenBusy(sliceMs: number = SLICE_MS): Promise<void> | undefined {
    if (this.probeQueuedAt === null) {
      this.probeQueuedAt = now();
      void nextTask().then(() => (this.probeQueuedAt = null));
      return undefined;
    }
    if (now() - this.probeQueuedAt < sliceMs) return undefined;
    return nextTask();
  }
}

const shared = new EventLoopTurns();

/** {@link EventLoopTurns.yieldWhenBusy} of the work that has no probe of its own (writes, background work). */
export function yieldWhenBusy(sliceMs: number = SLICE_MS): Promise<void> | undefined {
  return shared.yieldWhenBusy(sliceMs);
}
