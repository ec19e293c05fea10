import type { DbAccess, DbAccessOptions } from '../../src/core/types';
import type { FilterSpec, Reading } from './records';

/**
 * An in-memory backend for the tests: records in an array the test may
 * change, every fetch counted, failures and pauses on demand.
 */
export class MemoryDbAccess implements DbAccess<Reading, FilterSpec> {
  records: Reading[];
  /** Every fetch, in order. */
  readonly requests: FilterSpec[] = [];
  /** When set, the next fetch throws this after yielding `failAfter` records. */
  private failure: { error: Error; after: number } | null = null;
  /** When set, fetches wait for it before yielding anything. */
  private pause: Promise<void> | null = null;
  /** Fetches whose iteration was closed before it finished. */
  cancelled = 0;
  /** When set, each fetch tells `options.onTotal` how many records it will yield, before the first. */
  tellsTotal = false;

  constructor(records: Reading[] = []) {
    this.records = [...records];
  }

  /** Replaces (by id) or adds records, as a change in the backend. */
  upsert(...records: Reading[]): void {
    for (const record of records) {
      const i = this.records.findIndex((existing) => existing.id === record.id);
      if (i >= 0) this.records[i] = record;
      else this.records.push(record);
    }
  }

  remove(id: number): void {
    this.records = this.records.filter((record) => record.id !== id);
  }

  failNext(error: Error, after = 0): void {
    this.failure = { error, after };
  }

  /** Holds every fetch until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.pause = new Promise((resolve) => (release = resolve));
    return () => {
      this.pause = null;
      release();
    };
  }

  async *getRecords(spec: FilterSpec, options?: DbAccessOptions): AsyncGenerator<Reading> {
    this.requests.push(spec);
    const failure = this.failure;
    this.failure = null;
    const matching = this.records.filter(spec.where);
    let finished = false;
    try {
      if (this.pause) await this.pause;
      if (this.tellsTotal) options?.onTotal?.(matching.length);
      let yielded = 0;
      for (const record of matching) {
        if (failure && yielded === failure.after) throw failure.error;
        options?.signal?.throwIfAborted();
        yield record;
        yielded++;
      }
      if (failure) throw failure.error;
      finished = true;
    } finally {
      if (!finished) this.cancelled++;
    }
  }
}
