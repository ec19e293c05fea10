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

  /** The fresh intervals as plain data (structured-cloneable), for {@link FreshIntervals.fromSnapshot}. */
  snapshot(): FreshSnapshot {
    return [...this.fresh].map(([indexName, intervals]) => [indexName, intervals.map((interval) => [interval.ge, interval.lt] as const)]);
  }

  /** The intervals of a `snapshot()`; `null` when `value` is not one. */
  static fromSnapshot(value: unknown): FreshIntervals | null {
    if (!Array.isArray(value)) return null;
    const restored = new FreshIntervals();
    for (const entry of value as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) return null;
      const intervals: Interval[] = [];
      for (const bounds of entry[1] as unknown[]) {
        if (!Array.isArray(bounds) || typeof bounds[0] !== 'number' || typeof bounds[1] !== 'number' || !(bounds[0] <= bounds[1]))
          return null;
        intervals.push(new Interval(bounds[0], bounds[1]));
      }
      restored.add(entry[0], intervals);
    }
    return restored;
  }

  /** Records that `intervals` of `indexName` are fresh now. */
  add(indexName: string, intervals: readonly Interval[]): void {
    const all = [...(this.fresh.get(indexName) ?? []), ...intervals.filter((interval) => !interval.isEmpty)].sort((a, b) => a.ge - b.ge);
    const merged: Interval[] = [];
    for (const interval of all) {
      const last = merged.at(-1);
      if (last && interval.ge <= last.lt) merged[merged.length - 1] = new Interval(last.ge, Math.max(last.lt, interval.lt));
      else merged.push(interval);
    }
    this.fresh.set(indexName, merged);
  }
}

/** {@link FreshIntervals} as plain data: per index, its fresh `[ge, lt)` intervals. */
export type FreshSnapshot = (readonly [string, (readonly [number, number])[]])[];
