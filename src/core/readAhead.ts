/**
 * `source`, pulled from now on into a queue of up to `limit` items whether
 * or not anyone iterates yet, so that a fetch makes progress while its
 * consumer waits for something else (a lock, another read).
 *
 * Iterate it once. Its iteration yields the source's items in order and
 * rejects with the source's error once the items before it are taken.
 * `cancel()` stops pulling and closes the source (call it when the items
 * will not be taken, e.g. on failure); breaking out of the iteration does
 * the same; a cancelled one yields nothing more. A source error that
 * nobody takes is not an unhandled rejection.
 */
export class ReadAhead<T> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private head = 0;
  private finished = false;
  private failure: { readonly reason: unknown } | null = null;
  private cancelled = false;
  /** Wakes the consumer waiting for an item or the end. */
  private itemReady: (() => void) | null = null;
  /** Wakes the pump waiting for room in the queue. */
  private roomReady: (() => void) | null = null;
  private readonly iterator: AsyncIterator<T>;
  /** Resolves once the source is done, has failed, or was cancelled (never rejects). */
  readonly settled: Promise<void>;

  /** @param observer sees each item as it is pulled, and the source's end (not its failure or a cancel). */
  constructor(
    source: AsyncIterable<T>,
    private readonly limit: number,
    private readonly observer?: { item(item: T): void; end(): void },
  ) {
    this.iterator = source[Symbol.asyncIterator]();
    this.settled = this.pump();
  }

  /** Stops pulling and closes the source (its pending pull settles first). */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.queue.length = 0;
    this.head = 0;
    this.wakeRoom();
    if (!this.finished) {
      // Not awaited: a source stuck in its own await only settles its return() once that await does.
      void Promise.resolve(this.iterator.return?.()).catch(() => undefined);
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      for (;;) {
        if (this.head < this.queue.length) {
          const item = this.queue[this.head] as T;
          this.queue[this.head++] = undefined as T;
          if (this.head === this.queue.length) {
            this.queue.length = 0;
            this.head = 0;
          }
          this.wakeRoom();
          yield item;
          continue;
        }
        if (this.cancelled) return;
        if (this.failure) throw this.failure.reason;
        if (this.finished) return;
        await new Promise<void>((resolve) => (this.itemReady = resolve));
      }
    } finally {
      if (!this.finished) this.cancel();
    }
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        while (this.queue.length - this.head >= this.limit && !this.cancelled) {
          await new Promise<void>((resolve) => (this.roomReady = resolve));
        }
        if (this.cancelled) return;
        const step = await this.iterator.next();
        if (step.done) {
          this.observer?.end();
          break;
        }
        if (this.cancelled) return;
        this.observer?.item(step.value);
        this.queue.push(step.value);
        this.wakeItem();
      }
    } catch (error) {
      if (!this.cancelled) this.failure = { reason: error };
    }
    this.finished = true;
    this.wakeItem();
  }

  private wakeItem(): void {
    const wake = this.itemReady;
    this.itemReady = null;
    wake?.();
  }

  private wakeRoom(): void {
    const wake = this.roomReady;
    this.roomReady = null;
    wake?.();
  }
}
