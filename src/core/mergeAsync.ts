/**
 * Yields the items of several async iterables as each becomes available,
 * pulling from up to `concurrency` of them at a time (all by default), in
 * the order given as earlier ones finish. Closing the merged iteration (or
 * a failure of one source) closes every source already started.
 */
export async function* mergeAsync<T>(
  sources: Iterable<AsyncIterable<T> | (() => AsyncIterable<T>)>,
  concurrency = Infinity,
): AsyncGenerator<T> {
  const waiting = sources[Symbol.iterator]();
  const iterators = new Map<number, AsyncIterator<T>>();
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T> }>>();
  let started = 0;
  const pull = (index: number) => {
    pending.set(
      index,
      (iterators.get(index) as AsyncIterator<T>).next().then((result) => ({ index, result })),
    );
  };
  const startMore = () => {
    while (iterators.size < concurrency) {
      const next = waiting.next();
      if (next.done) return;
      const source = typeof next.value === 'function' ? next.value() : next.value;
      const index = started++;
      iterators.set(index, source[Symbol.asyncIterator]());
      pull(index);
    }
  };
  try {
    startMore();
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        iterators.delete(index);
        startMore();
        continue;
      }
      pull(index);
      yield result.value;
    }
  } finally {
    for (const promise of pending.values()) promise.catch(() => undefined);
    await Promise.allSettled([...pending.keys()].map((index) => iterators.get(index)?.return?.()));
  }
}
