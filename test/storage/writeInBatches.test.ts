import { describe, expect, it } from 'vitest';
import { writeInBatches } from '../../src/storage/idb/writeInBatches';

/** A promise and its resolve. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('writeInBatches', () => {
  it('should write the records in batches of batchSize, one write in flight at a time, in order', async () => {
    const written: number[][] = [];
    let inFlight = 0;
    let most = 0;
    await writeInBatches([1, 2, 3, 4, 5], {
      toRow: (record: number) => record,
      batchSize: () => 2,
      write: async (rows) => {
        most = Math.max(most, ++inFlight);
        await settle();
        written.push(rows);
        inFlight--;
      },
    });
    expect(written).toEqual([[1, 2], [3, 4], [5]]);
    expect(most).toBe(1);
  });

  it("should start a batch's write in a slice of its own: after the pause that follows the last write's end", async () => {
    const writes = [deferred(), deferred(), deferred()];
    const started: number[][] = [];
    let gate: Promise<void> | undefined;
    const done = writeInBatches([1, 2, 3, 4, 5, 6], {
      toRow: (record: number) => record,
      batchSize: () => 2,
      write: (rows) => {
        started.push(rows);
        return (writes[started.length - 1] as ReturnType<typeof deferred>).promise;
      },
      pause: () => gate,
    });
    await settle();
    // The second batch is taken while the first is written, and waits for it.
    expect(started).toEqual([[1, 2]]);
    const pause = deferred();
    gate = pause.promise;
    writes[0]?.resolve();
    await settle();
    // The first write has ended, but the second waits for the pause (the write's turn, not IndexedDB's callback).
    expect(started).toEqual([[1, 2]]);
    gate = undefined;
    pause.resolve();
    await settle();
    expect(started).toEqual([
      [1, 2],
      [3, 4],
    ]);
    writes[1]?.resolve();
    await settle();
    writes[2]?.resolve();
    await done;
    expect(started).toHaveLength(3);
  });

  it('should reject with a write failure once no write is in flight, taking no more records', async () => {
    const taken: number[] = [];
    const failure = new Error('quota');
    const result = writeInBatches([1, 2, 3, 4, 5, 6], {
      toRow: (record: number) => {
        taken.push(record);
        return record;
      },
      batchSize: () => 2,
      write: async (rows) => {
        await settle();
        if (rows[0] === 1) throw failure;
      },
    });
    await expect(result).rejects.toBe(failure);
    expect(taken.length).toBeLessThanOrEqual(4);
  });
});
