import type { PrimaryKey } from '../../core/keys';
import type { StorageRecordsSpec } from '../../core/StorageRecordsSpec';
import type { RecordScorer } from '../../core/types';
import { yieldWhenBusy } from '../../core/yieldWhenBusy';
import { MemoryStorageTable, type ScoredRecord } from '../MemoryStorageTable';

/**
 * Records per step of a read: one `structuredClone` call when it hands out
 * copies (records copied together share nothing they did not share in the
 * copy), one look at the event loop.
 */
const BATCH = 256;

/**
 * What `IdbStorageTable` holds, kept in memory as well, so that a read need
 * not pay IndexedDB's price per row (several microseconds in Chromium,
 * against well under one here).
 *
 * The copy is exact or absent: `IdbStorageTable` applies each write here
 * only once IndexedDB has committed it, with the same records (its own
 * copies, which nobody else holds), keys and scores, the same scratch space
 * and the same merge. When it cannot be sure of the staged changes (a
 * staged discard failed part-way or disagreed, or they outgrew `limit`), the
 * copy stops following the scratch space but keeps serving the committed
 * state until the merge, which then drops it; when it cannot be sure of the
 * committed state, it is dropped at once (`lose`). `IdbStorageTable` fills
 * it again from IndexedDB when no scratch space is open.
 *
 * Reads hand out copies (unless `shared`), so a reader cannot change what is
 * stored by changing an object it got.
 */
export class MemoryMirror<R> {
  private readonly scorer: RecordScorer<R, PrimaryKey>;
  private table: MemoryStorageTable<R> | null = null;
  /** False once the staged changes are no longer followed (until the scratch space is merged or aborted). */
  private followsScratch = true;
  /** Set when the table closes: from then on there is no copy, whatever a fill still running finds. */
  private closed = false;

  /**
   * @param limit the most records held, staged ones included (see `IdbStorageTableOptions.memoryRecords`).
   */
  constructor(
    scorer: RecordScorer<R, unknown>,
    private readonly name: string,
    readonly limit: number,
  ) {
    // Both tables check keys with scoreRecord: a record IndexedDB took has a valid key.
    this.scorer = scorer as RecordScorer<R, PrimaryKey>;
  }

  /** Whether reads can be served from memory. */
  get ready(): boolean {
    return this.table !== null;
  }

  /** Whether a copy may be kept at all (`limit` above 0). */
  get enabled(): boolean {
    return this.limit > 0;
  }

  /**
   * The committed records matching `spec` when called, as copies unless
   * `shared`. Iterating calls `check` first (which may throw), and throws a
   * `StorageError` for an unknown index.
   */
  read(spec: StorageRecordsSpec<R>, shared: boolean, check: () => void): AsyncGenerator<R> {
    return stepAside((this.table as MemoryStorageTable<R>).getRecordsSync(spec), shared, check);
  }

  /**
   * Builds the copy from the committed rows, as read from IndexedDB (fresh
   * objects), while no scratch space is open. Gives up when there are more
   * than `limit`.
   */
  async fill(batches: AsyncIterable<readonly ScoredRecord<R>[]>): Promise<void> {
    this.lose();
    const table = this.emptyTable();
    for await (const rows of batches) {
      table.putScored(rows);
      if (table.size > this.limit) return;
    }
    if (!this.closed) this.table = table;
  }

  /** An empty copy, after `clear()`. */
  reset(): void {
    this.lose();
    if (this.enabled && !this.closed) this.table = this.emptyTable();
  }

  /** The table closed: drops the copy for good. */
  close(): void {
    this.closed = true;
    this.lose();
  }

  private emptyTable(): MemoryStorageTable<R> {
    return new MemoryStorageTable(this.scorer, { name: this.name });
  }

  /** Drops the copy; reads go to IndexedDB until it is filled again. */
  lose(): void {
    this.table = null;
    this.followsScratch = true;
  }

  /**
   * Stops following the staged changes: the committed state stays, and is
   * served, until the merge drops the copy or the abort resumes it.
   */
  loseScratch(): void {
    void this.table?.scratchAbort();
    this.followsScratch = false;
  }

  /** Whether `put` (`staged`: `stage`) would use records now: the caller need not copy them otherwise. */
  wants(staged: boolean): boolean {
    return this.table !== null && (!staged || this.followsScratch);
  }

  /**
   * Rows IndexedDB has written directly to the committed state (while no
   * scratch space is open). The records must be the table's own: nobody
   * else may hold them.
   */
  put(rows: readonly ScoredRecord<R>[]): Promise<void> {
    return this.apply(async (table) => table.putScored(rows), this.lose);
  }

  /** IndexedDB deleted `count` committed records matching `spec` (while no scratch space is open). */
  delete(spec: StorageRecordsSpec<R>, count: number): Promise<void> {
    return this.apply((table) => table.deleteRecords(spec), this.lose, count);
  }

  /** Rows IndexedDB has staged; the records must be the table's own, as for `put`. */
  stage(rows: readonly ScoredRecord<R>[]): Promise<void> {
    if (!this.followsScratch) return Promise.resolve();
    return this.apply(async (table) => table.scratchPutScored(rows), this.loseScratch);
  }

  /** IndexedDB staged the discard of `count` committed records matching `spec`. */
  discard(spec: StorageRecordsSpec<R>, count: number): Promise<void> {
    if (!this.followsScratch) return Promise.resolve();
    return this.apply((table) => table.scratchDiscardRecords(spec), this.loseScratch, count);
  }

  /**
   * IndexedDB committed the scratch space. Synchronous, so that no read sees
   * one merged and the other not; drops the copy when it did not follow the
   * staged changes.
   */
  merge(): void {
    if (!this.followsScratch) {
      this.lose();
      return;
    }
    // MemoryStorageTable's scratchMerge and scratchAbort do all their work before they return.
    void this.table?.scratchMerge();
  }

  /** IndexedDB dropped the scratch space. */
  abort(): void {
    void this.table?.scratchAbort();
    this.followsScratch = true;
  }

  /**
   * Runs a write on the copy; when the write fails, disagrees with
   * IndexedDB's count or outgrows the limit, gives up with `giveUp`.
   */
  private async apply(
    write: (table: MemoryStorageTable<R>) => Promise<number | void>,
    giveUp: (this: MemoryMirror<R>) => void,
    expected?: number,
  ): Promise<void> {
    const table = this.table;
    if (!table) return;
    let agrees: boolean;
    try {
      const count = await write(table);
      agrees = expected === undefined || count === expected;
    } catch {
      agrees = false;
    }
    if (this.table === table && (!agrees || table.scratchSize > this.limit || table.size > this.limit)) giveUp.call(this);
  }
}

/**
 * The records, copied in batches unless `shared` (one `structuredClone`
 * call per batch is much cheaper than one per record). Reading memory
 * involves no task of the event loop, so a read steps aside for one when
 * none ran since the last read began (reads back to back would otherwise
 * keep IndexedDB's events waiting, and with them every write), and during a
 * long read every few milliseconds.
 */
async function* stepAside<R>(records: Iterable<R>, shared: boolean, check: () => void): AsyncGenerator<R> {
  check();
  const start = yieldWhenBusy(0);
  if (start) await start;
  let batch: R[] = [];
  for (const record of records) {
    batch.push(record);
    if (batch.length === BATCH) {
      yield* shared ? batch : structuredClone(batch);
      batch = [];
      const pause = yieldWhenBusy();
      if (pause) await pause;
    }
  }
  if (batch.length > 0) yield* shared ? batch : structuredClone(batch);
}
