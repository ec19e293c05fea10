import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import type { DbAccess } from '../../src/core/types';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { TableSession } from '../../src/worker/TableSession';
import { InvalidSpecError } from '../../src/core/errors';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { readings, TwoIndexes, type FilterSpec, type Reading } from '../support/records';

describe('TableSession', () => {
  /** A session over a table whose backend stops after the first batch until `openGate()`; counts records yielded. */
  async function gatedSession() {
    const counts = { yielded: 0 };
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const db: DbAccess<Reading, FilterSpec> = {
      async *getRecords(spec) {
        for (const record of readings(100, 10).filter(spec.where)) {
          if (counts.yielded === 16) await gate;
          counts.yielded++;
          yield record;
        }
      },
    };
    const indexes = new TwoIndexes();
    const table = new CachedTable(indexes, db, new MemoryStorageTable(indexes), { name: 'readings' });
    await table.load({ indexName: 'ts', ge: 0, lt: 0 });
    const session = new TableSession(table, { postMessage: () => {}, close: () => {} }).api();
    const opened = await session.openRead({ indexName: 'ts', ge: 0, lt: 1000 }, 16);
    expect(opened.records).toHaveLength(16);
    const readId = opened.readId as number;
    // The client asks for two batches ahead.
    const ahead = [session.nextBatch(readId), session.nextBatch(readId)];
    ahead.forEach((batch) => batch.catch(() => {}));
    return { session, readId, ahead, counts, openGate };
  }

  it('should stop pulling records for the batches asked for ahead once the client closes the read', async () => {
    const { session, readId, ahead, counts, openGate } = await gatedSession();
    const closed = session.closeRead(readId);
    openGate();
    const batches = await Promise.all(ahead);
    await closed;
    expect(batches.flatMap((batch) => batch.records).length).toBeLessThanOrEqual(1);
    expect(counts.yielded).toBeLessThanOrEqual(17);
  });

  it('should stop pulling records for the batches asked for ahead when the whole session closes', async () => {
    const { session, ahead, counts, openGate } = await gatedSession();
    const closed = session.close();
    openGate();
    await Promise.allSettled(ahead);
    await closed;
    expect(counts.yielded).toBeLessThanOrEqual(17);
  });

  it('should pass staleWhileRevalidate to the table, and refuse read options of the wrong type', async () => {
    const db = new MemoryDbAccess(readings(100, 10));
    const first = new TwoIndexes();
    const storage = new MemoryStorageTable<Reading>(first);
    await new CachedTable(first, db, storage).load({ indexName: 'ts', ge: 0, lt: 500 });
    const table = new CachedTable(new TwoIndexes(), db, storage, { name: 'readings' });
    await table.resume();
    const session = new TableSession(table, { postMessage: () => {}, close: () => {} }).api();
    const opened = await session.openRead({ indexName: 'ts', ge: 0, lt: 100 }, 16, { staleWhileRevalidate: true });
    expect(opened).toMatchObject({ from: 'storage', stale: true });
    const error = await session
      .openRead({ indexName: 'ts', ge: 0, lt: 100 }, 16, { staleWhileRevalidate: 'yes' } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidSpecError);
    expect((error as InvalidSpecError).path).toEqual(['options', 'staleWhileRevalidate']);
  });
});
