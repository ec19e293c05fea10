import type { StorageRecordsSpec } from '../../core/StorageRecordsSpec';
import type { PrimaryKey } from '../../core/keys';
import type { RecordScorer } from '../../core/types';
import { MemoryStorageTable } from '../MemoryStorageTable';

/** Records cloned per `structuredClone` call when a read hands out copies. */
const CLONE_BATCH = 256;

/**
 * What `IdbStorageTable` holds, kept in memory as well, so that a read need
 * not pay IndexedDB's price per row (several microseconds in Chromium,
 * against well under one here).
 *
 * The copy is exact or absent: `IdbStorageTable` applies each write here
 * only once IndexedDB has committed it, with the same scratch space and the
 * same merge, and drops the copy (`lose`) whenever it cannot be sure the two
 * agree. It is filled again from IndexedDB when no scratch space is open.
 * Records go in and come out as copies, so neither the writer nor a reader
 * can change what is stored by changing an object it holds.
 */
export class MemoryMirror<R> {
  private table: MemoryStorageTable<R> | null = null;

  /**
   * @param limit the most records held (committed or staged); beyond it the
   *   copy is dropped, and refilled after a merge once the table is small enough.
   */
  private readonly scorer: RecordScorer<R, PrimaryKey>;

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

  /** The committed records matching `spec` when called, as copies (a `StorageError` for an unknown index when iterated). */
  read(spec: StorageRecordsSpec<R>): AsyncGenerator<R> {
    return copies((this.table as MemoryStorageTable<R>).getRecordsSync(spec));
  }

  /**
   * Builds the copy from the committed records, as read from IndexedDB (fresh
   * objects: they are not copied again). Resolves with whether it is in use:
   * not when there are more than `limit` records.
   */
  async fill(batches: AsyncIterable<readonly R[]>): Promise<boolean> {
    this.table = null;
    const table = new MemoryStorageTable(this.scorer, { name: this.name });
    for await (const records of batches) {
      await table.putRecords(records);
      if (table.size > this.limit) return false;
    }
    this.table = table;
    return true;
  }

  /** An empty copy, after `clear()`. */
  reset(): void {
    this.table = this.enabled ? new MemoryStorageTable(this.scorer, { name: this.name }) : null;
  }

  /** Drops the copy; reads go to IndexedDB until it is filled again. */
  lose(): void {
    this.table = null;
  }

  /** Records IndexedDB has written directly to the committed state. */
  put(records: readonly R[]): Promise<void> {
    return this.apply((table) => table.putRecords(structuredClone(records)));
  }

  /** Records IndexedDB has staged. */
  stage(records: readonly R[]): Promise<void> {
    return this.apply((table) => table.scratchPutRecords(structuredClone(records)));
  }

  /** IndexedDB deleted `count` committed records matching `spec`. */
  delete(spec: StorageRecordsSpec<R>, count: number): Promise<void> {
    return this.apply((table) => table.deleteRecords(spec), count);
  }

  /** IndexedDB staged the discard of `count` committed records matching `spec`. */
  discard(spec: StorageRecordsSpec<R>, count: number): Promise<void> {
    return this.apply((table) => table.scratchDiscardRecords(spec), count);
  }

  /** IndexedDB committed the scratch space. Synchronous, so that no read sees one merged and the other not. */
  merge(): void {
    // MemoryStorageTable's scratchMerge and scratchAbort do all their work before they return.
    void this.table?.scratchMerge();
  }

  /** IndexedDB dropped the scratch space. */
  abort(): void {
    void this.table?.scratchAbort();
  }

  /** Runs a write on the copy; drops the copy when the write fails, disagrees with IndexedDB's count or outgrows the limit. */
  private async apply(write: (table: MemoryStorageTable<R>) => Promise<number | void>, expected?: number): Promise<void> {
    const table = this.table;
    if (!table) return;
    let agrees: boolean;
    try {
      const count = await write(table);
      agrees = expected === undefined || count === expected;
    } catch {
      agrees = false;
    }
    if (this.table === table && (!agrees || table.scratchSize > this.limit || table.size > this.limit)) this.lose();
  }
}

/** The records, copied in batches (one `structuredClone` call per batch is much cheaper than one per record). */
async function* copies<R>(records: Iterable<R>): AsyncGenerator<R> {
  let batch: R[] = [];
  for (const record of records) {
    batch.push(record);
    if (batch.length === CLONE_BATCH) {
      yield* structuredClone(batch);
      batch = [];
    }
  }
  if (batch.length > 0) yield* structuredClone(batch);
}
