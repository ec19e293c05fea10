import { TableCacheError } from './errors';
import { Interval } from './Interval';

/**
 * A set of records in storage: those whose score in index `indexName` lies in
 * one of `intervals` and that pass `recheck` (when given).
 */
export class StorageRecordsSpec<R = unknown> {
  /** The index whose scores the intervals are in. */
  readonly indexName: string;
  /** Non-overlapping intervals of scores. */
  readonly intervals: readonly Interval[];
  /** An extra filter on the records found by score; all pass when absent. */
  readonly recheck: ((record: R) => boolean) | undefined;

  /** @throws {TableCacheError} when two intervals overlap. */
  constructor(indexName: string, intervals: readonly Interval[], recheck?: (record: R) => boolean) {
    for (const interval of intervals) {
      if (!(interval instanceof Interval)) {
        throw new TableCacheError(`StorageRecordsSpec for index '${indexName}' takes Interval objects.`);
      }
    }
    const sorted = intervals.filter((interval) => !interval.isEmpty).sort((a, b) => a.ge - b.ge);
    for (let i = 1; i < sorted.length; i++) {
      const previous = sorted[i - 1] as Interval;
      const current = sorted[i] as Interval;
      if (previous.intersects(current)) {
        throw new TableCacheError(
          `StorageRecordsSpec for index '${indexName}' has overlapping intervals ${previous.toString()} and ${current.toString()}.`,
        );
      }
    }
    this.indexName = indexName;
    this.intervals = Object.freeze([...intervals]);
    this.recheck = recheck;
  }

  /** Whether a record with this score in `indexName` belongs to the set (`recheck` included). */
  matches(score: number, record: R): boolean {
    return this.intervals.some((interval) => interval.contains(score)) && (this.recheck?.(record) ?? true);
  }

  toString(): string {
    return `${this.indexName} in ${this.intervals.map(String).join(' ∪ ') || '∅'}${this.recheck ? ' (rechecked)' : ''}`;
  }
}
