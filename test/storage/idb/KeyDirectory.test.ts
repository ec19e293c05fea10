import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextTask } from '../../../src/core/yieldWhenBusy';
import { KeyDirectory } from '../../../src/storage/idb/KeyDirectory';

describe('KeyDirectory', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function directory(): KeyDirectory {
    const keys = new KeyDirectory();
    keys.setCommitted(1, 10);
    keys.setCommitted(2, 10);
    keys.setCommitted(3, 11);
    return keys;
  }

  describe('staged', () => {
    it('should see the staged moves and removals over the committed pages, which stay as they were', () => {
      const keys = directory();
      keys.setStaged(1, 12);
      keys.setStaged(2, undefined);
      keys.setStaged(4, 12);
      expect([1, 2, 3, 4].map((key) => keys.staged(key))).toEqual([12, undefined, 11, 12]);
      expect([1, 2, 3, 4].map((key) => keys.committed(key))).toEqual([10, 10, 11, undefined]);
    });
  });

  describe('merge', () => {
    it('should make the staged pages the committed ones at once, before any folding', () => {
      vi.useFakeTimers();
      const keys = directory();
      keys.setStaged(1, 12);
      keys.setStaged(2, undefined);
      keys.setStaged(4, 12);
      keys.merge();
      expect(keys.pendingLayers).toBe(1);
      expect([1, 2, 3, 4].map((key) => keys.committed(key))).toEqual([12, undefined, 11, 12]);
      expect([1, 2, 3, 4].map((key) => keys.staged(key))).toEqual([12, undefined, 11, 12]);
    });

    it('should fold the merged layers into the committed map in the background, the newest winning', async () => {
      const keys = directory();
      for (let key = 0; key < 50_000; key++) keys.setStaged(key, 20);
      keys.merge();
      keys.setStaged(1, 21);
      keys.setStaged(3, undefined);
      keys.merge();
      expect(keys.pendingLayers).toBe(2);
      await vi.waitFor(() => expect(keys.pendingLayers).toBe(0));
      expect([0, 1, 2, 3, 49_999, 50_000].map((key) => keys.committed(key))).toEqual([20, 21, 20, undefined, 20, undefined]);
    });

    it('should fold in slices of the thread, letting tasks queued meanwhile run before it is done', async () => {
      const keys = directory();
      for (let key = 0; key < 300_000; key++) keys.setStaged(key, 20);
      keys.merge();
      let queuedRan = false;
      void nextTask()
        .then(() => nextTask())
        .then(() => (queuedRan = true));
      await vi.waitFor(() => expect(queuedRan).toBe(true));
      expect(keys.pendingLayers).toBe(1);
      await vi.waitFor(() => expect(keys.pendingLayers).toBe(0));
      expect([0, 299_999, 300_000].map((key) => keys.committed(key))).toEqual([20, 20, undefined]);
    });

    it('should keep a committed write made between a merge and its folding over the merged layer', () => {
      vi.useFakeTimers();
      const keys = directory();
      keys.setStaged(1, 12);
      keys.merge();
      keys.setCommitted(1, 13);
      keys.setCommitted(3, undefined);
      expect([keys.committed(1), keys.committed(3)]).toEqual([13, undefined]);
      keys.foldAll();
      expect([keys.committed(1), keys.committed(2), keys.committed(3)]).toEqual([13, 10, undefined]);
    });
  });

  describe('abort', () => {
    it('should drop the staged pages and keep the committed ones', () => {
      const keys = directory();
      keys.setStaged(1, 12);
      keys.abort();
      expect(keys.staged(1)).toBe(10);
      keys.merge();
      expect(keys.pendingLayers).toBe(0);
    });
  });

  describe('clear', () => {
    it('should forget the committed map, the merged layers and the staged pages', () => {
      vi.useFakeTimers();
      const keys = directory();
      keys.setStaged(5, 12);
      keys.merge();
      keys.setStaged(6, 12);
      keys.clear();
      expect([1, 5, 6].map((key) => keys.staged(key))).toEqual([undefined, undefined, undefined]);
      expect(keys.pendingLayers).toBe(0);
    });
  });
});
