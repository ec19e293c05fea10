import type { Interval } from './Interval';

/** What kind of operation changed the table. */
export type TableChangeKind = 'load' | 'adjust' | 'refresh' | 'invalidate';

/**
 * A change of a `CachedTable`, as told to `onChange` listeners: enough to
 * decide whether a read of some records could now give a different result.
 */
export interface TableChange {
  readonly kind: TableChangeKind;
  /**
   * Whether records with a score in `intervals` of index `indexName` may
   * have changed: stored, expired, refreshed, or (for `'invalidate'`) marked
   * to be refreshed on the next read.
   */
  affects(indexName: string, intervals: readonly Interval[]): boolean;
}

/** A change that may touch every record (a load, a feed reset, or a change that began before its listener was added). */
export class WholeTableChange implements TableChange {
  constructor(readonly kind: TableChangeKind) {}

  affects(): boolean {
    return true;
  }
}

/**
 * A change of the records with known scores (an adjust or a refresh), and
 * of the `refreshed` intervals whose records became fresh (after `resume()`,
 * reads of them are no longer stale even where no record changed).
 */
export class RecordsChange implements TableChange {
  private readonly sortedScores: ReadonlyMap<string, Float64Array>;

  /**
   * @param answered the read answered from this refresh's fetch (see `ReadThrough`), whose records already are what
   *   this change made.
   */
  constructor(
    readonly kind: TableChangeKind,
    scores: ReadonlyMap<string, readonly number[]>,
    private readonly refreshed: ReadonlyMap<string, readonly Interval[]> = new Map(),
    readonly answered?: object,
  ) {
    this.sortedScores = new Map([...scores].map(([indexName, list]) => [indexName, Float64Array.from(list).sort()]));
  }

  affects(indexName: string, intervals: readonly Interval[]): boolean {
    const fresh = this.refreshed.get(indexName);
    if (fresh?.some((known) => intervals.some((interval) => interval.intersects(known)))) return true;
    const scores = this.sortedScores.get(indexName);
    if (!scores || scores.length === 0) return false;
    return intervals.some((interval) => {
      if (interval.isEmpty) return false;
      const first = lowerBound(scores, interval.ge);
      return first < scores.length && interval.contains(scores[first] as number);
    });
  }
}

/** Marks made by `invalidateRecords` with `forceRefreshOnNextRead`. */
export class InvalidationChange implements TableChange {
  readonly kind = 'invalidate';

  constructor(
    private readonly intervals: ReadonlyMap<string, readonly Interval[]>,
    private readonly dirtyIndexes: ReadonlySet<string>,
  ) {}

  affects(indexName: string, intervals: readonly Interval[]): boolean {
    if (this.dirtyIndexes.has(indexName)) return true;
    const marked = this.intervals.get(indexName) ?? [];
    return marked.some((mark) => intervals.some((interval) => interval.intersects(mark)));
  }
}

/** The first position in sorted `scores` whose value is not below `x`. */
function lowerBound(scores: Float64Array, x: number): number {
  let low = 0;
  let high = scores.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((scores[middle] as number) < x) low = middle + 1;
    else high = middle;
  }
  return low;
}
