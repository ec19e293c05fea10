const DONE: IteratorResult<never, undefined> = Object.freeze({ value: undefined, done: true });

/**
 * An async iterator that opens its source on the first `next()` (as an
 * async generator runs its body only then) and passes every call on to it.
 */
export class OpenOnFirstNext<R> implements AsyncIterableIterator<R, undefined> {
  private opening: Promise<AsyncIterator<R, undefined>> | null = null;
  /** The source once open: later calls go to it directly. */
  private iterator: AsyncIterator<R, undefined> | null = null;
  private left = false;

  constructor(private readonly open: () => Promise<AsyncIterator<R, undefined>>) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<R, undefined>> {
    if (this.iterator) return this.iterator.next();
    if (this.left) return Promise.resolve(DONE);
    this.opening ??= this.open().then(
      (iterator) => (this.iterator = iterator),
      (error: unknown) => {
        this.left = true;
        throw error;
      },
    );
    return this.opening.then((iterator) => iterator.next());
  }

  async return(): Promise<IteratorResult<R, undefined>> {
    this.left = true;
    if (!this.opening) return DONE;
    const iterator = await this.opening.catch(() => null);
    await iterator?.return?.();
    return DONE;
  }
}
