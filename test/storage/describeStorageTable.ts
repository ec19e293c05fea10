import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/core/errors';
import { Interval } from '../../src/core/Interval';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import type { RecordScorer, StorageTable } from '../../src/core/types';
import { byId, collect, reading, readings, readingScorer, type Reading } from '../support/records';

export type CreateStorageTable = <R>(scorer: RecordScorer<R, unknown>) => Promise<StorageTable<R>>;

const ts = (ge: number, lt: number, recheck?: (record: Reading) => boolean) =>
  new StorageRecordsSpec<Reading>('ts', [new Interval(ge, lt)], recheck);
const everything = (indexName = 'ts') => new StorageRecordsSpec<Reading>(indexName, [Interval.everything()]);

async function read(table: StorageTable<Reading>, spec: StorageRecordsSpec<Reading> = everything()) {
  return byId(await collect(table.getRecords(spec)));
}

async function* slowly<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}

/**
 * The contract every `StorageTable` fulfils, run against each implementation.
 * `create` gets a fresh, empty table each time.
 */
export function describeStorageTable(name: string, create: CreateStorageTable): void {
  const fresh = () => create(readingScorer);

  async function withRecords(records: Reading[]) {
    const table = await fresh();
    await table.putRecords(records);
    return table;
  }

  describe(`${name} (StorageTable contract)`, () => {
    describe('putRecords', () => {
      it('should make records readable by every index', async () => {
        const table = await withRecords(readings(10, 100));
        expect(await read(table)).toEqual(readings(10, 100));
        expect(await read(table, everything('id'))).toEqual(readings(10, 100));
      });

      it('should accept arrays, iterables and async iterables', async () => {
        const table = await fresh();
        await table.putRecords([reading(1, 1)]);
        await table.putRecords(new Set([reading(2, 2)]));
        await table.putRecords(slowly([reading(3, 3), reading(4, 4)]));
        expect((await read(table)).map((record) => record.id)).toEqual([1, 2, 3, 4]);
      });

      it('should replace a record with the same primary key, moving it between score ranges', async () => {
        const table = await withRecords([reading(1, 10, 1)]);
        await table.putRecords([reading(1, 50, 2)]);
        expect(await read(table, ts(0, 20))).toEqual([]);
        expect(await read(table, ts(40, 60))).toEqual([reading(1, 50, 2)]);
        expect(await read(table)).toEqual([reading(1, 50, 2)]);
      });

      it('should store records with string, Date and array primary keys', async () => {
        interface Keyed {
          key: string | Date | (string | number)[];
          n: number;
        }
        const scorer: RecordScorer<Keyed, unknown> = {
          indexNames: ['n'],
          score: (_indexName, record) => record.n,
          primaryKey: (record) => record.key,
        };
        const table = await create(scorer);
        const records: Keyed[] = [
          { key: 'a', n: 1 },
          { key: new Date(5), n: 2 },
          { key: ['x', 1], n: 3 },
          { key: ['x', 2], n: 4 },
        ];
        await table.putRecords(records);
        await table.putRecords([{ key: ['x', 1], n: 30 }]);
        const stored = await collect(table.getRecords(new StorageRecordsSpec('n', [Interval.everything()])));
        expect(stored.map((record) => record.n).sort((a, b) => a - b)).toEqual([1, 2, 4, 30]);
      });

      it('should reject an invalid primary key with a StorageError and store nothing of it', async () => {
        const table = await withRecords([reading(1, 1)]);
        const bad = { ...reading(2, 2), id: Number.NaN };
        await expect(table.putRecords([bad])).rejects.toBeInstanceOf(StorageError);
        await expect(table.putRecords([{ ...reading(3, 3), id: {} as never }])).rejects.toThrow(/primary key|key/i);
        expect(await read(table)).toEqual([reading(1, 1)]);
      });

      it('should reject a NaN score with a StorageError', async () => {
        const table = await withRecords([reading(1, 1)]);
        const error = await table.putRecords([reading(2, Number.NaN)]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect((error as StorageError).table).toBe(table.name);
        expect(await read(table)).toEqual([reading(1, 1)]);
      });

      it('should store ±Infinity scores, +Infinity lying in no interval', async () => {
        const table = await withRecords([reading(1, -Infinity), reading(2, Infinity), reading(3, Number.MAX_VALUE)]);
        expect((await read(table)).map((record) => record.id)).toEqual([1, 3]);
        expect((await read(table, everything('id'))).map((record) => record.id)).toEqual([1, 2, 3]);
        expect(await read(table, ts(-Infinity, 0))).toEqual([reading(1, -Infinity)]);
        expect(await read(table, new StorageRecordsSpec('ts', [Interval.onlyContaining(Number.MAX_VALUE)]))).toEqual([
          reading(3, Number.MAX_VALUE),
        ]);
      });
    });

    describe('putRecords and deleteRecords while a scratch space is open', () => {
      it('should reject with a StorageError and change neither the committed state nor the scratch space', async () => {
        const table = await withRecords(readings(5, 10));
        await table.scratchPutRecords([reading(1, 15, 7)]);
        await expect(table.putRecords([reading(9, 90)])).rejects.toMatchObject({
          operation: 'putRecords',
          message: /scratch space is open/,
        });
        await expect(table.deleteRecords(ts(0, 30))).rejects.toMatchObject({
          operation: 'deleteRecords',
          message: /scratch space is open/,
        });
        expect(await read(table)).toEqual(readings(5, 10));
        await table.scratchMerge();
        expect(await read(table)).toEqual(readings(5, 10).map((r) => (r.id === 1 ? reading(1, 15, 7) : r)));
        await table.putRecords([reading(9, 90)]);
        expect(await table.deleteRecords(ts(0, 5))).toBe(1);
        expect((await read(table)).map((r) => r.id)).toEqual([1, 2, 3, 4, 9]);
      });
    });

    describe('getRecords', () => {
      it('should include the lower bound and exclude the upper bound', async () => {
        const table = await withRecords(readings(10, 10));
        expect((await read(table, ts(20, 50))).map((record) => record.ts)).toEqual([20, 30, 40]);
      });

      it('should read several intervals without duplicates', async () => {
        const table = await withRecords(readings(10, 10));
        const spec = new StorageRecordsSpec<Reading>('ts', [new Interval(70, 90), new Interval(0, 20), new Interval(20, 21)]);
        expect((await read(table, spec)).map((record) => record.ts)).toEqual([0, 10, 20, 70, 80]);
      });

      it('should read records sharing a score', async () => {
        const table = await withRecords([reading(1, 5), reading(2, 5), reading(3, 5), reading(4, 6)]);
        expect((await read(table, new StorageRecordsSpec('ts', [Interval.onlyContaining(5)]))).map((r) => r.id)).toEqual([1, 2, 3]);
      });

      it('should read nothing for an empty interval or no intervals', async () => {
        const table = await withRecords(readings(10, 10));
        expect(await read(table, ts(30, 30))).toEqual([]);
        expect(await read(table, new StorageRecordsSpec('ts', []))).toEqual([]);
      });

      it('should filter by the recheck predicate', async () => {
        const table = await withRecords(readings(10, 10));
        expect(
          (
            await read(
              table,
              ts(0, 100, (record) => record.id % 2 === 0),
            )
          ).map((r) => r.id),
        ).toEqual([0, 2, 4, 6, 8]);
      });

      it('should return records equal to those stored', async () => {
        const records = [{ ...reading(1, 1), nested: { list: [1, 2, { deep: 'yes' }], when: new Date(7) } }];
        const table = await withRecords(records as unknown as Reading[]);
        expect(await read(table)).toEqual(records);
      });

      it('should read the state committed when it was called, not merges made during the iteration', async () => {
        const table = await withRecords(readings(3, 10));
        const iterator = table.getRecords(everything())[Symbol.asyncIterator]();
        await table.scratchDiscardRecords(everything());
        await table.scratchPutRecords([reading(7, 5)]);
        await table.scratchMerge();
        const seen: Reading[] = [];
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) seen.push(next.value);
        expect(byId(seen)).toEqual(readings(3, 10));
        expect(await read(table)).toEqual([reading(7, 5)]);
      });

      it('should reject the iteration for an unknown index', async () => {
        const table = await withRecords(readings(3));
        await expect(collect(table.getRecords(everything('nope')))).rejects.toBeInstanceOf(StorageError);
      });

      it('should read many records across batch boundaries', async () => {
        const table = await withRecords(readings(5000));
        const all = await read(table, ts(1000, 4500));
        expect(all.length).toBe(3500);
        expect(all[0]?.id).toBe(1000);
        expect(all.at(-1)?.id).toBe(4499);
      });
    });

    describe('getRecordsByKeys', () => {
      it('should return the committed records with these keys, leaving out keys not stored', async () => {
        const table = await withRecords(readings(10, 100));
        expect(table.getRecordsByKeys).toBeTypeOf('function');
        expect(byId(await table.getRecordsByKeys!([7, 2, 42, 2]))).toEqual([reading(2, 200), reading(7, 700)]);
        expect(await table.getRecordsByKeys!([])).toEqual([]);
      });

      it('should not see staged changes, and still see a record a scratch space replaces or discards', async () => {
        const table = await withRecords(readings(4, 100));
        await table.scratchPutRecords([reading(1, 999, 5), reading(8, 800)]);
        await table.scratchDiscardRecords(ts(200, 201));
        expect(byId(await table.getRecordsByKeys!([1, 2, 8]))).toEqual([reading(1, 100), reading(2, 200)]);
        await table.scratchMerge();
        expect(byId(await table.getRecordsByKeys!([1, 2, 8]))).toEqual([reading(1, 999, 5), reading(8, 800)]);
      });
    });

    describe('deleteRecords', () => {
      it('should delete exactly what getRecords would return, reporting each', async () => {
        const table = await withRecords(readings(10, 10));
        const spec = ts(20, 60, (record) => record.id !== 3);
        const expected = await read(table, spec);
        const deleted: Reading[] = [];
        expect(await table.deleteRecords(spec, (record) => deleted.push(record))).toBe(3);
        expect(byId(deleted)).toEqual(expected);
        expect((await read(table)).map((record) => record.id)).toEqual([0, 1, 3, 6, 7, 8, 9]);
        expect(await read(table, everything('id'))).toEqual(await read(table));
      });

      it('should resolve with 0 when nothing matches', async () => {
        const table = await withRecords(readings(3, 10));
        expect(await table.deleteRecords(ts(100, 200))).toBe(0);
        expect(await read(table)).toHaveLength(3);
      });
    });

    describe('clear', () => {
      it('should delete every record, staged ones and the committed state', async () => {
        const table = await withRecords(readings(5));
        await table.scratchMerge({ version: 1 });
        await table.scratchPutRecords([reading(9, 9)]);
        await table.clear();
        expect(await read(table)).toEqual([]);
        await table.scratchMerge();
        expect(await read(table)).toEqual([]);
        expect(await table.committedState?.()).toBeUndefined();
      });
    });

    describe('scratchPutRecords', () => {
      it('should stay invisible until scratchMerge, then appear all at once', async () => {
        const table = await withRecords(readings(2));
        await table.scratchPutRecords([reading(5, 5), reading(6, 6)]);
        expect((await read(table)).map((record) => record.id)).toEqual([0, 1]);
        await table.scratchMerge();
        expect((await read(table)).map((record) => record.id)).toEqual([0, 1, 5, 6]);
        expect((await read(table, everything('id'))).map((record) => record.id)).toEqual([0, 1, 5, 6]);
      });

      it('should replace committed records by key on merge, leaving no trace of their old scores', async () => {
        const table = await withRecords([reading(1, 10, 1)]);
        await table.scratchPutRecords([reading(1, 90, 2)]);
        expect(await read(table, ts(0, 20))).toEqual([reading(1, 10, 1)]);
        await table.scratchMerge();
        expect(await read(table, ts(0, 20))).toEqual([]);
        expect(await read(table)).toEqual([reading(1, 90, 2)]);
      });

      it('should keep the last of several staged versions of a record', async () => {
        const table = await fresh();
        await table.scratchPutRecords([reading(1, 10, 1)]);
        await table.scratchPutRecords(slowly([reading(1, 20, 2), reading(1, 30, 3)]));
        await table.scratchMerge();
        expect(await read(table)).toEqual([reading(1, 30, 3)]);
      });

      it('should reject an invalid key with a StorageError and leave committed records intact', async () => {
        const table = await withRecords(readings(3));
        await expect(table.scratchPutRecords([{ ...reading(4, 4), id: Number.NaN }])).rejects.toBeInstanceOf(StorageError);
        await table.scratchAbort();
        await table.scratchMerge();
        expect(await read(table)).toEqual(readings(3));
      });
    });

    describe('scratchDiscardRecords', () => {
      it('should stage deletions that only take effect on merge', async () => {
        const table = await withRecords(readings(10, 10));
        expect(await table.scratchDiscardRecords(ts(0, 50))).toBe(5);
        expect(await read(table)).toHaveLength(10);
        await table.scratchMerge();
        expect((await read(table)).map((record) => record.id)).toEqual([5, 6, 7, 8, 9]);
        expect((await read(table, everything('id'))).map((record) => record.id)).toEqual([5, 6, 7, 8, 9]);
      });

      it('should report each committed record as it is in storage', async () => {
        const table = await withRecords(readings(4, 10));
        const discarded: Reading[] = [];
        await table.scratchDiscardRecords(
          ts(10, 30, (record) => record.id !== 1),
          (record) => discarded.push(record),
        );
        expect(discarded).toEqual([reading(2, 20)]);
      });

      it('should drop staged records that match, without counting or reporting them', async () => {
        const table = await withRecords([reading(1, 10)]);
        await table.scratchPutRecords([reading(2, 20), reading(3, 300)]);
        const discarded: Reading[] = [];
        expect(await table.scratchDiscardRecords(ts(0, 100), (record) => discarded.push(record))).toBe(1);
        expect(discarded).toEqual([reading(1, 10)]);
        await table.scratchMerge();
        expect(await read(table)).toEqual([reading(3, 300)]);
      });

      it('should not report a committed record twice', async () => {
        const table = await withRecords(readings(3, 10));
        expect(await table.scratchDiscardRecords(ts(0, 100))).toBe(3);
        expect(await table.scratchDiscardRecords(ts(0, 100))).toBe(0);
      });

      it('should be undone for a key by a later scratch put of it', async () => {
        const table = await withRecords(readings(3, 10));
        await table.scratchDiscardRecords(ts(0, 100));
        await table.scratchPutRecords([reading(1, 15, 99)]);
        await table.scratchMerge();
        expect(await read(table)).toEqual([reading(1, 15, 99)]);
      });

      it('should judge committed records by their stored scores, not staged replacements', async () => {
        const table = await withRecords([reading(1, 10), reading(2, 20)]);
        await table.scratchPutRecords([reading(1, 500)]);
        const discarded: Reading[] = [];
        await table.scratchDiscardRecords(ts(0, 100), (record) => discarded.push(record));
        expect(discarded).toEqual([reading(2, 20)]);
        await table.scratchMerge();
        expect(await read(table)).toEqual([reading(1, 500)]);
      });
    });

    describe('scratchMerge', () => {
      it('should do nothing harmful when nothing is staged', async () => {
        const table = await withRecords(readings(3));
        await table.scratchMerge();
        await table.scratchMerge();
        expect(await read(table)).toEqual(readings(3));
      });

      it('should store the state given with it', async () => {
        const table = await withRecords(readings(3));
        expect(await table.committedState?.()).toBeUndefined();
        await table.scratchPutRecords([reading(5, 5)]);
        await table.scratchMerge({ range: [0, 10], at: new Date(3) });
        expect(await table.committedState?.()).toEqual({ range: [0, 10], at: new Date(3) });
      });

      it('should start a new scratch space after merging', async () => {
        const table = await withRecords(readings(2));
        await table.scratchPutRecords([reading(5, 5)]);
        await table.scratchMerge();
        await table.scratchPutRecords([reading(6, 6)]);
        await table.scratchAbort();
        expect((await read(table)).map((record) => record.id)).toEqual([0, 1, 5]);
      });
    });

    describe('scratchAbort', () => {
      it('should drop staged puts and discards', async () => {
        const table = await withRecords(readings(3, 10));
        await table.scratchDiscardRecords(ts(0, 15));
        await table.scratchPutRecords([reading(1, 11, 5), reading(7, 70)]);
        await table.scratchAbort();
        await table.scratchMerge();
        expect(await read(table)).toEqual(readings(3, 10));
      });

      it('should leave a table that stages and merges normally afterwards', async () => {
        const table = await withRecords(readings(3, 10));
        await table.scratchPutRecords([reading(8, 80)]);
        await table.scratchAbort();
        await table.scratchDiscardRecords(ts(0, 5));
        await table.scratchPutRecords([reading(9, 90)]);
        await table.scratchMerge();
        expect((await read(table)).map((record) => record.id)).toEqual([1, 2, 9]);
      });
    });
  });
}
