import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextTask } from '../../src/core/yieldWhenBusy';
import { WritePacer } from '../../src/storage/idb/WritePacer';

describe('WritePacer', () => {
  const pacer = () => {
    let now = 0;
    const clock = { advance: (ms: number) => (now += ms) };
    return { clock, pacer: new WritePacer({ maxRows: 1000, now: () => now }) };
  };
  /** A slice of a write while reads come in: 2 ms of its time with no pause; the next call pauses. */
  const slice = (writes: WritePacer, clock: { advance(ms: number): void }) => {
    expect(writes.pause()).toBeUndefined();
    clock.advance(1);
    expect(writes.pause()).toBeUndefined();
    clock.advance(1);
  };

  it('should write few rows while a read runs and for the quiet time after it', () => {
    const { pacer: writes, clock } = pacer();
    writes.readStarted();
    expect(writes.readsWaiting).toBe(true);
    expect(writes.nextRows()).toBe(8);
    writes.readEnded();
    expect(writes.readsWaiting).toBe(false);
    clock.advance(249);
    expect(writes.nextRows()).toBe(8);
    clock.advance(1);
    expect(writes.nextRows()).toBe(64);
  });

  it('should grow transactions that take less than half the target and shrink slow ones, within bounds', () => {
    const { pacer: writes } = pacer();
    for (let i = 0; i < 10; i++) writes.written(writes.nextRows(), 1);
    expect(writes.nextRows()).toBe(1000);
    writes.written(1000, 40);
    expect(writes.nextRows()).toBe(500);
    for (let i = 0; i < 20; i++) writes.written(writes.nextRows(), 100);
    expect(writes.nextRows()).toBe(8);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('should count a read of the in-memory copy as a read: writes stay small for the quiet time after it', () => {
    const { pacer: writes, clock } = pacer();
    writes.readSeen();
    expect([writes.contended, writes.readsWaiting, writes.nextRows()]).toEqual([true, false, 8]);
    clock.advance(250);
    expect([writes.contended, writes.nextRows()]).toEqual([false, 64]);
  });

  it('should pause a write for 20 ms after each 2 ms slice of its time while reads come in', async () => {
    const { pacer: writes, clock } = pacer();
    await nextTask();
    writes.readSeen();
    slice(writes, clock);
    vi.useFakeTimers();
    let resumed = false;
    const pause = writes.pause()?.then(() => (resumed = true));
    expect(pause).toBeInstanceOf(Promise);
    await vi.advanceTimersByTimeAsync(19);
    expect(resumed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(resumed).toBe(true);
    vi.useRealTimers();
    // The next slice counts from the end of the pause.
    await nextTask();
    slice(writes, clock);
    expect(writes.pause()).toBeInstanceOf(Promise);
  });

  it('should start a new slice when the write comes back after a wait longer than the pause (a later write, a slow source)', async () => {
    const { pacer: writes, clock } = pacer();
    await nextTask();
    writes.readSeen();
    expect(writes.pause()).toBeUndefined();
    clock.advance(1);
    expect(writes.pause()).toBeUndefined();
    // The write ended mid-slice; the next one comes 30 ms later, reads still coming in: a whole slice of its own.
    clock.advance(30);
    writes.readSeen();
    slice(writes, clock);
    expect(writes.pause()).toBeInstanceOf(Promise);
  });

  it('should not learn from transactions cut short or written while reads run', () => {
    const { pacer: writes } = pacer();
    writes.written(10, 1);
    expect(writes.nextRows()).toBe(64);
    writes.readStarted();
    writes.written(8, 100);
    writes.readEnded();
    expect(writes.readsWaiting).toBe(false);
  });

  describe('with reads that come with gaps', () => {
    /** A write that has used its slice while reads come in, and pauses: whether it has resumed. */
    const pausedWrite = async (writes: WritePacer, clock: { advance(ms: number): void }) => {
      await nextTask();
      expect(writes.pause()).toBeUndefined();
      clock.advance(2);
      let resumed = false;
      void writes.pause()?.then(() => (resumed = true));
      return () => resumed;
    };
    const settle = async () => {
      for (let i = 0; i < 5; i++) await nextTask();
    };
    /** A read that ended, then another begun `gapMs` later (still open); timers fake from here on. */
    const readsApart = (gapMs: number) => {
      const { pacer: writes, clock } = pacer();
      writes.readSeen();
      writes.readFinished();
      clock.advance(gapMs);
      writes.readSeen();
      vi.useFakeTimers();
      return { writes, clock };
    };

    it('should resume a paused write early in the gap after a read, when reads come a frame apart', async () => {
      const { writes, clock } = readsApart(16);
      const resumed = await pausedWrite(writes, clock);
      await settle();
      expect(resumed()).toBe(false);
      writes.readFinished();
      // Not at once (the read's answer goes to the page first): a quarter of the last gap (16 ms) later, long before
      // the 20 ms pause would end.
      await settle();
      await vi.advanceTimersByTimeAsync(3);
      expect(resumed()).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(resumed()).toBe(true);
    });

    it('should not resume a paused write in the gap when another read begins first: it waits for that one', async () => {
      const { writes, clock } = readsApart(16);
      const resumed = await pausedWrite(writes, clock);
      writes.readFinished();
      await vi.advanceTimersByTimeAsync(2);
      // A read 2 ms after the last: the gap is short now, and the write keeps its 20 ms pause (18 ms of it left).
      clock.advance(2);
      writes.readSeen();
      await vi.advanceTimersByTimeAsync(10);
      expect(resumed()).toBe(false);
      writes.readFinished();
      await vi.advanceTimersByTimeAsync(7);
      expect(resumed()).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(resumed()).toBe(true);
    });

    it('should keep the 20 ms pause when reads come back to back, or while another read is open', async () => {
      const { writes, clock } = readsApart(1);
      const resumed = await pausedWrite(writes, clock);
      writes.readFinished();
      await settle();
      expect(resumed()).toBe(false);
      await vi.advanceTimersByTimeAsync(20);
      expect(resumed()).toBe(true);

      // A gap of 16 ms, but two reads open: the first to end does not resume the write.
      clock.advance(16);
      writes.readSeen();
      writes.readSeen();
      const resumedAgain = await pausedWrite(writes, clock);
      writes.readFinished();
      await vi.advanceTimersByTimeAsync(4);
      expect(resumedAgain()).toBe(false);
      writes.readFinished();
      await vi.advanceTimersByTimeAsync(4);
      expect(resumedAgain()).toBe(true);
    });

    it('should forget a read left unfinished once reads have been quiet for the quiet time', async () => {
      const { writes, clock } = readsApart(16);
      // That read is never finished (its iteration was dropped). After the quiet time, a write runs uncontended and
      // forgets it.
      clock.advance(250);
      expect(writes.pause()).toBeUndefined();
      clock.advance(16);
      writes.readSeen();
      const resumed = await pausedWrite(writes, clock);
      writes.readFinished();
      await vi.advanceTimersByTimeAsync(4);
      expect(resumed()).toBe(true);
    });
  });
});
