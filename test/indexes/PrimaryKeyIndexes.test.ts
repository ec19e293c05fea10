import { describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { InvalidSpecError } from '../../src/core/errors';
import type { PrimaryKey } from '../../src/core/keys';
import { PrimaryKeyIndexes, type PrimaryKeySpec } from '../../src/indexes/PrimaryKeyIndexes';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { byId, collect } from '../support/records';

interface Item {
  key: PrimaryKey;
  id: number;
}

type Fetch = { all: true } | { keys: PrimaryKey[] };

class ItemsDb {
  readonly requests: Fetch[] = [];
  constructor(readonly items: Item[]) {}
  async *getRecords(fetch: Fetch): AsyncGenerator<Item> {
    this.requests.push(fetch);
    const keys = 'keys' in fetch ? new Set(fetch.keys.map((key) => JSON.stringify(key))) : null;
    for (const item of this.items) if (!keys || keys.has(JSON.stringify(item.key))) yield item;
  }
}

const keys = (...primaryKeys: PrimaryKey[]): PrimaryKeySpec => ({ indexName: 'primaryKey', primaryKeys });
const all: PrimaryKeySpec = { indexName: 'primaryKey', all: true };

/** Every key scores the same, so reads must tell records apart by key. */
class CollidingIndexes extends PrimaryKeyIndexes<Item, PrimaryKey, Fetch> {
  protected override keyScore(): number {
    return 7;
  }
}

function setUp(Indexes = PrimaryKeyIndexes<Item, PrimaryKey, Fetch>) {
  const items: Item[] = [1, 2, 3, 'a', 'b', ['x', 1]].map((key, id) => ({ key, id }));
  const indexes = new Indexes({
    primaryKey: (item) => item.key,
    dbRecordsSpecForAll: () => ({ all: true }),
    dbRecordsSpecForKeys: (list) => ({ keys: list }),
  });
  const db = new ItemsDb(items);
  const storage = new MemoryStorageTable(indexes);
  const table = new CachedTable(indexes, db, storage);
  return { items, indexes, db, storage, table };
}

const read = async (table: ReturnType<typeof setUp>['table'], spec: PrimaryKeySpec) =>
  byId(await collect(table.getRecords(spec))).map((item) => item.id);

describe('PrimaryKeyIndexes', () => {
  it('should read held keys from storage and fetch only the others', async () => {
    const { table, db } = setUp();
    await table.load(keys(1, 'a', ['x', 1]));
    expect(await read(table, keys('a', ['x', 1]))).toEqual([3, 5]);
    expect(db.requests).toHaveLength(1);
    expect(await read(table, keys('a', 2))).toEqual([1, 3]);
    expect(db.requests.at(-1)).toEqual({ keys: [2] });
    expect(await read(table, keys('y', 2))).toEqual([1]);
    expect(db.requests.at(-1)).toEqual({ keys: ['y', 2] });
    expect(table.stats().reads).toMatchObject({ cacheHit: 1, partialHit: 1, cacheMiss: 1 });
  });

  it('should split a spec into held and missing keys', () => {
    const { indexes } = setUp();
    indexes.commitAdjustment(indexes.prepareAdjustment(keys(1, 'a')));
    expect(indexes.splitCoverage(keys('a', 2, 1))).toEqual({ covered: [keys('a', 1)], missing: [keys(2)] });
    expect(indexes.splitCoverage(keys(3))).toEqual({ covered: [], missing: [keys(3)] });
    expect(indexes.splitCoverage(all)).toEqual({ covered: [], missing: [all] });
  });

  it('should snapshot and restore what it holds', () => {
    const { indexes } = setUp();
    indexes.commitAdjustment(indexes.prepareAdjustment(keys(1, 'a', [2, 'b'])));
    const state = structuredClone(indexes.snapshotState());
    const restored = setUp().indexes;
    restored.restoreState(state);
    expect(restored.covers(keys([2, 'b'], 'a', 1))).toBe(true);
    expect(restored.covers(keys(2))).toBe(false);
    restored.restoreState({ all: true });
    expect(restored.covers(keys(99))).toBe(true);
    expect(() => restored.restoreState({ keys: [Number.NaN] })).toThrow(/cannot restore/);
  });

  it('should count keys that do not exist in the backend as covered once loaded', async () => {
    const { table, db } = setUp();
    await table.load(keys(1, 'missing'));
    expect(await read(table, keys('missing'))).toEqual([]);
    expect(db.requests).toHaveLength(1);
  });

  it('should load only keys not yet held and expire only keys no longer wanted', async () => {
    const { table, db, indexes } = setUp();
    await table.load(keys(1, 2, 'a'));
    const adjustment = indexes.prepareAdjustment(keys(2, 'a', 'b'));
    expect(adjustment.loadSpec).toEqual({ keys: ['b'] });
    await table.adjust(keys(2, 'a', 'b'));
    expect(db.requests.at(-1)).toEqual({ keys: ['b'] });
    expect(table.stats()).toMatchObject({ expired: 1, loaded: 4 });
    expect(indexes.covers(keys(1))).toBe(false);
    expect(indexes.covers(keys('b', 2))).toBe(true);
  });

  it('should hold everything with all: true, then shrink to keys without fetching', async () => {
    const { table, db, storage } = setUp();
    await table.load(all);
    expect(await read(table, keys(3, 'b'))).toEqual([2, 4]);
    await table.adjust(keys(3));
    expect(db.requests).toEqual([{ all: true }]);
    expect(storage.size).toBe(1);
    expect(await read(table, all)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(db.requests.at(-1)).toEqual({ all: true });
  });

  it('should tell apart keys whose scores collide', async () => {
    const { table, storage } = setUp(CollidingIndexes);
    await table.load(keys(1, 'a', 'b'));
    await table.adjust(keys(1, 'a'));
    expect(storage.size).toBe(2);
    expect(await read(table, keys('a'))).toEqual([3]);
    expect(await read(table, keys(1, 'a'))).toEqual([0, 3]);
  });

  it('should parse its specs and refuse invalid keys', () => {
    const { indexes } = setUp();
    expect(indexes.specSchema.safeParse(keys(1, 'x', new Date(0), [1, 2])).success).toBe(true);
    expect(indexes.specSchema.safeParse({ indexName: 'primaryKey', all: true }).success).toBe(true);
    expect(() => indexes.covers(keys(Number.NaN))).toThrow(InvalidSpecError);
    expect(() => indexes.covers({ indexName: 'primaryKey', all: false } as never)).toThrow(InvalidSpecError);
  });

  describe('coversRecord', () => {
    it('should cover the records of held keys only, and every record once all are held', async () => {
      const { table, indexes, items } = setUp();
      await table.load(keys(1, 'a'));
      expect(items.filter((item) => indexes.coversRecord(item)).map((item) => item.id)).toEqual([0, 3]);
      await table.adjust(all);
      expect(items.every((item) => indexes.coversRecord(item))).toBe(true);
      expect(indexes.dbRecordsSpecForKeys([2, 'b'])).toEqual({ keys: [2, 'b'] });
    });
  });

  it('should say which specs it accepts when given a bad one', () => {
    const { indexes } = setUp();
    expect(() => indexes.covers({ indexName: 'primaryKey', all: false } as never)).toThrow(
      /expected \{ indexName: 'primaryKey', primaryKeys: \[keys…\] \}.* or \{ indexName: 'primaryKey', all: true \}/,
    );
  });
});
