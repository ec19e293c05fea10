import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import type { DbAccess } from '../../src/core/types';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { TableSession } from '../../src/worker/TableSession';
import { readings, TwoIndexes, type FilterSpec, type Reading } from '../support/records';

describe('TableSession', () => {
  it('should stop pulling records for the batches asked for ahead once the client closes the read', async () => {
    // A backend that stops after the first batch until the test opens the gate.
    let yielded = 0;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const db: DbAccess<Reading, FilterSpec> = {
      async *getRecords(spec) {
        for (const record of readings(100, 10).filter(spec.where)) {
          if (yielded === 16) await gate;
          yielded++;
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
    // The client asks for two batches ahead, then leaves the loop.
    const ahead = [session.nextBatch(readId), session.nextBatch(readId)];
    const closed = session.closeRead(readId);
    openGate();
    const batches = await Promise.all(ahead);
    await closed;
    expect(batches.flatMap((batch) => batch.records).length).toBeLessThanOrEqual(1);
    expect(yielded).toBeLessThanOrEqual(17);
  });
});
