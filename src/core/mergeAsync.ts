/** A settled `next()` of one source of a merge. */
type Settled<T> =
  | { readonly index: number; readonly result: IteratorResult<T>; readonly error?: undefined }
  | { readonly index: number; readonly error: { readonly reason: unknown } };

/**
 * Yields the items of several async iterables as each becomes available,
 * pulling from up to `concurrency` of them at a time (all by default), in
 * the order given as earlier ones finish. Closing the merged iteration (or
 * a failure of one source) closes every source already started. `keep`,
 * when given, sees each item with the position of its source and says
 * whether to yield it.
 *
 * Written by hand rather than as an async generator racing the sources'
 * promises: an item that is at hand costs one resolved promise (async
 * generators cost several per item, and much more in Firefox and WebKit
 * than in Chromium; see docs/engines.md).
 */
export function mergeAsync<T>(
  sources: Iterable<AsyncIterable<T> | (() => AsyncIterable<T>)>,
  concurrency = Infinity,
  keep?: (item: T, source: number) => boolean,
): AsyncIterableIterator<T, undefined> {
  return new MergedIterator(sources, concurrency, keep);
}

const DONE: IteratorResult<never, undefined> = Object.freeze({ value: undefined, done: true });

class MergedIterator<T> implements AsyncIterableIterator<T, undefined> {
  private readonly waiting: Iterator<AsyncIterable<T> | (() => AsyncIterable<T>)>;
  /** The started sources not yet done, by position. */
  private readonly iterators = new Map<number, AsyncIterator<T>>();
  /** Settled `next()`s not yet taken, in the order they settled. */
  private ready: Settled<T>[] = [];
  private head = 0;
  private started = 0;
  private begun = false;
  private finished = false;
  /** Wakes the `next()` waiting for a source to settle. */
  private wake: (() => void) | null = null;
  /** The `next()` under way; later calls wait for it. */
  private pending: Promise<IteratorResult<T, undefined>> | null = null;

  constructor(
    sources: Iterable<AsyncIterable<T> | (() => AsyncIterable<T>)>,
    private readonly concurrency: number,
    private readonly keep: ((item: T, source: number) => boolean) | undefined,
  ) {
    this.waiting = sources[Symbol.iterator]();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.pending) {
      const after = () => this.next();
      return this.pending.then(after, after);
    }
    if (this.finished) return Promise.resolve(DONE);
    if (!this.begun) {
      this.begun = true;
      try {
        this.startMore();
      } catch (error) {
        return this.fail(error);
      }
    }
    // The fast path: an item already at hand.
    const now = this.take();
    if (now !== null) return now;
    const pending = this.waitAndTake();
    this.pending = pending;
    void pending.then(
      () => (this.pending = null),
      () => (this.pending = null),
    );
    return pending;
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    if (this.finished) return DONE;
    await this.closeAll();
    return DONE;
  }

  /** The next item to yield from what has settled, the end, a failure, or `null` when nothing is at hand. */
  private take(): Promise<IteratorResult<T, undefined>> | null {
    while (this.head < this.ready.length) {
      const settled = this.ready[this.head] as Settled<T>;
      this.ready[this.head++] = undefined as unknown as Settled<T>;
      if (this.head === this.ready.length) {
        this.ready = [];
        this.head = 0;
      }
      if (settled.error) return this.fail(settled.error.reason);
      const { index, result } = settled;
      if (result.done) {
        this.iterators.delete(index);
        try {
          this.startMore();
        } catch (error) {
          return this.fail(error);
        }
        continue;
      }
      this.pull(index);
      if (this.keep) {
        let kept: boolean;
        try {
          kept = this.keep(result.value, index);
        } catch (error) {
          return this.fail(error);
        }
        if (!kept) continue;
      }
      return Promise.resolve({ value: result.value, done: false });
    }
    if (this.iterators.size === 0) {
      this.finished = true;
      return Promise.resolve(DONE);
    }
    return null;
  }

  private async waitAndTake(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      // Closed meanwhile (`return()`): this call ends as the iteration did.
      if (this.finished) return DONE;
      const next = this.take();
      if (next !== null) return next;
    }
  }

  private startMore(): void {
    while (this.iterators.size < this.concurrency) {
      const next = this.waiting.next();
      if (next.done) return;
      const source = typeof next.value === 'function' ? next.value() : next.value;
      const index = this.started++;
      this.iterators.set(index, source[Symbol.asyncIterator]());
      this.pull(index);
    }
  }

  private pull(index: number): void {
    const iterator = this.iterators.get(index) as AsyncIterator<T>;
    const settle = (settled: Settled<T>) => {
      if (this.finished) return;
      this.ready.push(settled);
      const wake = this.wake;
      this.wake = null;
      wake?.();
    };
    let step: Promise<IteratorResult<T>>;
    try {
      step = Promise.resolve(iterator.next());
    } catch (reason) {
      step = Promise.reject(reason);
    }
    step.then(
      (result) => settle({ index, result }),
      (reason: unknown) => settle({ index, error: { reason } }),
    );
  }

  /** Ends the merge with `reason`, once every started source is closed. */
  private async fail(reason: unknown): Promise<never> {
    await this.closeAll();
    throw reason;
  }

  /** Finishes, and closes every started source that is not done. */
  private async closeAll(): Promise<void> {
    this.finished = true;
    this.ready = [];
    this.head = 0;
    const wake = this.wake;
    this.wake = null;
    wake?.();
    const open = [...this.iterators.values()];
    this.iterators.clear();
    await Promise.allSettled(open.map((iterator) => iterator.return?.()));
  }
}
