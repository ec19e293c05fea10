import { describe, expect, it, vi } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import type { CachedTableOptions } from '../../src/core/CachedTableOptions';
import type { DbAccess } from '../../src/core/types';
import type { RangeSpec } from '../../src/indexes/RangeIndexes';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import type { SubscriptionMessage } from '../../src/worker/protocol';
import { Subscriptions } from '../../src/worker/Subscriptions';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { byId, collect, reading, readings, tsIndexes, type FilterSpec, type Reading } from '../support/records';

type Ts = RangeSpec<'ts'>;
const ts = (ge: number, lt: number): Ts => ({ indexName: 'ts', ge, lt });
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A `MemoryStorageTable` whose merges can be held (a commit that takes its time) or made to fail once. */
class HeldStorage<R> extends MemoryStorageTable<R> {
  private held: Promise<void> | null = null;
  merges = 0;
  failNextMerge = false;

  hold(): () => void {
    let release!: () => void;
    this.held = new Promise((resolve) => (release = resolve));
    return () => {
      this.held = null;
      release();
    };
  }

  override async scratchMerge(state?: unknown): Promise<void> {
    if (this.held) await this.held;
    if (this.failNextMerge) {
      this.failNextMerge = false;
      throw new Error('the disk is full');
    }
    this.merges++;
    return super.scratchMerge(state);
  }
}

/** What storage holds of `spec` now, as stored. */
function stored(storage: MemoryStorageTable<Reading>, spec: Ts): Promise<Reading[]> {
  return collect(storage.getRecords(tsIndexes().storageRecordsSpec(spec)));
}

/** A table loaded with [0, 100) of readings `ts = id`, then a second table resumed over the same storage (as after a reload). */
async function resumed(db: DbAccess<Reading, FilterSpec> = new MemoryDbAccess(readings(200)), options: CachedTableOptions = {}) {
  const first = tsIndexes();
  const storage = new HeldStorage<Reading>(first);
  await new CachedTable(first, db, storage).load(ts(0, 100));
  const table = new CachedTable(tsIndexes(), db, storage, { name: 'readings', ...options });
  await table.resume();
  storage.merges = 0;
  return { storage, table };
}

describe('CachedTable', () => {
  describe('a read of stale records, answered through their refresh', () => {
    it('should be answered from the refresh’s fetch once it ends, before the refresh commits', async () => {
      const db = new MemoryDbAccess(readings(200));
      const { table, storage } = await resumed(db);
      db.upsert(reading(5, 5, 555));
      const release = storage.hold();
      const read = await table.readRecords(ts(0, 10));
      expect(read).toMatchObject({ from: 'storage', refreshed: true, stale: false });
      expect(byId(await collect(read.records))).toEqual(readings(10).map((record) => (record.id === 5 ? reading(5, 5, 555) : record)));
      // Not committed yet: storage still holds the old record.
      expect((await stored(storage, ts(5, 6)))[0]?.value).not.toBe(555);
      expect(storage.merges).toBe(0);
      release();
      await table.idle();
      expect(storage.merges).toBe(1);
      expect((await stored(storage, ts(5, 6)))[0]?.value).toBe(555);
      expect(table.stats().reads.cacheHitWithRefresh).toBe(1);
    });

    it('should make a read that comes while the refresh commits wait for the commit, which it did not do itself', async () => {
      const db = new MemoryDbAccess(readings(200));
      const { table, storage } = await resumed(db);
      db.upsert(reading(5, 5, 555));
      const release = storage.hold();
      await collect((await table.readRecords(ts(0, 10))).records);
      let answered = false;
      const second = table.readRecords(ts(2, 8)).then((read) => ((answered = true), read));
      await settle();
      expect(answered).toBe(false);
      release();
      const read = await second;
      expect(read).toMatchObject({ from: 'storage', refreshed: false, stale: false });
      expect((await collect(read.records)).find((record) => record.id === 5)?.value).toBe(555);
      expect(db.requests).toHaveLength(2); // the load's, then the refresh's
    });

    it('should leave the records stale when the refresh fails after its fetch, so that the next read refreshes them again', async () => {
      const db = new MemoryDbAccess(readings(200));
      const onBackgroundError = vi.fn();
      const { table, storage } = await resumed(db, { onBackgroundError });
      db.upsert(reading(5, 5, 555));
      storage.failNextMerge = true;
      const first = await table.readRecords(ts(0, 10));
      expect((await collect(first.records)).find((record) => record.id === 5)?.value).toBe(555);
      const next = await table.readRecords(ts(0, 10));
      expect(next).toMatchObject({ refreshed: true, stale: false });
      expect((await collect(next.records)).find((record) => record.id === 5)?.value).toBe(555);
      expect(db.requests).toHaveLength(3);
      await table.idle();
      expect((await stored(storage, ts(5, 6)))[0]?.value).toBe(555);
      // Nobody awaited the failed refresh: the table's onBackgroundError heard it.
      expect(onBackgroundError).toHaveBeenCalledTimes(1);
      expect(onBackgroundError.mock.calls[0]?.[0]).toMatchObject({ message: 'the disk is full' });
    });

    it('should answer with the last version of a key the fetch returned twice, leaving it out when that one left the range', async () => {
      const plain = new MemoryDbAccess(readings(200));
      // A paged backend that returns reading 5 in the range, then again after it moved out of it mid-fetch.
      const db: DbAccess<Reading, FilterSpec> = {
        async *getRecords(spec, options) {
          yield* plain.getRecords(spec, options);
          yield reading(5, 150, 555);
        },
      };
      const { table, storage } = await resumed(db);
      const read = await table.readRecords(ts(0, 10));
      expect((await collect(read.records)).map((record) => record.id).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9]);
      await table.idle();
      expect(await stored(storage, ts(0, 10))).toHaveLength(9);
    });

    it('should not answer from a fetch holding a key storage refuses, but fail as the refresh does', async () => {
      const plain = new MemoryDbAccess(readings(200));
      let badKey = false;
      const db: DbAccess<Reading, FilterSpec> = {
        async *getRecords(spec, options) {
          yield* plain.getRecords(spec, options);
          if (badKey) yield { ...reading(5, 5, 555), id: null as unknown as number };
        },
      };
      const { table } = await resumed(db);
      badKey = true;
      await expect(table.readRecords(ts(0, 10))).rejects.toMatchObject({ name: 'StorageError' });
    });

    it('should refresh anew for a read that waited for another read’s refresh which then failed to commit', async () => {
      const db = new MemoryDbAccess(readings(200));
      const { table, storage } = await resumed(db);
      db.upsert(reading(5, 5, 555));
      storage.failNextMerge = true;
      const release = storage.hold();
      await collect((await table.readRecords(ts(0, 10))).records);
      const second = table.readRecords(ts(0, 10));
      await settle();
      release();
      const read = await second;
      expect(read).toMatchObject({ refreshed: true, stale: false });
      expect((await collect(read.records)).find((record) => record.id === 5)?.value).toBe(555);
      expect(db.requests).toHaveLength(3);
    });

    it('should give copies of the fetched records unless the read is shared', async () => {
      const { table, storage } = await resumed();
      const copies = await collect((await table.readRecords(ts(0, 10))).records);
      await table.idle();
      for (const record of copies) (record as { value: number }).value = -1;
      expect((await stored(storage, ts(0, 10))).map((record) => record.value)).not.toContain(-1);

      const other = await resumed();
      const shared = await collect((await other.table.readRecords(ts(0, 10), { shared: true })).records);
      await other.table.idle();
      const held = await stored(other.storage, ts(0, 10));
      expect(shared.every((record) => held.includes(record))).toBe(true);
    });

    it('should read records that cannot be copied from storage, once the refresh has committed them', async () => {
      type Shown = Reading & { show(): string };
      const plain = new MemoryDbAccess(readings(200));
      // Records with a method: MemoryStorageTable keeps them as they are, structuredClone cannot copy them.
      const db: DbAccess<Reading, FilterSpec> = {
        async *getRecords(spec, options) {
          for await (const record of plain.getRecords(spec, options)) yield { ...record, show: () => `#${record.id}` } as Shown;
        },
      };
      const { table, storage } = await resumed(db);
      plain.upsert(reading(5, 5, 555));
      const read = await table.readRecords(ts(0, 10));
      expect(read).toMatchObject({ from: 'storage', refreshed: true, stale: false });
      const records = (await collect(read.records)) as Shown[];
      expect(records.find((record) => record.id === 5)).toMatchObject({ value: 555 });
      expect(records.map((record) => record.show())).toContain('#5');
      expect(storage.merges).toBe(1);
    });

    it('should send a subscription one result, not a second one when the refresh that answered it commits', async () => {
      const db = new MemoryDbAccess(readings(200));
      const { table, storage } = await resumed(db);
      db.upsert(reading(5, 5, 555));
      const release = storage.hold();
      const messages: SubscriptionMessage[] = [];
      const subscriptions = new Subscriptions(table, (message) => messages.push(message));
      subscriptions.add(1, ts(0, 10), 100, {});
      for (let i = 0; i < 10 && messages.length < 1; i++) await settle();
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ type: 'records', info: { from: 'storage', refreshed: true, stale: false } });
      release();
      await table.idle();
      for (let i = 0; i < 5; i++) await settle();
      expect(messages).toHaveLength(1);
      // Later changes are still sent.
      db.upsert(reading(6, 6, 666));
      await table.invalidateKeys([6]);
      for (let i = 0; i < 10 && messages.length < 2; i++) await settle();
      expect(messages).toHaveLength(2);
      expect((messages[1] as { records: Reading[] }).records.find((record) => record.id === 6)?.value).toBe(666);
      subscriptions.dispose();
    });
  });
});
