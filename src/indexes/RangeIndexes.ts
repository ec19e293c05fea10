import { z } from 'zod';
import { Adjustment } from '../core/Adjustment';
import { TableCacheError } from '../core/errors';
import { Interval } from '../core/Interval';
import type { PrimaryKey } from '../core/keys';
import { StorageRecordsSpec } from '../core/StorageRecordsSpec';
import type { Indexes } from '../core/types';
import { complement, difference, intersection } from './intervals';
import { checkIndexName, parseSpec, scoreBound } from './schemas';

/**
 * A bound of a {@link RangeSpec}: a number (±Infinity allowed, not NaN), a
 * `Date`, or an ISO 8601 date-time string with an offset
 * (`'2026-01-01T00:00:00Z'`, `'2026-01-01T02:00:00+02:00'`); Dates and
 * strings are read as epoch milliseconds.
 */
export type ScoreBound = number | Date | string;

/** A range of one attribute's values, `[ge, lt)`. */
export interface RangeSpec<N extends string = string> {
  readonly indexName: N;
  /** Lowest value included. */
  readonly ge: ScoreBound;
  /** Lowest value above the range (excluded). */
  readonly lt: ScoreBound;
}

/** Options of {@link RangeIndexes}. */
export interface RangeIndexesOptions<R, PK, D, N extends string> {
  /** The index's name, e.g. `'time'`. */
  indexName: N;
  /** The record's primary key. */
  primaryKey: (record: R) => PK;
  /** The attribute the range is over, as a number (dates as epoch ms). */
  score: (record: R) => number;
  /** The backend fetch of the records with `ge <= score < lt`. */
  dbRecordsSpecForRange: (ge: number, lt: number) => D;
  /**
   * The backend fetch of the records with these primary keys (at most
   * `CachedTableOptions.keysPerFetch` at a time). Needed by
   * `CachedTable.invalidateKeys`; without it, that rejects with
   * `UnsupportedOperationError`.
   */
  dbRecordsSpecForKeys?: ((keys: readonly PK[]) => D) | undefined;
}

/** The adjustment of a {@link RangeIndexes}: which range storage will hold. */
export class RangeAdjustment<R, D> extends Adjustment<R, D> {
  /** The range held once committed. */
  readonly range: Interval;

  constructor(expireSpec: StorageRecordsSpec<R> | null, loadSpec: D | null, range: Interval) {
    super(expireSpec, loadSpec);
    this.range = range;
  }
}

/**
 * Caches the records whose value of one attribute (a number, or a date as
 * epoch ms) lies in a range. An adjust expires only what falls out of the new
 * range and loads only the part of it not already held (the whole new range
 * when it grows on both sides).
 */
export class RangeIndexes<R, PK = PrimaryKey, D = unknown, N extends string = string> implements Indexes<R, PK, RangeSpec<N>, D> {
  readonly indexNames: readonly [N];
  /** Parses `{ indexName, ge, lt }`; bounds may be numbers, Dates or ISO date-time strings, and come out as numbers. */
  readonly specSchema: z.ZodType<RangeSpec<N> & { readonly ge: number; readonly lt: number }, RangeSpec<N>>;
  private readonly options: RangeIndexesOptions<R, PK, D, N>;
  private held: Interval | null = null;
  /** The backend fetch of records by primary key; present when given as an option. */
  readonly dbRecordsSpecForKeys: ((keys: readonly PK[]) => D) | undefined;

  constructor(options: RangeIndexesOptions<R, PK, D, N>) {
    this.options = options;
    this.dbRecordsSpecForKeys = options.dbRecordsSpecForKeys;
    this.indexNames = [options.indexName];
    this.specSchema = z
      .object({ indexName: z.literal(options.indexName), ge: scoreBound, lt: scoreBound })
      .refine((spec) => spec.ge <= spec.lt, { message: 'ge must not be above lt', path: ['lt'] });
  }

  /** The range storage holds, or `null` before the first load. */
  get heldRange(): Interval | null {
    return this.held;
  }

  score(indexName: string, record: R): number {
    checkIndexName(indexName, this.options.indexName);
    const score = this.options.score(record);
    if (typeof score !== 'number' || Number.isNaN(score)) {
      throw new TableCacheError(`Index '${indexName}' scored a record ${String(score)}; scores must be numbers, not NaN.`);
    }
    return score;
  }

  primaryKey(record: R): PK {
    return this.options.primaryKey(record);
  }

  storageRecordsSpec(spec: RangeSpec<N>): StorageRecordsSpec<R> {
    return new StorageRecordsSpec(this.options.indexName, [this.interval(spec)]);
  }

  dbRecordsSpec(spec: RangeSpec<N>): D {
    const interval = this.interval(spec);
    return this.options.dbRecordsSpecForRange(interval.ge, interval.lt);
  }

  prepareAdjustment(spec: RangeSpec<N>): RangeAdjustment<R, D> {
    const wanted = this.interval(spec);
    const expired = this.held ? complement(wanted) : [];
    const missing = difference(wanted, this.held);
    const load = missing.length === 1 ? (missing[0] as Interval) : missing.length > 1 ? wanted : null;
    return new RangeAdjustment<R, D>(
      expired.length ? new StorageRecordsSpec<R>(this.options.indexName, expired) : null,
      load ? this.options.dbRecordsSpecForRange(load.ge, load.lt) : null,
      wanted,
    );
  }

  commitAdjustment(adjustment: Adjustment<R, D>): void {
    if (!(adjustment instanceof RangeAdjustment)) {
      throw new TableCacheError(`Index '${this.options.indexName}' can only commit its own adjustments.`);
    }
    this.held = adjustment.range;
  }

  covers(spec: RangeSpec<N>): boolean {
    const interval = this.interval(spec);
    return interval.isEmpty || (this.held?.covers(interval) ?? false);
  }

  /** Whether the record's score lies in the held range. */
  coversRecord(record: R): boolean {
    return this.held?.contains(this.score(this.options.indexName, record)) ?? false;
  }

  /** The part of `spec`'s range that is held, and the one or two gaps around it. */
  splitCoverage(spec: RangeSpec<N>): { covered: RangeSpec<N>[]; missing: RangeSpec<N>[] } {
    const wanted = this.interval(spec);
    const held = this.held ? intersection(wanted, this.held) : null;
    const toSpec = (interval: Interval): RangeSpec<N> => ({ indexName: this.options.indexName, ge: interval.ge, lt: interval.lt });
    if (!held || held.isEmpty) return { covered: [], missing: wanted.isEmpty ? [] : [spec] };
    return { covered: [toSpec(held)], missing: difference(wanted, this.held).map(toSpec) };
  }

  /** `{ range: [ge, lt] | null }`: the held range. */
  snapshotState(): { range: [number, number] | null } {
    return { range: this.held ? [this.held.ge, this.held.lt] : null };
  }

  /** @throws {TableCacheError} when `state` is not one `snapshotState` returns. */
  restoreState(state: unknown): void {
    const bound = z.custom<number>((value) => typeof value === 'number' && !Number.isNaN(value));
    const parsed = z.object({ range: z.tuple([bound, bound]).nullable() }).safeParse(state);
    if (!parsed.success) throw new TableCacheError(`Index '${this.options.indexName}' cannot restore state ${JSON.stringify(state)}.`);
    const range = parsed.data.range;
    this.held = range ? new Interval(range[0], range[1]) : null;
  }

  private interval(spec: RangeSpec<N>): Interval {
    checkIndexName(spec.indexName, this.options.indexName);
    const { ge, lt } = parseSpec(this.specSchema, spec, `Index '${this.options.indexName}'`);
    return new Interval(ge, lt);
  }
}
