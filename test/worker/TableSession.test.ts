import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import type { DbAccess } from '../../src/core/types';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { TableSession } from '../../src/worker/TableSession';
import { InvalidSpecError } from '../../src/core/errors';
import { MAX_BATCH_CHARS } from '../../src/worker/batchSize';
import type { RecordBatch, SubscriptionMessage, UpdateMessage } from '../../src/worker/protocol';
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

  /** 20 readings of about 100,000 characters of JSON each: five fit in a message. */
  async function largeRecordsSession(sink: { postMessage(message: UpdateMessage): void; close(): void }) {
    const large = readings(20, 10).map((record) => ({ ...record, sensor: 'x'.repeat(100_000) }));
    const perMessage = Math.floor(MAX_BATCH_CHARS / JSON.stringify(large[0]).length);
    expect(perMessage).toBe(5);
    const indexes = new TwoIndexes();
    const table = new CachedTable(indexes, new MemoryDbAccess(large), new MemoryStorageTable(indexes), { name: 'readings' });
    await table.load({ indexName: 'ts', ge: 0, lt: 1000 });
    return { session: new TableSession(table, sink).api(), perMessage };
  }

  it('should send large records of a read fewer to a message than batchSize, so that no message passes MAX_BATCH_CHARS', async () => {
    const { session, perMessage } = await largeRecordsSession({ postMessage: () => {}, close: () => {} });
    const opened = await session.openRead({ indexName: 'ts', ge: 0, lt: 1000 }, 1000);
    const batches: RecordBatch<Reading>[] = [opened];
    while (!batches.at(-1)!.done) batches.push(await session.nextBatch(opened.readId as number));
    expect(batches.map((batch) => batch.records.length)).toEqual([5, 5, 5, 5, 0]);
    expect(batches.flatMap((batch) => batch.records).map((record) => record.id)).toEqual(readings(20).map((r) => r.id));
    expect(perMessage).toBe(5);
  });

  it('should send large records of a subscription fewer to a message than batchSize', async () => {
    const messages: SubscriptionMessage[] = [];
    let lastMessage!: () => void;
    const last = new Promise<void>((resolve) => (lastMessage = resolve));
    const { session } = await largeRecordsSession({
      postMessage: (message) => {
        if (message.type !== 'records') return;
        messages.push(message);
        if (message.info) lastMessage();
      },
      close: () => {},
    });
    session.subscribe(1, { indexName: 'ts', ge: 0, lt: 1000 }, 1000);
    await last;
    expect(messages.map((message) => (message.type === 'records' ? message.records.length : -1))).toEqual([5, 5, 5, 5]);
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
