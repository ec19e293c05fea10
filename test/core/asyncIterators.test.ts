import { describe, expect, it } from 'vitest';
import { BatchIterator, keptRecords, OpenOnFirstNext, recordsOf, type BatchSource } from '../../src/core/asyncIterators';

/** A source of the given batches after the first, counting its calls; `fail` makes the next call reject. */
function source(batches: { records: number[]; done: boolean }[]) {
  const calls = { next: 0, close: 0 };
  let fail: Error | null = null;
  const it: BatchSource<number> = {
    next: async () => {
      calls.next++;
      if (fail) throw fail;
      const batch = batches.shift();
      if (!batch) throw new Error('asked past the last batch');
      return batch;
    },
    close: async () => {
      calls.close++;
    },
  };
  return { it, calls, failWith: (error: Error) => (fail = error) };
}

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('BatchIterator', () => {
  it('should yield the records of every batch in order, empty batches included, and not close a read that ended', async () => {
    const { it: batches, calls } = source([
      { records: [3, 4], done: false },
      { records: [], done: false },
      { records: [5], done: true },
    ]);
    const iterator = new BatchIterator([1, 2], false, batches);
    expect(await all(iterator)).toEqual([1, 2, 3, 4, 5]);
    expect(calls).toEqual({ next: 3, close: 0 });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('should start its source at the first next(), once, and not when the loop is left before it', async () => {
    let starts = 0;
    const { it: batches, calls } = source([{ records: [2], done: true }]);
    const iterator = new BatchIterator([1], false, { ...batches, start: () => starts++ });
    expect(starts).toBe(0);
    expect(await all(iterator)).toEqual([1, 2]);
    expect(starts).toBe(1);
    const left = new BatchIterator([1], false, { ...batches, start: () => starts++ });
    await left.return();
    expect(starts).toBe(1);
    expect(calls.close).toBe(1);
  });

  it('should ask for nothing when the first batch is the last', async () => {
    const { it: batches, calls } = source([]);
    expect(await all(new BatchIterator([1], true, batches))).toEqual([1]);
    expect(calls).toEqual({ next: 0, close: 0 });
  });

  it('should serve next() calls made without waiting in order', async () => {
    const { it: batches } = source([
      { records: [2], done: false },
      { records: [3], done: true },
    ]);
    const iterator = new BatchIterator([1], false, batches);
    const results = await Promise.all([iterator.next(), iterator.next(), iterator.next(), iterator.next()]);
    expect(results).toEqual([
      { value: 1, done: false },
      { value: 2, done: false },
      { value: 3, done: false },
      { value: undefined, done: true },
    ]);
  });

  it('should close the read once when the loop is left early, and yield nothing more', async () => {
    const { it: batches, calls } = source([{ records: [3, 4], done: false }]);
    const iterator = new BatchIterator([1, 2], false, batches);
    const seen: number[] = [];
    for await (const record of iterator) {
      seen.push(record);
      if (record === 3) break;
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(calls.close).toBe(1);
    await iterator.return();
    expect(calls.close).toBe(1);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('should end with the read’s error, after the records before it', async () => {
    const { it: batches, failWith } = source([]);
    failWith(new Error('the worker is gone'));
    const iterator = new BatchIterator([1], false, batches);
    expect(await iterator.next()).toEqual({ value: 1, done: false });
    await expect(iterator.next()).rejects.toThrow('the worker is gone');
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});

describe('OpenOnFirstNext', () => {
  it('should open its source on the first next(), not before, and pass the calls on', async () => {
    let opened = 0;
    const iterator = new OpenOnFirstNext(async () => {
      opened++;
      return new BatchIterator([1, 2], true, source([]).it);
    });
    expect(opened).toBe(0);
    expect(await all(iterator)).toEqual([1, 2]);
    expect(opened).toBe(1);
  });

  it('should pass return() on to the opened source, and not open one that was never opened', async () => {
    const { it: batches, calls } = source([{ records: [3], done: true }]);
    let opened = 0;
    const iterator = new OpenOnFirstNext(async () => {
      opened++;
      return new BatchIterator([1, 2], false, batches);
    });
    for await (const record of iterator) if (record === 1) break;
    expect(calls.close).toBe(1);
    const never = new OpenOnFirstNext<number>(async () => {
      opened++;
      return new BatchIterator([], true, source([]).it);
    });
    await never.return();
    expect(await never.next()).toEqual({ value: undefined, done: true });
    expect(opened).toBe(1);
  });

  it('should reject with the opening’s error, then be done', async () => {
    const iterator = new OpenOnFirstNext<number>(async () => {
      throw new Error('bad spec');
    });
    await expect(iterator.next()).rejects.toThrow('bad spec');
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});

describe('recordsOf', () => {
  it('should yield the records of an array, then be done, and leave early without asking for more', async () => {
    expect(await all(recordsOf([1, 2, 3]))).toEqual([1, 2, 3]);
    const left = recordsOf([1, 2, 3]);
    expect(await left.next()).toEqual({ value: 1, done: false });
    expect(await left.return?.()).toEqual({ value: undefined, done: true });
    expect(await left.next()).toEqual({ value: undefined, done: true });
  });
});

describe('keptRecords', () => {
  async function* numbers(count: number, closed: { done: boolean }) {
    try {
      for (let i = 0; i < count; i++) yield i;
    } finally {
      closed.done = true;
    }
  }

  it('should hand out the records keep accepts, in order, past long runs of rejected ones', async () => {
    const closed = { done: false };
    const kept: number[] = [];
    for await (const n of keptRecords(numbers(20_000, closed), (n) => n % 10_000 === 9_999 || n === 3)) kept.push(n);
    expect(kept).toEqual([3, 9_999, 19_999]);
    expect(closed.done).toBe(true);
  });

  it('should close the source and reject with the error when keep throws', async () => {
    const closed = { done: false };
    const failure = new Error('keep failed');
    const taken: number[] = [];
    const records = keptRecords(numbers(10, closed), (n) => {
      if (n === 4) throw failure;
      return n % 2 === 0;
    });
    await expect(
      (async () => {
        for await (const n of records) taken.push(n);
      })(),
    ).rejects.toBe(failure);
    expect(taken).toEqual([0, 2]);
    expect(closed.done).toBe(true);
  });
});
