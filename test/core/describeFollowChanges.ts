import { describe, expect, it, vi } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { DbAccessError, StorageError, TableCacheError, UnsupportedOperationError } from '../../src/core/errors';
import type { FollowChangesOptions } from '../../src/core/changeFeed';
import { Interval } from '../../src/core/Interval';
import { isPersistedState } from '../../src/core/persistedState';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import type { TableChange } from '../../src/core/TableChange';
import type { StorageTable } from '../../src/core/types';
import { RangeIndexes, type RangeSpec } from '../../src/indexes/RangeIndexes';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { byId, collect, idsFilter, reading, tsRange, type FilterSpec, type Reading } from '../support/records';
import { scriptedFeeds } from '../support/ScriptedFeed';
import type { CreateStorageTable } from './describeCachedTable';

type Price = RangeSpec<'price'>;
const price = (ge: number, lt: number): Price => ({ indexName: 'price', ge, lt });
const product = (id: number, at: number, value = id): Reading => reading(id, at, value);

function priceIndexes(byKeys = true) {
  return new RangeIndexes<Reading, number, FilterSpec, 'price'>({
    indexName: 'price',
    primaryKey: (record) => record.id,
    score: (record) => record.ts,
    dbRecordsSpecForRange: tsRange,
    ...(byKeys ? { dbRecordsSpecForKeys: idsFilter } : {}),
  });
}

/** 40 products priced 100…139, one per price; the table holds [110, 130). */
const catalogue = () => Array.from({ length: 40 }, (_, i) => product(i, 100 + i));
const held = price(110, 130);

/** `CachedTable.followChanges`, over any storage table. */
export function describeFollowChanges(name: string, createStorage: CreateStorageTable): void {
  type Table = CachedTable<Reading, number, Price, FilterSpec>;

  async function setUp(options: { load?: boolean } = {}) {
    const db = new MemoryDbAccess(catalogue());
    const storage = await createStorage<Reading>(priceIndexes());
    const table: Table = new CachedTable(priceIndexes(), db, storage, { name: 'products' });
    const feeds = scriptedFeeds();
    if (options.load !== false) await table.load(held);
    db.requests.length = 0;
    return { db, storage, table, feeds };
  }

  /** A table following a feed that went live at cursor '1' before its load: nothing stale, cursor '1' stored. */
  async function following(options: FollowChangesOptions = {}) {
    const set = await setUp({ load: false });
    const follower = set.table.followChanges(set.feeds.open, options);
    await vi.waitFor(() => expect(set.feeds.opened).toHaveLength(1));
    set.feeds.current.setStatus('live', '1');
    await set.table.load(held);
    set.db.requests.length = 0;
    return { ...set, follower, feed: set.feeds.current };
  }

  /** A new table over the same storage and backend, as after a reload of the page. */
  function reopen(db: MemoryDbAccess, storage: StorageTable<Reading>): Table {
    return new CachedTable(priceIndexes(), db, storage, { name: 'products' });
  }

  const read = async (table: Table, spec: Price = held) => {
    const result = await table.readRecords(spec);
    return { ...result, records: byId(await collect(result.records)) };
  };
  const backendIn = (db: MemoryDbAccess, ge = 110, lt = 130) => byId(db.records.filter((record) => record.ts >= ge && record.ts < lt));
  const storedCursor = async (storage: StorageTable<Reading>) => {
    const state = await storage.committedState?.();
    return isPersistedState(state) ? (state.changeCursor ?? null) : undefined;
  };
  const stored = async (storage: StorageTable<Reading>) =>
    byId(await collect(storage.getRecords(new StorageRecordsSpec('price', [Interval.everything()]))));
  /** Polls until the follower has committed `cursor` (no time is asserted). */
  const applied = (follower: { cursor: string | null }, cursor: string) =>
    vi.waitFor(() => expect(follower.cursor).toBe(cursor), { timeout: 10_000, interval: 5 });

  describe(`CachedTable over ${name}`, () => {
    describe('followChanges', () => {
      it('should refresh a changed record held, commit the batch cursor in the same write, and fetch only the changed keys', async () => {
        const { db, storage, table, feeds } = await setUp();
        const follower = table.followChanges(feeds.open);
        await vi.waitFor(() => expect(feeds.opened).toHaveLength(1));
        expect(feeds.current.after).toBe(null);
        feeds.current.setStatus('live', '10');
        await vi.waitFor(() => expect(follower.cursor).toBe('10'));
        db.upsert(product(15, 115, 1515));
        feeds.current.changes('11', [15, 'upsert']);
        await applied(follower, '11');
        expect(await storedCursor(storage)).toBe('11');
        expect((await read(table)).records).toEqual(backendIn(db));
        expect(db.requests.map((request) => request.description)).toContain('ids 15');
        await follower.stop();
      });

      it('should place records moved within, into and out of the held range, drop deleted ones without fetching them, and touch nothing else', async () => {
        const { db, storage, table, feeds, follower } = await following();
        const before = await stored(storage);
        db.upsert(product(12, 125.5), product(3, 111.5), product(20, 135));
        db.remove(25);
        feeds.current.changes('2', [12, 'upsert'], [3, 'upsert'], [20, 'upsert'], [25, 'delete']);
        await applied(follower, '2');
        expect((await read(table)).records).toEqual(backendIn(db));
        expect(db.requests.map((request) => request.description)).toEqual(['ids 12,3,20']);
        const after = await stored(storage);
        const untouched = (records: Reading[]) => records.filter((record) => ![12, 3, 20, 25].includes(record.id));
        expect(untouched(after)).toEqual(untouched(before));
        await follower.stop();
      });

      it('should let subscribers (onChange) learn of an applied batch with the scores it touched', async () => {
        const { db, table, feeds, follower } = await following();
        const changes: TableChange[] = [];
        table.onChange((change) => changes.push(change));
        db.upsert(product(15, 115, 1515));
        feeds.current.changes('2', [15, 'upsert']);
        await applied(follower, '2');
        expect(changes.some((change) => change.kind === 'refresh' && change.affects('price', [new Interval(115, 116)]))).toBe(true);
        expect(changes.some((change) => change.affects('price', [new Interval(127, 128)]))).toBe(false);
        await follower.stop();
      });

      it('should resume a reloaded table from the stored cursor: nothing stale, only what changed meanwhile refetched', async () => {
        const { db, storage, table, feeds, follower } = await following();
        db.upsert(product(11, 111, 1111));
        feeds.current.changes('6', [11, 'upsert']);
        await applied(follower, '6');
        await table.close();
        expect(feeds.current.closed).toBe(true);

        db.upsert(product(12, 112, 1212));
        const reloaded = reopen(db, storage);
        const next = reloaded.followChanges(feeds.open);
        await reloaded.resume();
        await vi.waitFor(() => expect(feeds.opened).toHaveLength(2));
        expect(feeds.current.after).toBe('6');
        db.requests.length = 0;
        const first = await read(reloaded);
        expect(first.refreshed).toBe(false);
        expect(first.stale).toBe(false);
        expect(db.requests).toHaveLength(0);
        feeds.current.changes('7', [12, 'upsert']);
        await applied(next, '7');
        expect((await read(reloaded)).records).toEqual(backendIn(db));
        expect(db.requests.map((request) => request.description)).toEqual(['ids 12']);
        await next.stop();
      });

      it('should keep stale what was stale across a reload (a reset before it), and refresh it on read', async () => {
        const { db, storage, table, feeds } = await setUp();
        const follower = table.followChanges(feeds.open);
        await vi.waitFor(() => expect(feeds.opened).toHaveLength(1));
        feeds.current.setStatus('live', '5');
        await applied(follower, '5');
        db.upsert(product(13, 113, 1313));
        feeds.current.reset('9');
        await applied(follower, '9');
        // A batch's refresh commits the reset's cursor with what is stale.
        db.upsert(product(14, 114, 1414));
        feeds.current.changes('10', [14, 'upsert']);
        await applied(follower, '10');
        expect(await storedCursor(storage)).toBe('10');
        await table.close();

        const reloaded = reopen(db, storage);
        reloaded.followChanges(feeds.open);
        await reloaded.resume();
        const result = await read(reloaded);
        expect(result.refreshed).toBe(true);
        expect(result.records).toEqual(backendIn(db));
        await reloaded.close();
      });

      it('should mark every record stale on a reset, so the next read refreshes it, and tell listeners', async () => {
        const { db, table, feeds } = await setUp();
        const follower = table.followChanges(feeds.open);
        await vi.waitFor(() => expect(feeds.opened).toHaveLength(1));
        feeds.current.setStatus('live', '5');
        await applied(follower, '5');
        const changes: TableChange[] = [];
        table.onChange((change) => changes.push(change));
        db.upsert(product(16, 116, 1616));
        feeds.current.reset('8');
        await applied(follower, '8');
        expect(changes.some((change) => change.affects('price', [new Interval(129, 130)]))).toBe(true);
        const result = await read(table);
        expect(result.refreshed).toBe(true);
        expect(result.records).toEqual(backendIn(db));
        await follower.stop();
      });

      it('should treat everything as stale once when no cursor is stored (loaded before the feed said where it stands)', async () => {
        const { db, table, feeds } = await setUp();
        const follower = table.followChanges(feeds.open);
        await vi.waitFor(() => expect(feeds.opened).toHaveLength(1));
        db.upsert(product(17, 117, 1717));
        feeds.current.setStatus('live', '3');
        await applied(follower, '3');
        const first = await read(table);
        expect(first.refreshed).toBe(true);
        expect(first.records).toEqual(backendIn(db));
        expect((await read(table)).refreshed).toBe(false);
        await follower.stop();
      });

      it('should need no refresh after a load that starts once the feed is live (the load stores its position)', async () => {
        const { db, storage, table, feeds } = await setUp({ load: false });
        const follower = table.followChanges(feeds.open);
        await vi.waitFor(() => expect(feeds.opened).toHaveLength(1));
        feeds.current.setStatus('live', '4');
        await table.load(held);
        expect(await storedCursor(storage)).toBe('4');
        db.requests.length = 0;
        const result = await read(table);
        expect(result.refreshed).toBe(false);
        expect(db.requests).toHaveLength(0);
        db.upsert(product(18, 118, 1818));
        feeds.current.changes('5', [18, 'upsert']);
        await applied(follower, '5');
        expect((await read(table)).records).toEqual(backendIn(db));
        await follower.stop();
      });

      it('should not lose a change that arrives while an adjust is staging', async () => {
        const { db, table, feeds, follower } = await following();
        const release = db.hold();
        const adjusting = table.adjust(price(105, 135));
        await new Promise((resolve) => setTimeout(resolve, 0));
        db.upsert(product(20, 133, 2020), product(8, 108, 808));
        feeds.current.changes('2', [20, 'upsert'], [8, 'upsert']);
        release();
        await adjusting;
        await applied(follower, '2');
        expect((await read(table, price(105, 135))).records).toEqual(backendIn(db, 105, 135));
        await follower.stop();
      });

      it('should retry a batch that failed to apply, and commit its cursor only once applied', async () => {
        const errors: unknown[] = [];
        const { db, storage, table, feeds, follower } = await following({ retryDelayMs: 1, onError: (error) => errors.push(error) });
        db.upsert(product(19, 119, 1919));
        const failure = new DbAccessError('backend down', { offline: true });
        db.failNext(failure);
        // Reads keep working from storage while the batch cannot be applied.
        feeds.current.changes('2', [19, 'upsert']);
        await vi.waitFor(() => expect(db.requests.length).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 5 });
        await applied(follower, '2');
        expect(await storedCursor(storage)).toBe('2');
        expect((await read(table)).records).toEqual(backendIn(db));
        expect(errors).toEqual([failure]);
        expect(follower.status).toBe('live');
        await follower.stop();
      });

      it('should commit a batch and its cursor together or not at all: a merge that fails leaves both as they were, and the retry stores both', async () => {
        const { db, storage, feeds, follower } = await following({ retryDelayMs: 1 });
        const before = await stored(storage);
        const merge = storage.scratchMerge.bind(storage);
        let failures = 1;
        const states: unknown[] = [];
        const seenAtFailure: unknown[] = [];
        storage.scratchMerge = async (state?: unknown) => {
          if (failures-- > 0) {
            await storage.scratchAbort();
            seenAtFailure.push(await storedCursor(storage), (await stored(storage)).find((record) => record.id === 22)?.value);
            throw new StorageError('disk full', { table: 'products', operation: 'scratchMerge' });
          }
          states.push(state);
          return merge(state);
        };
        db.upsert(product(22, 122, 2222));
        feeds.current.changes('2', [22, 'upsert']);
        await vi.waitFor(() => expect(failures).toBeLessThan(0), { timeout: 10_000, interval: 5 });
        await applied(follower, '2');
        expect(seenAtFailure).toEqual(['1', 22]);
        // The cursor travels in the very merge that makes the batch's records visible.
        expect(states).toHaveLength(1);
        expect(states[0]).toMatchObject({ changeCursor: '2' });
        expect(await storedCursor(storage)).toBe('2');
        expect((await stored(storage)).find((record) => record.id === 22)?.value).toBe(2222);
        expect((await stored(storage)).filter((record) => record.id !== 22)).toEqual(before.filter((record) => record.id !== 22));
        await follower.stop();
      });

      it('should serve reads from storage, without waiting, while a batch is being applied', async () => {
        const { db, table, feeds, follower } = await following();
        const before = (await read(table)).records;
        const release = db.hold();
        db.upsert(product(21, 121, 2121));
        feeds.current.changes('2', [21, 'upsert']);
        await vi.waitFor(() => expect(db.requests).toHaveLength(1), { timeout: 10_000, interval: 5 });
        expect((await read(table)).records).toEqual(before);
        release();
        await applied(follower, '2');
        expect((await read(table)).records).toEqual(backendIn(db));
        await follower.stop();
      });

      it("should report the feed's status, to the follower's and the table's listeners, and 'stopped'/'none' once stopped", async () => {
        const { table, feeds } = await setUp();
        const tableStatuses: string[] = [];
        table.onChangeFeedStatus((status) => tableStatuses.push(status));
        const follower = table.followChanges(feeds.open);
        const statuses: string[] = [];
        follower.onStatus((status) => statuses.push(status));
        await vi.waitFor(() => expect(feeds.opened).toHaveLength(1));
        feeds.current.setStatus('live', '1');
        feeds.current.setStatus('offline');
        feeds.current.setStatus('live');
        await table.close();
        expect(feeds.current.closed).toBe(true);
        expect(follower.status).toBe('stopped');
        expect(statuses).toEqual(['live', 'offline', 'live', 'stopped']);
        expect(tableStatuses).toEqual(['none', 'catching-up', 'live', 'offline', 'live', 'none']);
      });

      it('should stop with the error when the feed fails for good, and may then follow again', async () => {
        const { table, feeds } = await setUp();
        const errors: unknown[] = [];
        const follower = table.followChanges(feeds.open, { onError: (error) => errors.push(error) });
        await vi.waitFor(() => expect(feeds.opened).toHaveLength(1));
        const failure = new DbAccessError('no such endpoint', { status: 404 });
        feeds.current.fail(failure);
        await vi.waitFor(() => expect(follower.status).toBe('stopped'));
        expect(follower.error).toBe(failure);
        expect(errors).toEqual([failure]);
        const again = table.followChanges(feeds.open);
        expect(again.status).not.toBe('stopped');
        await again.stop();
      });

      it('should refuse a second feed while one is followed, and Indexes that cannot fetch by keys', async () => {
        const { table, feeds } = await setUp();
        const follower = table.followChanges(feeds.open);
        expect(() => table.followChanges(feeds.open)).toThrow(TableCacheError);
        await follower.stop();
        const storage = await createStorage<Reading>(priceIndexes(false));
        const noKeys = new CachedTable(priceIndexes(false), new MemoryDbAccess([]), storage);
        expect(() => noKeys.followChanges(feeds.open)).toThrow(UnsupportedOperationError);
      });
    });
  });
}
