import { Interval } from './Interval';

/**
 * Per index, the score intervals known to be fresh since a resume from
 * storage; everything else is stale until a read refreshes it.
 */
export class FreshIntervals {
  private readonly fresh = new Map<string, Interval[]>();

  /** Whether every score of `intervals` in `indexName` is fresh. */
  covers(indexName: string, intervals: readonly Interval[]): boolean {
    const fresh = this.fresh.get(indexName) ?? [];
    return intervals.every((interval) => interval.isEmpty || fresh.some((known) => known.covers(interval)));
  }

  /** Records that `intervals` of `indexName` are fresh now. */
  add(indexName: string, intervals: readonly Interval[]): void {
    const all = [...(this.fresh.get(indexName) ?? []), ...intervals.filter((interval) => !interval.isEmpty)].sort(
      (a, b) => a.ge - b.ge,
    );
    const merged: Interval[] = [];
    for (const interval of all) {
      const last = merged.at(-1);
      if (last && interval.ge <= last.lt) merged[merged.length - 1] = new Interval(last.ge, Math.max(last.lt, interval.lt));
      else merged.push(interval);
    }
    this.fresh.set(indexName, merged);
  }
}
