import { describe, expect, it } from 'vitest';
import { mergeAsync } from '../../src/core/mergeAsync';
import { collect } from '../support/records';

/** An async iterable of `items` that records when it starts and whether it was closed. */
function source(name: string, items: number[], log: string[]) {
  return async function* () {
    log.push(`start ${name}`);
    try {
      for (const item of items) {
        await Promise.resolve();
        yield item;
      }
      log.push(`end ${name}`);
    } finally {
      log.push(`finally ${name}`);
    }
  };
}

describe('mergeAsync', () => {
  it('should yield every item of every source exactly once', async () => {
    const log: string[] = [];
    const items = await collect(mergeAsync([source('a', [1, 2, 3], log), source('b', [4, 5], log), source('c', [], log)]));
    expect(items.sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('should interleave sources that run at once', async () => {
    const log: string[] = [];
    const items = await collect(mergeAsync([source('a', [1, 2, 3], log), source('b', [10, 20, 30], log)]));
    expect(items.indexOf(10)).toBeLessThan(items.indexOf(3));
  });

  it('should start at most `concurrency` sources, the next as one finishes', async () => {
    const log: string[] = [];
    await collect(mergeAsync([source('a', [1], log), source('b', [2], log), source('c', [3], log)], 1));
    expect(log).toEqual(['start a', 'end a', 'finally a', 'start b', 'end b', 'finally b', 'start c', 'end c', 'finally c']);
  });

  it('should close the started sources when the loop is left early, and never start the others', async () => {
    const log: string[] = [];
    for await (const item of mergeAsync([source('a', [1, 2], log), source('b', [3, 4], log), source('c', [5], log)], 2)) {
      expect(item).toBeGreaterThan(0);
      break;
    }
    expect(log.filter((line) => line.startsWith('finally')).sort()).toEqual(['finally a', 'finally b']);
    expect(log).not.toContain('start c');
  });

  it('should reject with a source failure and close the others', async () => {
    const log: string[] = [];
    const failing = async function* () {
      yield 1;
      throw new Error('broken source');
    };
    await expect(collect(mergeAsync([failing, source('b', [2, 3, 4, 5], log)]))).rejects.toThrow('broken source');
    expect(log).toContain('finally b');
  });

  it('should end a next() that waits when the merge is closed meanwhile, and close the sources', async () => {
    const log: string[] = [];
    let release!: () => void;
    const slow = async function* () {
      try {
        await new Promise<void>((resolve) => (release = resolve));
        yield 1;
      } finally {
        log.push('finally slow');
      }
    };
    const merged = mergeAsync([slow]);
    const waiting = merged.next();
    await Promise.resolve();
    const closing = merged.return?.();
    release();
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
    await closing;
    expect(log).toContain('finally slow');
    expect(await merged.next()).toEqual({ value: undefined, done: true });
  });

  it('should reject with the error of keep and close every source', async () => {
    const log: string[] = [];
    const merged = mergeAsync([source('a', [1, 2, 3], log), source('b', [4, 5, 6], log)], Infinity, (item) => {
      if (item === 2) throw new Error('bad item');
      return true;
    });
    await expect(collect(merged)).rejects.toThrow('bad item');
    expect(log.filter((line) => line.startsWith('finally')).sort()).toEqual(['finally a', 'finally b']);
  });

  it('should yield only what keep keeps, telling it each item’s source', async () => {
    const seen: [number, number][] = [];
    const items = await collect(
      mergeAsync([source('a', [1, 2], []), source('b', [3, 4], [])], Infinity, (item, from) => {
        seen.push([item, from]);
        return item % 2 === 0;
      }),
    );
    expect(items.sort()).toEqual([2, 4]);
    expect(seen.sort((x, y) => x[0] - y[0])).toEqual([
      [1, 0],
      [2, 0],
      [3, 1],
      [4, 1],
    ]);
  });
});
