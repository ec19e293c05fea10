import { Adjustment, Interval, StorageRecordsSpec, type Indexes } from '../../src/index';

type Reading = { id: number; ts: number; value: number };
type DaySpec = { indexName: 'day'; days: number[] }; // days since 1970-01-01
const DAY = 86_400_000;

class DayAdjustment extends Adjustment<Reading, string> {
  constructor(expire: StorageRecordsSpec<Reading> | null, load: string | null, readonly days: number[]) { super(expire, load); }
}

class DayIndexes implements Indexes<Reading, number, DaySpec, string> {
  readonly indexNames = ['day'];
  private held = new Set<number>();
  score = (_indexName: string, r: Reading) => Math.floor(r.ts / DAY);
  primaryKey = (r: Reading) => r.id;
  storageRecordsSpec = ({ days }: DaySpec) =>
    new StorageRecordsSpec<Reading>('day', [...new Set(days)].map((d) => Interval.onlyContaining(d)));
  dbRecordsSpec = ({ days }: DaySpec) => `/api/readings?days=${days.join(',')}`;
  covers = ({ days }: DaySpec) => days.every((d) => this.held.has(d));
  prepareAdjustment({ days }: DaySpec) {
    const gone = [...this.held].filter((d) => !days.includes(d));
    const missing = days.filter((d) => !this.held.has(d));
    return new DayAdjustment(gone.length ? this.storageRecordsSpec({ indexName: 'day', days: gone }) : null,
      missing.length ? this.dbRecordsSpec({ indexName: 'day', days: missing }) : null, days);
  }
  commitAdjustment(a: Adjustment<Reading, string>) { this.held = new Set((a as DayAdjustment).days); }
}

export { DayIndexes, type DaySpec, type Reading as DayReading };
