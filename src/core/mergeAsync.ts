/**
 * Yields the items of several async iterables as each becomes available,
 * pulling from all of them concurrently. Closing the merged iteration (or a
 * failure of one source) closes every source still open.
 */
export async function* mergeAsync<T>(sources: readonly AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((source) => source[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T> }>>();
  const pull = (index: number) => {
    pending.set(
      index,
      (iterators[index] as AsyncIterator<T>).next().then((result) => ({ index, result })),
    );
  };
  iterators.forEach((_, index) => pull(index));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      pull(index);
      yield result.value;
    }
  } finally {
    const open = [...pending.keys()];
    for (const promise of pending.values()) promise.catch(() => undefined);
    await Promise.allSettled(open.map((index) => iterators[index]?.return?.()));
  }
}
