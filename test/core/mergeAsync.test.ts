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
});
