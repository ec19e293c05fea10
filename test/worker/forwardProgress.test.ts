import { describe, expect, it } from 'vitest';
import type { AdjustProgress } from '../../src/core/CachedTableOptions';
import { progressProxy } from '../../src/worker/clientCalls';
import { forwardProgress } from '../../src/worker/forwardProgress';
import type { ProgressCallback } from '../../src/worker/protocol';

const report = (loaded: number): AdjustProgress => ({ loaded, expired: 0 });
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('forwardProgress (worker side)', () => {
  it('should answer the call only once the client has taken its last progress report', async () => {
    const taken: number[] = [];
    const answers: (() => void)[] = [];
    // A client's callback across a port: each report is taken when its answer comes back.
    const remote: ProgressCallback = (progress) =>
      new Promise<void>((resolve) =>
        answers.push(() => {
          taken.push(progress.loaded);
          resolve();
        }),
      );
    let answered = false;
    const call = forwardProgress(remote, async (listener) => {
      listener?.(report(1000));
      listener?.(report(1500));
      return 'done';
    }).then((value) => {
      answered = true;
      return value;
    });
    await settle();
    expect(answered).toBe(false);
    for (const answer of answers) answer();
    expect(await call).toBe('done');
    expect(taken).toEqual([1000, 1500]);
  });

  it('should not fail the call when the client cannot take a report', async () => {
    const remote: ProgressCallback = () => Promise.reject(new Error('the page went away'));
    await expect(forwardProgress(remote, async (listener) => (listener?.(report(1)), 7))).resolves.toBe(7);
  });

  it("should throw the call's own error after the reports are taken", async () => {
    const taken: number[] = [];
    const remote: ProgressCallback = async (progress) => void taken.push(progress.loaded);
    const failing = forwardProgress(remote, async (listener) => {
      listener?.(report(3));
      throw new Error('backend down');
    });
    await expect(failing).rejects.toThrow('backend down');
    expect(taken).toEqual([3]);
  });
});

describe('progressProxy (client side)', () => {
  it('should drop reports that arrive once the call has settled', () => {
    const seen: number[] = [];
    const progress = progressProxy({ onProgress: (update) => seen.push(update.loaded) });
    void progress.callback?.(report(1));
    progress.end();
    void progress.callback?.(report(2));
    expect(seen).toEqual([1]);
  });

  it('should send no callback without onProgress', () => {
    expect(progressProxy({}).callback).toBeUndefined();
  });
});
