// Async iterators written by hand, for the per-record paths of reads: an item at hand costs one resolved promise,
// where an async generator costs several per level (Firefox, 10,000 items: through one async generator 62–76 ms,
// three nested 132–142 ms, a hand-written iterator 19–21 ms; see docs/engines.md).

/** Where a {@link BatchIterator} gets its next batches, and how it closes the read early. */
export interface BatchSource<R> {
  /** The next batch (`done`: the last one). Rejects with the read's error, after closing the read when that is needed. */
  next(): Promise<{ readonly records: readonly R[]; readonly done: boolean }>;
  /** Closes the read, which the loop left before its end; resolves once closed. */
  close(): Promise<void>;
  /** Called at the first `next()` (e.g. to ask for batches ahead), as an async generator's body starts then. */
  start?(): void;
}

const DONE: IteratorResult<never, undefined> = Object.freeze({ value: undefined, done: true });

/**
 * The records of a read that arrives in batches, one by one. Leaving a
 * loop early (`return()`) closes the read; `next()` calls are served in
 * order.
 */
export class BatchIterator<R> implements AsyncIterableIterator<R, undefined> {
  private records: readonly R[];
  private index = 0;
  /** The batch at hand is the read's last. */
  private last: boolean;
  /** Nothing more is yielded: the last record was taken, the read failed, or the loop was left. */
  private finished = false;
  /** The fetch of the next batch under way; later `next()` calls wait for it. */
  private pending: Promise<IteratorResult<R, undefined>> | null = null;
  private started = false;

  constructor(
    first: readonly R[],
    firstIsLast: boolean,
    private readonly source: BatchSource<R>,
  ) {
    this.records = first;
    this.last = firstIsLast;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<R, undefined>> {
    if (this.pending) {
      const after = () => this.next();
      return this.pending.then(after, after);
    }
    if (!this.started) {
      this.started = true;
      if (!this.finished) this.source.start?.();
    }
    if (this.index < this.records.length) return Promise.resolve({ value: this.records[this.index++] as R, done: false });
    if (this.finished || this.last) {
      this.finished = true;
      return Promise.resolve(DONE);
    }
    const pending = this.fetch();
    this.pending = pending;
    void pending.then(
      () => (this.pending = null),
      () => (this.pending = null),
    );
    return pending;
  }

  async return(): Promise<IteratorResult<R, undefined>> {
    if (this.finished) return DONE;
    this.finished = true;
    this.records = [];
    this.index = 0;
    if (!this.last) await this.source.close();
    return DONE;
  }

  /** Fetches batches until one has a record (or the read ends); the read's error ends the iteration. */
  private async fetch(): Promise<IteratorResult<R, undefined>> {
    for (;;) {
      let batch: { readonly records: readonly R[]; readonly done: boolean };
      try {
        batch = await this.source.next();
      } catch (error) {
        this.finished = true;
        throw error;
      }
      if (this.finished) return DONE;
      this.records = batch.records;
      this.index = 0;
      this.last = batch.done;
      if (this.records.length > 0) return { value: this.records[this.index++] as R, done: false };
      if (this.last) {
        this.finished = true;
        return DONE;
      }
    }
  }
}

/** The records of an array, one by one, as a read's records (a `BatchIterator` of one last batch). */
export function recordsOf<R>(records: readonly R[]): AsyncIterableIterator<R, undefined> {
  return new BatchIterator(records, true, NO_MORE);
}

/**
 * The records of `records` that `keep` accepts, in order. Hand-written (not
 * an async generator): it sits on every record of a load, adjust or
 * refresh, and a generator's `yield` costs a few promises a record more.
 * When `keep` throws, `records` is closed and the iteration rejects with
 * that error.
 */
export function keptRecords<R>(records: AsyncIterable<R>, keep: (record: R) => boolean): AsyncIterableIterator<R, undefined> {
  const source = records[Symbol.asyncIterator]();
  const step = (result: IteratorResult<R>): IteratorResult<R, undefined> | Promise<IteratorResult<R, undefined>> => {
    if (result.done) return DONE;
    let kept: boolean;
    try {
      kept = keep(result.value);
    } catch (error) {
      const fail = () => Promise.reject(error as Error);
      return Promise.resolve(source.return?.()).then(fail, fail);
    }
    return kept ? result : source.next().then(step);
  };
  const iterator: AsyncIterableIterator<R, undefined> = {
    next: () => source.next().then(step),
    return: async () => {
      await source.return?.();
      return DONE;
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

/** The source of an iterator whose first batch is its last: never asked. */
const NO_MORE: BatchSource<never> = {
  next: () => Promise.reject(new Error('no batch after the last')),
  close: () => Promise.resolve(),
};

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
