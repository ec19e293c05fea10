import type { CachedTable } from '../core/CachedTable';
import type { ReadSource, TableReadOptions } from '../core/CachedTableOptions';
import type { Interval } from '../core/Interval';
import { readThroughOf } from '../core/readThrough';
import { RecordsChange, type TableChange } from '../core/TableChange';
import type { IndexSpec } from '../core/types';
import { recordsPerMessage } from './batchSize';
import { serializeError } from './errorTransfer';
import type { ReadInfo, SubscriptionMessage } from './protocol';

interface Subscription<S> {
  readonly id: number;
  readonly spec: S;
  readonly batchSize: number;
  /** Each read's options (e.g. `staleWhileRevalidate`). */
  readonly options: TableReadOptions;
  /** The spec's intervals in its index; `undefined` when the index cannot say (it does not support `covers`). */
  readonly intervals: readonly Interval[] | undefined;
  /** Whether storage covered the spec when it was last read; `undefined` before that, or when the index cannot say. */
  covered: boolean | undefined;
  /**
   * `'waiting'`: a read is due but has not asked the table yet, so it will
   * see every change made until it does. `'reading'`: the table may have
   * decided the read's source already, so a change now needs another read.
   */
  phase: 'idle' | 'waiting' | 'reading';
  /** A change came in while reading: read again rather than send a result that may be stale. */
  rerun: boolean;
  /** Where the last read came from, if it got that far. */
  from: ReadSource | undefined;
  /** The refresh the last read was answered through, before it committed (`ReadThrough`): its change is in that result. */
  answeredBy: object | undefined;
  /** An invalidation touched records this spec reads from storage: refresh first, so that the refresh's own change is seen by the read. */
  refreshFirst: boolean;
  active: boolean;
}

type ReadResult<R> = { readonly records: R[]; readonly info: ReadInfo } | { readonly error: unknown };

/**
 * The live subscriptions of one connection: reads each spec at once, and
 * again after every table change that can alter its result, and posts the
 * results (or the read's error) as {@link SubscriptionMessage}s.
 *
 * A change can alter a result when it may have touched records in the
 * spec's intervals (`TableChange.affects`: stored, expired, refreshed, or
 * marked invalid), or when it switched the spec between storage and the
 * backend (`covers` flipped). Other changes cause no read.
 */
export class Subscriptions<R, PK, S extends IndexSpec, D> {
  private readonly entries = new Map<number, Subscription<S>>();
  private stopListening: (() => void) | null = null;

  constructor(
    private readonly table: CachedTable<R, PK, S, D>,
    private readonly post: (message: SubscriptionMessage) => void,
  ) {}

  /** The number of live subscriptions. */
  get size(): number {
    return this.entries.size;
  }

  /** Starts subscription `id` to `spec` (already parsed), read with `options`; its first result follows once the table is loaded. */
  add(id: number, spec: S, batchSize: number, options: TableReadOptions = {}): void {
    this.remove(id);
    const entry: Subscription<S> = {
      id,
      spec,
      batchSize,
      options,
      intervals: this.intervalsOf(spec),
      covered: undefined,
      from: undefined,
      answeredBy: undefined,
      phase: 'idle',
      rerun: false,
      refreshFirst: false,
      active: true,
    };
    this.entries.set(id, entry);
    this.stopListening ??= this.table.onChange((change) => this.onChange(change));
    void this.run(entry);
  }

  /** Ends subscription `id`; a read in progress for it is abandoned. Unknown ids are ignored. */
  remove(id: number): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.active = false;
    this.entries.delete(id);
    if (this.entries.size === 0) this.stopListeningToTable();
  }

  /** Ends every subscription. */
  dispose(): void {
    for (const id of [...this.entries.keys()]) this.remove(id);
    this.stopListeningToTable();
  }

  private stopListeningToTable(): void {
    this.stopListening?.();
    this.stopListening = null;
  }

  private onChange(change: TableChange): void {
    for (const entry of this.entries.values()) {
      if (!this.mayAlter(entry, change)) continue;
      if (change.kind === 'invalidate' && entry.from !== 'db') entry.refreshFirst = true;
      if (entry.phase === 'reading') entry.rerun = true;
      else if (entry.phase === 'idle') void this.run(entry);
    }
  }

  private mayAlter(entry: Subscription<S>, change: TableChange): boolean {
    if (change.kind === 'load') return true;
    if (change instanceof RecordsChange && change.answered !== undefined && change.answered === entry.answeredBy) return false;
    if (entry.intervals === undefined) return false;
    return this.coverage(entry.spec) !== entry.covered || change.affects(entry.spec.indexName, entry.intervals);
  }

  private async run(entry: Subscription<S>): Promise<void> {
    // A refresh done for this result (first, or by a read that a change then overtook) still describes the records sent.
    let refreshed = false;
    try {
      for (;;) {
        entry.phase = 'waiting';
        await this.table.loaded();
        if (entry.refreshFirst) {
          entry.refreshFirst = false;
          await this.table.refreshInvalid();
          refreshed = true;
        }
        if (!entry.active) return;
        entry.phase = 'reading';
        entry.rerun = false;
        const result = await this.read(entry);
        if (!entry.active) return;
        if ('info' in result) refreshed ||= result.info.refreshed;
        if (entry.rerun) continue;
        this.send(entry, 'info' in result ? { ...result, info: { ...result.info, refreshed } } : result);
        return;
      }
    } catch (error) {
      if (entry.active) this.send(entry, { error });
    } finally {
      entry.phase = 'idle';
    }
  }

  private async read(entry: Subscription<S>): Promise<ReadResult<R>> {
    try {
      // Records are only posted to the client, which copies them: storage need not copy them first.
      const read = await this.table.readRecords(entry.spec, { ...entry.options, shared: true });
      entry.covered = this.coverage(entry.spec);
      entry.from = read.from;
      entry.answeredBy = readThroughOf(read.records);
      const records: R[] = [];
      for await (const record of read.records) {
        // Leaving the loop closes the storage read or cancels the backend fetch.
        if (!entry.active) break;
        records.push(record);
      }
      const { from, refreshed, stale, incomplete, counts } = read;
      return { records, info: { from, refreshed, stale, incomplete, ...(counts ? { counts: { ...counts } } : {}) } };
    } catch (error) {
      entry.covered = this.coverage(entry.spec);
      entry.answeredBy = undefined;
      return { error };
    }
  }

  private send(entry: Subscription<S>, result: ReadResult<R>): void {
    try {
      if ('error' in result) {
        this.post({ type: 'error', subscriptionId: entry.id, error: serializeError(result.error) });
        return;
      }
      const { records, info } = result;
      const perMessage = recordsPerMessage(entry.batchSize, records[0]);
      for (let start = 0; start === 0 || start < records.length; start += perMessage) {
        const end = start + perMessage;
        const chunk = records.slice(start, end);
        this.post({ type: 'records', subscriptionId: entry.id, records: chunk, ...(end >= records.length ? { info } : {}) });
      }
    } catch (error) {
      // Typically a record that cannot be cloned (DataCloneError): the subscriber learns it instead of the records.
      this.postQuietly({ type: 'error', subscriptionId: entry.id, error: serializeError(error) });
    }
  }

  private postQuietly(message: SubscriptionMessage): void {
    try {
      this.post(message);
    } catch {
      // Posting an error message fails only when the port is gone, and then nobody is left to tell.
    }
  }

  private intervalsOf(spec: S): readonly Interval[] | undefined {
    try {
      return this.table.indexes.storageRecordsSpec(spec).intervals;
    } catch {
      // The index cannot map the spec to storage; its reads fail and say why, so only a load re-reads it.
      return undefined;
    }
  }

  private coverage(spec: S): boolean | undefined {
    try {
      return this.table.indexes.covers(spec);
    } catch {
      // Unknown coverage compares unequal to what was known, so the subscription re-reads and reports the error.
      return undefined;
    }
  }
}
