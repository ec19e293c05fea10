import { describe, expect, it } from 'vitest';
import { EventLoopTurns, nextTask, yieldWhenBusy } from '../../src/core/yieldWhenBusy';

describe('yieldWhenBusy', () => {
  it('should step aside only when the event loop has not turned since the last call (slice 0)', async () => {
    await nextTask();
    expect(yieldWhenBusy(0)).toBeUndefined();
    await Promise.resolve();
    const pause = yieldWhenBusy(0);
    expect(pause).toBeInstanceOf(Promise);
    await pause;
    // The probe task ran before this one: the event loop has turned.
    expect(yieldWhenBusy(0)).toBeUndefined();
  });

  it('should let promise-only work hold the event loop for a slice before stepping aside', async () => {
    await nextTask();
    expect(yieldWhenBusy(60_000)).toBeUndefined();
    expect(yieldWhenBusy(60_000)).toBeUndefined();
    expect(yieldWhenBusy(0)).toBeInstanceOf(Promise);
  });

  it("should not step aside for another kind of work's probe, which may sit behind tasks queued before it", async () => {
    await nextTask();
    const reads = new EventLoopTurns();
    // Background work probed in this task; a read that starts now has not held the event loop.
    expect(yieldWhenBusy(0)).toBeUndefined();
    expect(reads.yieldWhenBusy(0)).toBeUndefined();
    await Promise.resolve();
    expect(reads.yieldWhenBusy(0)).toBeInstanceOf(Promise);
    expect(yieldWhenBusy(0)).toBeInstanceOf(Promise);
  });
});
