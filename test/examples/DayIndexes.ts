import { Adjustment, Interval, StorageRecordsSpec, type Indexes, type RestRecordsSpec } from '../../src/index';

type Reading = { id: number; ts: number; value: number };
type DaysSpec = { indexName: 'day'; first: number; last: number }; // whole days since 1970-01-01, first..last
const DAY = 86_400_000;
const dayList = ({ first, last }: DaysSpec) => Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
const onDays = (days: number[]) => new StorageRecordsSpec<Reading>('day', days.map((d) => Interval.onlyContaining(d)));

class DaysAdjustment extends Adjustment<Reading, RestRecordsSpec> {
  constructor(expire: StorageRecordsSpec<Reading> | null, load: RestRecordsSpec | null, readonly days: DaysSpec) { super(expire, load); }
}

class DayIndexes implements Indexes<Reading, number, DaysSpec, RestRecordsSpec> {
  readonly indexNames = ['day'];
  private held: DaysSpec | null = null;
  score = (_indexName: string, r: Reading) => Math.floor(r.ts / DAY);
  primaryKey = (r: Reading) => r.id;
  storageRecordsSpec = (spec: DaysSpec) => onDays(dayList(spec));
  dbRecordsSpec = ({ first, last }: DaysSpec): RestRecordsSpec => ({ path: 'readings', query: { ge: first * DAY, lt: (last + 1) * DAY } });
  covers = ({ first, last }: DaysSpec) => this.held !== null && first >= this.held.first && last <= this.held.last;
  prepareAdjustment(spec: DaysSpec) {
    const held: DaysSpec = this.held ?? { indexName: 'day', first: 0, last: -1 }; // nothing held
    const gone = dayList(held).filter((d) => d < spec.first || d > spec.last);
    // One fetch: the days added after or before the held ones, or the whole run when they do not join it.
    const joins = spec.first <= held.last + 1 && spec.last >= held.first - 1 && (spec.first >= held.first || spec.last <= held.last);
    const load = !joins ? spec : spec.last > held.last ? { ...spec, first: held.last + 1 } : spec.first < held.first ? { ...spec, last: held.first - 1 } : null;
    const expire = joins ? gone : dayList(held);
    return new DaysAdjustment(expire.length ? onDays(expire) : null, load && this.dbRecordsSpec(load), spec);
  }
  commitAdjustment(a: Adjustment<Reading, RestRecordsSpec>) { this.held = (a as DaysAdjustment).days; }
}

export { DayIndexes, type DaysSpec, type Reading as DayReading };
