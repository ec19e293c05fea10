import { describe, expect, it } from 'vitest';
import { ReadAhead } from '../../src/core/readAhead';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A source of `0 … count - 1` that counts what it yields and whether it was closed, failing after `failAfter` items when given. */
function source(count: number, failAfter?: number) {
  const seen = { pulled: 0, closed: false };
  async function* items(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < count; i++) {
        if (i === failAfter) throw new Error('source failed');
        seen.pulled++;
        yield i;
      }
    } finally {
      if (seen.pulled < count) seen.closed = true;
    }
  }
  return { items: items(), seen };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('ReadAhead', () => {
  describe('constructor', () => {
    it('should pull the source before anyone iterates, up to limit items', async () => {
      const { items, seen } = source(100);
      const ahead = new ReadAhead(items, 10);
      await settle();
      expect(seen.pulled).toBe(10);
      expect(await collect(ahead)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    });
  });

  describe('iteration', () => {
    it("should yield the items before the source's error, then reject with it", async () => {
      const { items } = source(10, 3);
      const ahead = new ReadAhead(items, 100);
      await settle();
      const taken: number[] = [];
      await expect(
        (async () => {
          for await (const item of ahead) taken.push(item);
        })(),
      ).rejects.toThrow('source failed');
      expect(taken).toEqual([0, 1, 2]);
    });

    it('should close the source when the loop breaks', async () => {
      const { items, seen } = source(100);
      const ahead = new ReadAhead(items, 5);
      for await (const item of ahead) if (item === 1) break;
      await settle();
      expect(seen.closed).toBe(true);
      expect(seen.pulled).toBeLessThan(100);
    });
  });

  describe('cancel', () => {
    it('should stop pulling and close the source', async () => {
      const { items, seen } = source(100);
      const ahead = new ReadAhead(items, 5);
      await settle();
      ahead.cancel();
      await settle();
      expect(seen.closed).toBe(true);
      expect(seen.pulled).toBeLessThanOrEqual(6);
    });

    it('should leave a source error that nobody takes unreported (no unhandled rejection)', async () => {
      const { items } = source(10, 0);
      const ahead = new ReadAhead(items, 5);
      await settle();
      ahead.cancel();
      await settle();
      expect(await collect(ahead)).toEqual([]);
    });
  });
});
