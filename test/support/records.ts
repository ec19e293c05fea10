import { Adjustment } from '../../src/core/Adjustment';
import { UnsupportedIndexOperation } from '../../src/core/errors';
import { Interval } from '../../src/core/Interval';
import { StorageRecordsSpec } from '../../src/core/StorageRecordsSpec';
import type { Indexes, RecordScorer } from '../../src/core/types';
import { complement, difference, intersection } from '../../src/indexes/intervals';
import { RangeIndexes } from '../../src/indexes/RangeIndexes';

/** A sensor reading, the shape the tests use. */
export interface Reading {
  readonly id: number;
  readonly sensor: string;
  readonly ts: number;
  readonly value: number;
}

export function reading(id: number, ts: number, value = id * 10, sensor = `s${id % 3}`): Reading {
  return { id, sensor, ts, value };
}

/** Readings with ids `0..count-1` and `ts = id * step`. */
export function readings(count: number, step = 1): Reading[] {
  return Array.from({ length: count }, (_, id) => reading(id, id * step));
}

/** Scores readings by id (`'id'`) and by time (`'ts'`). */
export const readingScorer: RecordScorer<Reading, number> = {
  indexNames: ['id', 'ts'],
  score(indexName, record) {
    if (indexName === 'id') return record.id;
    if (indexName === 'ts') return record.ts;
    throw new Error(`no index ${indexName}`);
  },
  primaryKey: (record) => record.id,
};

/** A fetch spec for the in-memory backend: a predicate with a description. */
export interface FilterSpec {
  readonly description: string;
  readonly where: (record: Reading) => boolean;
}

export type TwoIndexSpec =
  { readonly indexName: 'ts'; readonly ge: number; readonly lt: number } | { readonly indexName: 'id'; readonly ids: readonly number[] };

/** Tracks the ids in storage by observing what an adjustment expires and loads. */
export class TrackingAdjustment extends Adjustment<Reading, FilterSpec> {
  readonly ids: Set<number>;
  readonly expiredRecords: Reading[] = [];
  readonly loadedRecords: Reading[] = [];

  constructor(
    expireSpec: StorageRecordsSpec<Reading> | null,
    loadSpec: FilterSpec | null,
    readonly range: Interval,
    ids: ReadonlySet<number>,
  ) {
    super(expireSpec, loadSpec);
    this.ids = new Set(ids);
  }

  override observeExpired(record: Reading): void {
    this.expiredRecords.push(record);
    this.ids.delete(record.id);
  }

  override observeLoaded(record: Reading): void {
    this.loadedRecords.push(record);
    this.ids.add(record.id);
  }
}

/**
 * The SPEC's two-index example: loaded and adjusted by a time range, read by
 * time or by id. Coverage by id comes from observing the adjustments.
 */
export class TwoIndexes implements Indexes<Reading, number, TwoIndexSpec, FilterSpec> {
  readonly indexNames = ['id', 'ts'] as const;
  range: Interval | null = null;
  ids = new Set<number>();
  readonly adjustments: TrackingAdjustment[] = [];

  score(indexName: string, record: Reading): number {
    return readingScorer.score(indexName, record);
  }

  primaryKey(record: Reading): number {
    return record.id;
  }

  storageRecordsSpec(spec: TwoIndexSpec): StorageRecordsSpec<Reading> {
    if (spec.indexName === 'ts') return new StorageRecordsSpec('ts', [new Interval(spec.ge, spec.lt)]);
    const ids = [...new Set(spec.ids)].sort((a, b) => a - b);
    return new StorageRecordsSpec(
      'id',
      ids.map((id) => Interval.onlyContaining(id)),
    );
  }

  dbRecordsSpec(spec: TwoIndexSpec): FilterSpec {
    if (spec.indexName === 'ts') return tsRange(spec.ge, spec.lt);
    const ids = new Set(spec.ids);
    return { description: `ids ${[...ids].join(',')}`, where: (record) => ids.has(record.id) };
  }

  prepareAdjustment(spec: TwoIndexSpec): TrackingAdjustment {
    if (spec.indexName !== 'ts') throw new UnsupportedIndexOperation(spec.indexName, 'adjusting');
    const wanted = new Interval(spec.ge, spec.lt);
    const missing = difference(wanted, this.range);
    const load = missing.length === 1 ? missing[0]! : missing.length > 1 ? wanted : null;
    const adjustment = new TrackingAdjustment(
      this.range ? new StorageRecordsSpec('ts', complement(wanted)) : null,
      load ? tsRange(load.ge, load.lt) : null,
      wanted,
      this.range ? this.ids : new Set(),
    );
    this.adjustments.push(adjustment);
    return adjustment;
  }

  commitAdjustment(adjustment: Adjustment<Reading, FilterSpec>): void {
    const tracking = adjustment as TrackingAdjustment;
    this.range = tracking.range;
    this.ids = tracking.ids;
  }

  dbRecordsSpecForKeys(keys: readonly number[]): FilterSpec {
    return idsFilter(keys);
  }

  coversRecord(record: Reading): boolean {
    return this.range?.contains(record.ts) ?? false;
  }

  covers(spec: TwoIndexSpec): boolean {
    if (spec.indexName === 'ts') return this.range?.covers(new Interval(spec.ge, spec.lt)) ?? false;
    return spec.ids.every((id) => this.ids.has(id));
  }

  snapshotState(): { range: [number, number] | null; ids: number[] } {
    return { range: this.range && [this.range.ge, this.range.lt], ids: [...this.ids] };
  }

  restoreState(state: unknown): void {
    const { range, ids } = state as ReturnType<TwoIndexes['snapshotState']>;
    this.range = range && new Interval(range[0], range[1]);
    this.ids = new Set(ids);
  }
}

export function tsRange(ge: number, lt: number): FilterSpec {
  const interval = new Interval(ge, lt);
  return { description: `ts in ${interval.toString()}`, where: (record) => interval.contains(record.ts) };
}

/** The backend fetch of these ids. */
export function idsFilter(ids: readonly number[]): FilterSpec {
  const wanted = new Set(ids);
  return { description: `ids ${[...wanted].join(',')}`, where: (record) => wanted.has(record.id) };
}

/** `RangeIndexes` of readings by `ts`, fetched by range (`tsRange`) and by keys (`idsFilter`). */
export function tsIndexes(): RangeIndexes<Reading, number, FilterSpec, 'ts'> {
  return new RangeIndexes<Reading, number, FilterSpec, 'ts'>({
    indexName: 'ts',
    primaryKey: (record) => record.id,
    score: (record) => record.ts,
    dbRecordsSpecForRange: tsRange,
    dbRecordsSpecForKeys: idsFilter,
  });
}

export function allRecords(): FilterSpec {
  return { description: 'all', where: () => true };
}

/** Sorts by id, for order-independent comparisons. */
export function byId<T extends { id: number }>(records: Iterable<T>): T[] {
  return [...records].sort((a, b) => a.id - b.id);
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** A small deterministic PRNG (mulberry32), for randomized tests with a fixed seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** TwoIndexes that can split a partly covered spec, for partial hits. */
export class SplittingTwoIndexes extends TwoIndexes {
  splitCoverage(spec: TwoIndexSpec): { covered: TwoIndexSpec[]; missing: TwoIndexSpec[] } {
    if (spec.indexName === 'id') {
      const covered = spec.ids.filter((id) => this.ids.has(id));
      const missing = spec.ids.filter((id) => !this.ids.has(id));
      return {
        covered: covered.length ? [{ indexName: 'id', ids: covered }] : [],
        missing: missing.length ? [{ indexName: 'id', ids: missing }] : [],
      };
    }
    const wanted = new Interval(spec.ge, spec.lt);
    const held = this.range && intersection(wanted, this.range);
    if (!held) return { covered: [], missing: [spec] };
    return {
      covered: [{ indexName: 'ts', ge: held.ge, lt: held.lt }],
      missing: difference(wanted, this.range).map((gap) => ({ indexName: 'ts', ge: gap.ge, lt: gap.lt })),
    };
  }
}
