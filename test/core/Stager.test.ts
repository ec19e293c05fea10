import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { observed } from '../../src/core/Stager';
import type { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import type { DbAccessOptions, ReadOptions, RecordSource } from '../../src/core/types';
import type { RangeSpec } from '../../src/indexes/RangeIndexes';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { byId, collect, reading, readings, tsIndexes, type FilterSpec, type Reading } from '../support/records';

const ts = (ge: number, lt: number): RangeSpec<'ts'> => ({ indexName: 'ts', ge, lt });
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
};

/** A backend that counts the records it has handed out. */
class CountingDbAccess extends MemoryDbAccess {
  yielded = 0;
  override async *getRecords(spec: FilterSpec, options?: DbAccessOptions): AsyncGenerator<Reading> {
    for await (const record of super.getRecords(spec, options)) {
      this.yielded++;
      yield record;
    }
  }
}

/** Storage whose reads and staged writes wait for a gate the test opens (as IndexedDB's would, behind a busy lock). */
class GatedStorage extends MemoryStorageTable<Reading> {
  readsGate: Promise<void> | null = null;
  writesGate: Promise<void> | null = null;
  override getRecords(spec: StorageRecordsSpec<Reading>, options?: ReadOptions): AsyncIterable<Reading> {
    const gate = this.readsGate;
    const records = super.getRecords(spec, options);
    return (async function* () {
      if (gate) await gate;
      yield* records;
    })();
  }
  /** Every record staged, in order. */
  readonly staged: Reading[] = [];
  override async scratchPutRecords(records: RecordSource<Reading>): Promise<void> {
    if (this.writesGate) await this.writesGate;
    const staged = this.staged;
    await super.scratchPutRecords(
      (async function* () {
        for await (const record of records) {
          staged.push(record);
          yield record;
        }
      })(),
    );
  }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A table loaded with [0, 100) of readings `ts = id`, then a second one resumed over the same storage (every record stale). */
async function resumed() {
  const db = new CountingDbAccess(readings(200));
  const first = tsIndexes();
  const storage = new GatedStorage(first);
  await new CachedTable(first, db, storage).load(ts(0, 100));
  const table = new CachedTable(tsIndexes(), db, storage, { name: 'readings' });
  await table.resume();
  db.yielded = 0;
  return { db, storage, table };
}

describe('Stager', () => {
  describe('stageRefresh of a stale range', () => {
    it('should fetch from the backend while storage still reads the stored records', async () => {
      const { db, storage, table } = await resumed();
      const reads = gate();
      storage.readsGate = reads.promise;
      const read = table.readRecords(ts(0, 50));
      await settle();
      expect(db.yielded).toBe(50);
      storage.readsGate = null;
      reads.open();
      expect(byId(await collect((await read).records))).toEqual(readings(50));
    });

    it("should compare the fetched records while storage's writes wait, and write only the changed ones", async () => {
      const { db, storage, table } = await resumed();
      db.upsert(reading(7, 7, 777));
      const writes = gate();
      storage.writesGate = writes.promise;
      const read = table.readRecords(ts(0, 50));
      await settle();
      expect(db.yielded).toBe(50);
      writes.open();
      const result = await read;
      expect(result.refreshed).toBe(true);
      expect(byId(await collect(result.records)).find((record) => record.id === 7)?.value).toBe(777);
      expect(storage.staged).toEqual([reading(7, 7, 777)]);
    });
  });
});

describe('observed', () => {
  async function* source(closed: { done: boolean }) {
    try {
      for (let id = 0; id < 5; id++) yield reading(id, id);
    } finally {
      closed.done = true;
    }
  }

  it('should hand out every record, after observing it', async () => {
    const seen: number[] = [];
    const closed = { done: false };
    const records = await collect(observed(source(closed), (record) => seen.push(record.id)));
    expect(records).toEqual(readings(5));
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(closed.done).toBe(true);
  });

  it('should close the source and reject with the error when observing throws', async () => {
    const closed = { done: false };
    const failure = new Error('observer failed');
    const records = observed(source(closed), (record) => {
      if (record.id === 2) throw failure;
    });
    const taken: number[] = [];
    await expect(
      (async () => {
        for await (const record of records) taken.push(record.id);
      })(),
    ).rejects.toBe(failure);
    expect(taken).toEqual([0, 1]);
    expect(closed.done).toBe(true);
  });

  it('should close the source when the consumer stops early', async () => {
    const closed = { done: false };
    for await (const record of observed(source(closed), () => {})) if (record.id === 1) break;
    expect(closed.done).toBe(true);
  });
});
