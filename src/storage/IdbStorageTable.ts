import { StorageError, TableCacheError } from '../core/errors';
import { Interval } from '../core/Interval';
import { describeKey, keyToString, type PrimaryKey } from '../core/keys';
import { mergeAsync } from '../core/mergeAsync';
import { Mutex } from '../core/Mutex';
import type { StorageRecordsSpec } from '../core/StorageRecordsSpec';
import type { ReadOptions, RecordScorer, RecordSource, StorageTable } from '../core/types';
import { abortQuietly, requestResult, transactionDone } from './idb/idbRequests';
import { MemoryMirror } from './idb/MemoryMirror';
import type { ScoredRecord } from './MemoryStorageTable';
import { idbKey, isShadow, isVisibleAt, scoreField, type IdbRow, type ScoreField } from './idb/IdbRow';
import {
  END_INDEX,
  GENERATION_KEY,
  META,
  openIdbDatabase,
  ROWS,
  scoreIndexName,
  START_INDEX,
  STATE_KEY,
  type CommittedGeneration,
} from './idb/openIdbDatabase';
import { holdDatabaseLock, type ReleaseLock } from './idb/holdDatabaseLock';
import { ReaderGenerations, type ReaderLease } from './idb/ReaderGenerations';
import { scanInterval } from './idb/scanInterval';
import { SupersededRowCleaner } from './idb/SupersededRowCleaner';
import { WritePacer } from './idb/WritePacer';
import { eachRecord } from './recordSource';
import { scoreRecord } from './scoreRecord';

/** Options of {@link IdbStorageTable.open}. */
export interface IdbStorageTableOptions {
  /** Names the table in error messages, and the database by default. */
  name: string;
  /** The IndexedDB database, one per table. Default `` `tablecache-web:${name}` ``. */
  dbName?: string | undefined;
  /** The IndexedDB implementation. Default `globalThis.indexedDB`; pass `fake-indexeddb`'s `IDBFactory` in Node. */
  indexedDB?: IDBFactory | undefined;
  /**
   * The `IDBKeyRange` class of the same implementation as `indexedDB`.
   * Default `globalThis.IDBKeyRange`; required with an injected `indexedDB`
   * when the global one is absent or another implementation.
   */
  IDBKeyRange?: typeof IDBKeyRange | undefined;
  /**
   * Most rows written per transaction. Default 1000. Direct writes (the
   * load) and staged puts use it, staged puts ending their transaction early
   * (every 8 rows) when a read waits; staged discards, rollbacks and
   * background deletions adapt their size to about 8 ms per transaction, and
   * to 8 rows while reads run. So a read never queues behind a long write.
   */
  writeBatchSize?: number | undefined;
  /**
   * Up to how many records the table also keeps in memory, to serve reads
   * from there rather than from IndexedDB (several times faster in
   * Chromium). Default 100000; `0` always reads IndexedDB. Writes still go
   * to IndexedDB first; the copy follows what they committed. It is filled
   * from IndexedDB on open (reads go to IndexedDB meanwhile) and whenever it
   * is absent after a write, merge or abort; it stops following staged
   * records that would take it over this (serving the committed state until
   * the merge), is dropped while the table holds more, or when it cannot
   * follow a write (README: "The in-memory copy"). Costs worker memory: about 0.5–1 KB per record of ~150 bytes of
   * JSON (measure yours).
   */
  memoryRecords?: number | undefined;
  /** Rows of the first `getAll` of a read; later ones grow fourfold, up to 16 times this. Default 1000. */
  readBatchSize?: number | undefined;
  /** Rows deleted per transaction by the background cleanup. Default 500. */
  cleanupBatchSize?: number | undefined;
  /**
   * How long `open` waits, in milliseconds, for another `IdbStorageTable` of
   * the same database (in another tab or worker of this origin) to close.
   * Default 10000; 0 fails at once. Only with the global `indexedDB` and
   * where Web Locks exist.
   */
  lockTimeout?: number | undefined;
  /**
   * Called when the background cleanup of superseded rows fails (it is
   * retried after the next merge). Default: `console.warn`.
   */
  onBackgroundError?: ((error: StorageError) => void) | undefined;
}

type Operation =
  | 'open'
  | 'clear'
  | 'putRecords'
  | 'getRecords'
  | 'getRecordsByKeys'
  | 'deleteRecords'
  | 'scratchPutRecords'
  | 'scratchDiscardRecords'
  | 'scratchMerge'
  | 'scratchAbort'
  | 'committedState'
  | 'cleanup'
  | 'fillMemory';

/** Writes one row inside a batch's transaction; `fail` aborts the batch with the error of that row. */
type WriteRow<R> = (row: IdbRow<R>, store: IDBObjectStore, fail: (error: unknown) => void) => void;

/** An open database, as `open` hands it to the constructor. */
interface Connection {
  readonly db: IDBDatabase;
  readonly factory: IDBFactory;
  readonly keyRange: typeof IDBKeyRange;
  readonly dbName: string;
  /** The committed generation stored in `meta`. */
  readonly committed: number;
  readonly releaseLock: ReleaseLock;
}

/**
 * Runs the batches of a scan to the end, calling `each` with every record;
 * resolves with how many there were. Calls `failed` before rejecting when
 * the scan fails part-way.
 */
async function countRecords<R>(batches: AsyncIterable<R[]>, each: ((record: R) => void) | undefined, failed: () => void): Promise<number> {
  let count = 0;
  try {
    for await (const batch of batches) {
      count += batch.length;
      if (each) batch.forEach(each);
    }
  } catch (error) {
    failed();
    throw error;
  }
  return count;
}

/**
 * Replaces each row's record and key with copies nobody else holds, one
 * `structuredClone` per row as IndexedDB clones each put (so records that
 * share an object do not share it in the copies). Stops at a record that
 * cannot be cloned: the write fails on it with IndexedDB's error, and no
 * row after it is written.
 */
function ownRecords<R>(rows: IdbRow<R>[]): void {
  for (const row of rows) {
    let copy: Pick<IdbRow<R>, 'r' | 'k'>;
    try {
      copy = structuredClone({ r: row.r, k: row.k });
    } catch {
      return;
    }
    row.r = copy.r;
    row.k = copy.k;
  }
}

/**
 * A `StorageTable` in IndexedDB, in a database of its own: the store `rows`
 * holds each record with its key and one score per index, with one IndexedDB
 * index per entry of `indexNames`; the store `meta` holds the committed
 * generation and state.
 *
 * The scratch space is the next *generation* of the same rows: staged rows
 * carry it, the rows they replace or discard are marked as ending at it, so
 * `scratchMerge()` is a single small write of the new generation number, and
 * reads filter rows by the generation committed when they started. Rows
 * that no reader can see any more are deleted in the background, in small
 * batches. Opening the table rolls back whatever a killed page or worker
 * left uncommitted.
 *
 * Direct writes (`putRecords`, `deleteRecords`, `clear`) change the committed
 * state in place; they are meant for loading, when no read is in progress
 * and no scratch space is open.
 *
 * One table per database at a time: `open` takes a Web Lock for it, since
 * the recovery on open would roll back a live table's scratch space.
 */
export class IdbStorageTable<R> implements StorageTable<R> {
  /** Names the table in error messages (`options.name`). */
  readonly name: string;
  /** The IndexedDB database this table lives in. */
  readonly dbName: string;
  private readonly db: IDBDatabase;
  private readonly factory: IDBFactory;
  private readonly keyRange: typeof IDBKeyRange;
  private readonly indexNames: readonly string[];
  private readonly scoreFields: readonly ScoreField[];
  private readonly scorer: RecordScorer<R, unknown>;
  private readonly writeBatchSize: number;
  private readonly readBatchSize: number;
  /** Sizes staged and background writes so that reads do not queue behind them. */
  private readonly pacer: WritePacer;
  /** One write operation at a time; reads never wait for it. */
  private readonly writer = new Mutex();
  private readonly readers = new ReaderGenerations();
  /** Releases the hold of a read that was dropped without being finished. */
  private readonly abandonedReads = new FinalizationRegistry<ReaderLease>((lease) => this.releaseReader(lease));
  /** The generation reads start at. Staged rows carry `committed + 1`. */
  private committed: number;
  /** True from the first staged change until the merge or abort. */
  private scratchOpen = false;
  /** True while rows of an uncommitted generation may be left in the store. */
  private rollbackPending = true;
  private readonly cleaner: SupersededRowCleaner;
  private readonly onBackgroundError: (error: StorageError) => void;
  private closedReason: string | null = null;
  private readonly releaseLock: ReleaseLock;
  /** The committed records (and staged changes) in memory, when reads can be served from there. */
  private readonly memory: MemoryMirror<R>;
  /** True while a fill of `memory` waits for its turn among the writes. */
  private fillQueued = false;

  private constructor(scorer: RecordScorer<R, unknown>, options: IdbStorageTableOptions, connection: Connection) {
    this.db = connection.db;
    this.factory = connection.factory;
    this.keyRange = connection.keyRange;
    this.dbName = connection.dbName;
    this.committed = connection.committed;
    this.releaseLock = connection.releaseLock;
    this.scorer = scorer;
    this.name = options.name;
    this.indexNames = [...scorer.indexNames];
    this.scoreFields = this.indexNames.map((_, i) => scoreField(i));
    this.writeBatchSize = options.writeBatchSize ?? 1000;
    this.readBatchSize = options.readBatchSize ?? 1000;
    this.pacer = new WritePacer({ maxRows: this.writeBatchSize });
    this.memory = new MemoryMirror(scorer, this.name, options.memoryRecords ?? DEFAULT_MEMORY_RECORDS);
    const onBackgroundError = options.onBackgroundError ?? ((error) => console.warn(error));
    this.onBackgroundError = onBackgroundError;
    this.cleaner = new SupersededRowCleaner({
      transaction: () => this.transaction([ROWS], 'readwrite', 'cleanup'),
      keyRange: this.keyRange,
      batchSize: () => Math.min(options.cleanupBatchSize ?? 500, this.pacer.nextRows()),
      bound: () => Math.min(this.committed, this.readers.oldest),
      closed: () => this.closedReason !== null,
      onError: (error) =>
        onBackgroundError(error instanceof StorageError ? error : this.error('cleanup', `cleanup failed: ${String(error)}`, error)),
    });
    this.db.onversionchange = () => this.disconnect('another connection is upgrading or deleting the database');
    this.db.onclose = () => this.disconnect('the browser closed the connection');
  }

  /**
   * Opens the table, creating its database when missing and rebuilding it
   * (empty) when it was made for other `indexNames`. Rolls back anything a
   * killed page or worker left uncommitted, so the table holds exactly the
   * last committed state.
   *
   * Resolves with the open table. Rejects with `StorageError` (the
   * `DOMException` as `cause`) when the database cannot be opened, and with
   * `TableCacheError` when `indexNames` is empty or has duplicates. Waits
   * while another connection that does not close on `versionchange` blocks
   * a rebuild.
   */
  static async open<R>(scorer: RecordScorer<R, unknown>, options: IdbStorageTableOptions): Promise<IdbStorageTable<R>> {
    const indexNames = scorer.indexNames;
    if (indexNames.length === 0) throw new TableCacheError('A storage table needs at least one index.');
    if (new Set(indexNames).size !== indexNames.length) {
      throw new TableCacheError(`Table '${options.name}' names an index twice: ${indexNames.join(', ')}.`);
    }
    const { memoryRecords } = options;
    if (memoryRecords !== undefined && !(memoryRecords === Infinity || (Number.isInteger(memoryRecords) && memoryRecords >= 0))) {
      throw new TableCacheError(
        `Table '${options.name}': memoryRecords must be a whole number of records (0 for none) or Infinity; got ${String(memoryRecords)}.`,
      );
    }
    const dbName = options.dbName ?? `tablecache-web:${options.name}`;
    const factory = options.indexedDB ?? globalThis.indexedDB;
    const keyRange = options.IDBKeyRange ?? globalThis.IDBKeyRange;
    if (!factory || !keyRange) {
      throw new StorageError(`open on table '${options.name}': there is no IndexedDB here; pass the indexedDB and IDBKeyRange options.`, {
        table: options.name,
        operation: 'open',
      });
    }
    // Opening rolls back uncommitted rows: with a second writer alive, that would be its scratch space.
    const releaseLock =
      factory === globalThis.indexedDB ? await holdDatabaseLock(dbName, options.lockTimeout ?? 10_000) : () => undefined;
    if (!releaseLock) {
      throw new StorageError(
        `open on table '${options.name}': IndexedDB database '${dbName}' is held by another IdbStorageTable (in another tab or worker?); one writer per database.`,
        { table: options.name, operation: 'open' },
      );
    }
    let db: IDBDatabase | undefined;
    let committed: CommittedGeneration | undefined;
    try {
      db = await openIdbDatabase(factory, dbName, indexNames);
      committed = (await requestResult(db.transaction(META, 'readonly').objectStore(META).get(GENERATION_KEY))) as
        | CommittedGeneration
        | undefined;
    } catch (error) {
      db?.close();
      releaseLock();
      throw new StorageError(`open on table '${options.name}': cannot open IndexedDB database '${dbName}': ${String(error)}`, {
        table: options.name,
        operation: 'open',
        cause: error,
      });
    }
    const table = new IdbStorageTable(scorer, options, {
      db,
      factory,
      keyRange,
      dbName,
      committed: committed?.generation ?? 0,
      releaseLock,
    });
    try {
      await table.rollBack('open');
    } catch (error) {
      table.close();
      throw error;
    }
    table.cleaner.schedule();
    table.fillMemory();
    return table;
  }

  /**
   * Closes the connection. Transactions in flight finish; every later call
   * rejects with `StorageError`. Background cleanup stops (it resumes on the
   * next open).
   */
  close(): void {
    this.disconnect('the table was closed');
  }

  /**
   * Whether reads are served from the in-memory copy now (see
   * `memoryRecords`): false when it is 0, while the copy is being filled,
   * while the table holds more records than it allows, after a direct write
   * or delete it could not follow (until it is filled again), after a fill
   * failed (until the next write tries again), and once the table is closed.
   */
  get readsFromMemory(): boolean {
    return this.memory.ready;
  }

  /**
   * Resolves once no write (nor a fill of the in-memory copy) is running
   * and the background cleanup has done what the reads in progress allow
   * (rows a running read of IndexedDB may still need are left to a later
   * cleanup, which starts when that read finishes). Never rejects.
   */
  async idle(): Promise<void> {
    await this.writer.run(async () => undefined);
    await this.cleaner.idle();
  }

  /** Deletes every row and the committed state; drops the scratch space. */
  async clear(): Promise<void> {
    await this.exclusive('clear', async () => {
      const transaction = this.transaction([ROWS, META], 'readwrite', 'clear');
      transaction.objectStore(ROWS).clear();
      transaction.objectStore(META).delete(STATE_KEY);
      await this.completion(transaction, 'clear');
      this.scratchOpen = false;
      this.rollbackPending = false;
      this.memory.reset();
    });
  }

  /**
   * Inserts or replaces (by primary key) the records in the committed state,
   * in transactions of `writeBatchSize` rows.
   *
   * Rejects with `StorageError` when a record has an invalid key (`cause`:
   * the `DataError`), a NaN score, cannot be cloned (`DataCloneError`), or
   * the quota is exceeded; the batch holding it is not written, earlier
   * batches are.
   */
  async putRecords(records: RecordSource<R>): Promise<void> {
    await this.exclusive('putRecords', async () => {
      await this.rollBack('putRecords');
      // Staged records would have to be merged with the change in place: the copy does not try.
      if (this.scratchOpen) this.memory.lose();
      // Direct writes serve the load, when nothing reads: full-size transactions.
      await this.writeInBatches(
        records,
        'putRecords',
        () => this.writeBatchSize,
        (row, store) => {
          store.put(row);
        },
        { written: (rows) => this.memory.put(rows.map((row) => this.scored(row))) },
      );
    }).finally(() => this.fillMemory());
  }

  /**
   * The committed records matching `spec`, in no defined order, as the state
   * committed when `getRecords` is called. From the in-memory copy when it
   * is in use (`readsFromMemory`): copies of its records, 256 per
   * `structuredClone`, or its own objects with `options.shared`. Otherwise
   * from IndexedDB: a finite interval is read as its two halves at once,
   * each with `getAll` batches (starting at `readBatchSize` rows, growing
   * fourfold), each batch in its own short transaction; rows the read needs
   * are kept until the iteration finishes (or the iterable is
   * garbage-collected).
   *
   * The iteration rejects with `StorageError` for an unknown index or when
   * IndexedDB fails.
   */
  getRecords(spec: StorageRecordsSpec<R>, options: ReadOptions = {}): AsyncIterable<R> {
    if (this.readsFromMemory) return this.memory.read(spec, options.shared === true, () => this.assertOpen('getRecords'));
    const lease = this.readers.acquire(this.committed);
    const records = this.readAt(spec, lease);
    this.abandonedReads.register(records, lease, lease);
    return records;
  }

  private async *readAt(spec: StorageRecordsSpec<R>, lease: ReaderLease): AsyncGenerator<R> {
    try {
      this.assertOpen('getRecords');
      const generation = lease.generation;
      const recheck = spec.recheck;
      const batches = this.scan(spec, 'getRecords', 'readonly', (row) =>
        isVisibleAt(row, generation) && (!recheck || recheck(row.r)) ? row.r : undefined,
      );
      for await (const batch of batches) yield* batch;
    } finally {
      this.abandonedReads.unregister(lease);
      this.releaseReader(lease);
    }
  }

  /**
   * The committed records with these primary keys, read from IndexedDB in
   * one read-only transaction (each key's current row and its shadows,
   * filtered by the committed generation); keys not stored are left out.
   * Always copies. Rejects with `StorageError` when IndexedDB fails.
   */
  async getRecordsByKeys(keys: readonly PrimaryKey[], _options?: ReadOptions): Promise<R[]> {
    this.assertOpen('getRecordsByKeys');
    const lease = this.readers.acquire(this.committed);
    try {
      const transaction = this.transaction([ROWS], 'readonly', 'getRecordsByKeys');
      const store = transaction.objectStore(ROWS);
      // A key's row is `[pk]`, or, while a scratch space replaces it, the shadow `[pk, end]` right after it.
      const unique = [...new Map(keys.map((key) => [keyToString(key), key])).values()];
      const requests = unique.map((key) => store.getAll(this.keyRange.bound([key], [key, Infinity])) as IDBRequest<IdbRow<R>[]>);
      const rows = await Promise.all([...requests.map((request) => requestResult(request)), this.completion(transaction, 'getRecordsByKeys')]);
      const found: R[] = [];
      for (const batch of rows.slice(0, requests.length) as IdbRow<R>[][]) {
        const visible = batch.find((row) => isVisibleAt(row, lease.generation));
        if (visible) found.push(visible.r);
      }
      return found;
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw this.error('getRecordsByKeys', `reading by keys failed: ${String(error)}`, error);
    } finally {
      this.releaseReader(lease);
    }
  }

  /**
   * Deletes the committed records matching `spec` in place, calling
   * `onDeleted` with each once its batch is written. Resolves with the count.
   */
  async deleteRecords(spec: StorageRecordsSpec<R>, onDeleted?: (record: R) => void): Promise<number> {
    return this.exclusive('deleteRecords', async () => {
      await this.rollBack('deleteRecords');
      if (this.scratchOpen) this.memory.lose();
      const generation = this.committed;
      const recheck = spec.recheck;
      const batches = this.scan(spec, 'deleteRecords', 'readwrite', (row, store) => {
        if (!isVisibleAt(row, generation) || (recheck && !recheck(row.r))) return undefined;
        store.delete(idbKey(row.k));
        return row.r;
      });
      const deleted = await countRecords(batches, onDeleted, () => this.memory.lose());
      await this.memory.delete(spec, deleted);
      return deleted;
    }).finally(() => this.fillMemory());
  }

  /**
   * Stages inserts/replacements as rows of the next generation, invisible to
   * reads until merged. A replaced committed row is moved to its shadow key
   * so that reads keep seeing it until the merge.
   *
   * Rejects like `putRecords`; the staged rows of the failing batch are not
   * written, and `scratchAbort()` drops the rest.
   */
  async scratchPutRecords(records: RecordSource<R>): Promise<void> {
    await this.exclusive('scratchPutRecords', async () => {
      const next = await this.openScratch('scratchPutRecords');
      // A new key costs one `add`, but a failing `add` costs more than looking first (measured in Chromium:
      // 10k new keys 1.3 s by `add`, 2.9 s by `get` + `put`; 10k replacements 6.1 s by `add`, 4.7 s by `get`),
      // so each batch looks first when most keys of the previous batch existed.
      let lookFirst = false;
      let replaced = 0;
      const stage = (row: IdbRow<R>, store: IDBObjectStore, previous: IdbRow<R> | undefined, fail: (error: unknown) => void) => {
        if (previous) replaced++;
        try {
          if (previous && previous.g !== next) {
            // Reads of the committed state keep seeing it under its shadow key until the merge.
            const end = previous.e ?? next;
            store.put({ ...previous, k: [previous.k[0], end], e: end });
          }
          store.put(row);
        } catch (error) {
          fail(error);
        }
      };
      await this.writeInBatches(
        records,
        'scratchPutRecords',
        () => this.writeBatchSize,
        (row, store, fail) => {
          row.g = next;
          if (lookFirst) {
            const existing = store.get(idbKey(row.k));
            existing.onsuccess = () => stage(row, store, existing.result as IdbRow<R> | undefined, fail);
            return;
          }
          const request = store.add(row);
          request.onerror = (event) => {
            if (request.error?.name !== 'ConstraintError') return;
            // The key exists: keep the transaction and decide from the row in place.
            event.preventDefault();
            const existing = store.get(idbKey(row.k));
            existing.onsuccess = () => stage(row, store, existing.result as IdbRow<R> | undefined, fail);
          };
        },
        {
          beforeBatch: (previousBatchSize) => {
            lookFirst = replaced * 2 > previousBatchSize;
            replaced = 0;
          },
          written: (rows) => this.memory.stage(rows.map((row) => this.scored(row))),
        },
      );
    });
  }

  /**
   * Marks the committed records matching `spec` (as stored) as ending at the
   * next generation, calling `onDiscarded` with each once its batch is
   * written, and deletes staged rows matching it. Resolves with the number
   * of committed records marked.
   */
  async scratchDiscardRecords(spec: StorageRecordsSpec<R>, onDiscarded?: (record: R) => void): Promise<number> {
    return this.exclusive('scratchDiscardRecords', async () => {
      const next = await this.openScratch('scratchDiscardRecords');
      const committed = this.committed;
      const recheck = spec.recheck;
      const batches = this.scan(spec, 'scratchDiscardRecords', 'readwrite', (row, store) => {
        if (row.g === next) {
          if (!recheck || recheck(row.r)) store.delete(idbKey(row.k));
          return undefined;
        }
        // Rows already ending (shadows, earlier discards) and rows of other generations are not committed records.
        if (row.e !== undefined || (row.g ?? 0) > committed || (recheck && !recheck(row.r))) return undefined;
        store.put({ ...row, e: next });
        return row.r;
      });
      // Failing part-way leaves part of the discard staged in IndexedDB, none in memory: the copy then serves the
      // committed state until the merge.
      const discarded = await countRecords(batches, onDiscarded, () => this.memory.loseScratch());
      await this.memory.discard(spec, discarded);
      return discarded;
    });
  }

  /**
   * Makes every staged change visible at once by writing the new generation
   * (and `state`, when given) to the `meta` store in one small transaction:
   * its cost does not depend on the number of staged rows. Superseded rows
   * are deleted in the background afterwards.
   *
   * Rejects with `StorageError` when the write fails (e.g. `state` cannot be
   * cloned); the scratch space then stays open and unmerged.
   */
  async scratchMerge(state?: unknown): Promise<void> {
    await this.exclusive('scratchMerge', async () => {
      await this.rollBack('scratchMerge');
      if (!this.scratchOpen && state === undefined) return;
      const next = this.committed + 1;
      const transaction = this.transaction([META], 'readwrite', 'scratchMerge');
      const meta = transaction.objectStore(META);
      // Reads that start after the commit must see it. Registered before the completion promise's own listener:
      // browsers run promise continuations between two listeners of one event.
      transaction.addEventListener('complete', () => {
        this.committed = next;
        this.scratchOpen = false;
        this.memory.merge();
      });
      const done = this.completion(transaction, 'scratchMerge');
      try {
        const generation: CommittedGeneration = { generation: next, committedAt: Date.now() };
        meta.put(generation, GENERATION_KEY);
        if (state !== undefined) meta.put({ value: state }, STATE_KEY);
      } catch (error) {
        abortQuietly(transaction);
        done.catch(() => undefined);
        throw this.error('scratchMerge', `cannot store the committed state: ${String(error)}`, error);
      }
      await done;
    });
    this.cleaner.schedule();
    this.fillMemory();
  }

  /**
   * Drops every staged change. Reads see the committed state at once; the
   * staged rows are deleted and the rows they replaced or discarded restored
   * in the background (that takes about as long as staging them did), and
   * every later write waits for it. Rejects only when the table is closed.
   */
  async scratchAbort(): Promise<void> {
    await this.exclusive('scratchAbort', async () => {
      if (this.scratchOpen) this.rollbackPending = true;
      this.scratchOpen = false;
      this.memory.abort();
    });
    if (this.rollbackPending) {
      // Queued now, so that it runs before any write that comes later (each of which would also finish it first).
      this.writer.run(() => this.rollBack('scratchAbort')).catch((error: unknown) => {
        if (!this.closedReason) this.onBackgroundError(error as StorageError);
      });
    }
    this.fillMemory();
  }

  /** Resolves with the `state` stored by the last merge that had one (`undefined` when none, or after `clear()`). */
  async committedState(): Promise<unknown> {
    const transaction = this.transaction([META], 'readonly', 'committedState');
    try {
      const stored = (await requestResult(transaction.objectStore(META).get(STATE_KEY))) as { value: unknown } | undefined;
      return stored?.value;
    } catch (error) {
      throw this.error('committedState', `cannot read the committed state: ${String(error)}`, error);
    }
  }

  /**
   * Queues a fill of the in-memory copy from IndexedDB, when it is enabled
   * and absent; it runs among the writes, when no scratch space is open, and
   * gives up while the table holds more than `memoryRecords` (counted first).
   */
  private fillMemory(): void {
    if (!this.memory.enabled || this.memory.ready || this.fillQueued || this.closedReason) return;
    this.fillQueued = true;
    this.writer
      .run(async () => {
        this.fillQueued = false;
        if (this.closedReason || this.memory.ready) return;
        await this.rollBack('fillMemory');
        if (this.scratchOpen) return;
        const transaction = this.transaction([ROWS], 'readonly', 'fillMemory');
        const store = transaction.objectStore(ROWS);
        const rows = store.count();
        // Rows with an end are shadows and discarded rows: with no scratch space open, none is committed.
        const ending = store.index(END_INDEX).count();
        await this.completion(transaction, 'fillMemory');
        if (rows.result - ending.result > this.memory.limit) return;
        await this.memory.fill(this.committedRecords());
      })
      .catch((error: unknown) => {
        this.memory.lose();
        if (!this.closedReason) {
          this.onBackgroundError(
            error instanceof StorageError ? error : this.error('fillMemory', `cannot fill the in-memory copy: ${String(error)}`, error),
          );
        }
      });
  }

  /** Every committed record, in batches by primary key (for `fillMemory`, while no write runs). */
  private async *committedRecords(): AsyncGenerator<ScoredRecord<R>[]> {
    const committed = this.committed;
    let after: IDBKeyRange | undefined;
    for (;;) {
      const transaction = this.transaction([ROWS], 'readonly', 'fillMemory');
      const request = transaction.objectStore(ROWS).getAll(after, FILL_BATCH_ROWS);
      await this.completion(transaction, 'fillMemory');
      const rows = request.result as IdbRow<R>[];
      yield rows.filter((row) => isVisibleAt(row, committed)).map((row) => this.scored(row));
      const last = rows[rows.length - 1];
      if (!last || rows.length < FILL_BATCH_ROWS) return;
      after = this.keyRange.lowerBound(idbKey(last.k), true);
    }
  }

  /** A row as the in-memory copy takes it: the record with the key and scores IndexedDB indexes it by. */
  private scored(row: IdbRow<R>): ScoredRecord<R> {
    return { record: row.r, key: row.k[0], scores: this.scoreFields.map((field) => row[field] as number) };
  }

  /** Runs a write operation after earlier ones; rejects with `StorageError` when the connection is closed. */
  private exclusive<T>(operation: Operation, section: () => Promise<T>): Promise<T> {
    return this.writer.run(async () => {
      this.assertOpen(operation);
      return section();
    });
  }

  private assertOpen(operation: Operation): void {
    if (this.closedReason) {
      throw this.error(operation, `the connection to IndexedDB database '${this.dbName}' is closed: ${this.closedReason}.`);
    }
  }

  /** Finishes any pending rollback and marks the scratch space open; resolves with its generation. */
  private async openScratch(operation: Operation): Promise<number> {
    await this.rollBack(operation);
    this.scratchOpen = true;
    return this.committed + 1;
  }

  /**
   * Removes every row of generations above the committed one, restores
   * shadows and discarded rows ending above it. Idempotent and in batches: a
   * crash in the middle is finished by the next open.
   */
  private async rollBack(operation: Operation): Promise<void> {
    if (!this.rollbackPending) return;
    const committed = this.committed;
    const uncommitted = this.keyRange.lowerBound(committed, true);
    for (;;) {
      const rows = this.pacer.nextRows();
      const transaction = this.transaction([ROWS], 'readwrite', operation);
      const store = transaction.objectStore(ROWS);
      const request = store.index(START_INDEX).getAllKeys(uncommitted, rows);
      request.onsuccess = () => request.result.forEach((key) => store.delete(key));
      await this.completion(transaction, operation);
      if (request.result.length < rows) break;
    }
    for (;;) {
      const rows = this.pacer.nextRows();
      const transaction = this.transaction([ROWS], 'readwrite', operation);
      const store = transaction.objectStore(ROWS);
      const request = store.index(END_INDEX).getAll(uncommitted, rows);
      request.onsuccess = () => {
        for (const row of request.result as IdbRow<R>[]) {
          const { e: _end, ...restored } = row;
          if (isShadow(row)) {
            store.delete(idbKey(row.k));
            restored.k = [row.k[0]];
          }
          store.put(restored);
        }
      };
      await this.completion(transaction, operation);
      if (request.result.length < rows) break;
    }
    this.rollbackPending = false;
    this.scratchOpen = false;
  }

  /**
   * Turns records into rows and writes each with `writeRow`, one transaction
   * per `batchRows()` rows (staged puts: fewer when a read waits, the rest
   * going with the next batch). The next batch is collected while the
   * previous transaction runs; at most one is in flight.
   */
  private async writeInBatches(
    records: RecordSource<R>,
    operation: Operation,
    batchRows: () => number,
    writeRow: WriteRow<R>,
    hooks: {
      /** Called before each batch is written, with the size of the previous one. */
      beforeBatch?: (previousBatchSize: number) => void;
      /** Called with the rows of each transaction once it has committed; the next waits for it. */
      written?: (rows: readonly IdbRow<R>[]) => Promise<void>;
    } = {},
  ): Promise<void> {
    const { beforeBatch, written } = hooks;
    // Staged writes run while reads do: their transactions step aside for a waiting read (see writeBatch).
    const yieldToReads = operation === 'scratchPutRecords';
    let inFlight: Promise<IdbRow<R>[]> = Promise.resolve([]);
    let batch: IdbRow<R>[] = [];
    let previousBatchSize = 0;
    let limit = batchRows();
    const flush = async () => {
      const collected = batch;
      batch = [];
      // IndexedDB copies each record when its put is issued; the in-memory copy takes the same snapshot, cloned
      // when the batch is collected, so that a record the source changes later changes neither.
      if (written && this.memory.wants(operation === 'scratchPutRecords')) ownRecords(collected);
      const rows = [...(await inFlight), ...collected];
      beforeBatch?.(previousBatchSize);
      previousBatchSize = rows.length;
      const started = performance.now();
      inFlight = this.writeBatch(rows, operation, writeRow, yieldToReads).then(async (rest) => {
        this.pacer.written(rows.length - rest.length, performance.now() - started);
        await written?.(rows.slice(0, rows.length - rest.length));
        return rest;
      });
      inFlight.catch(() => undefined);
      limit = batchRows();
    };
    try {
      await eachRecord(records, (record) => {
        batch.push(this.toRow(record, operation));
        return batch.length >= limit ? flush() : undefined;
      });
      while (batch.length > 0 || (await inFlight).length > 0) await flush();
    } catch (error) {
      // Nothing is reported before the transaction in flight has settled.
      await inFlight.catch(() => undefined);
      throw error;
    }
    await inFlight;
  }

  /**
   * Writes `rows` in one transaction; resolves with the rows left unwritten.
   * With `yieldToReads`, rows are issued `YIELD_EVERY` at a time, and once
   * those requests have settled, the transaction ends early (committing what
   * it wrote) when a read is waiting: IndexedDB runs a read only after the
   * write transactions started before it, so the read waits for a few rows
   * rather than for the whole batch.
   */
  private async writeBatch(
    rows: readonly IdbRow<R>[],
    operation: Operation,
    writeRow: WriteRow<R>,
    yieldToReads = false,
  ): Promise<IdbRow<R>[]> {
    const transaction = this.transaction([ROWS], 'readwrite', operation);
    const done = this.completion(transaction, operation);
    let failure: StorageError | undefined;
    // An invalid key (DataError) or a value that cannot be cloned (DataCloneError): the whole batch is dropped.
    const failWith = (row: IdbRow<R>) => (error: unknown) => {
      if (failure) return;
      const problem = error instanceof DOMException && error.name === 'DataError' ? 'is not a valid key' : 'cannot be stored';
      failure = this.error(operation, `the record with primary key ${describeKey(row.k[0])} ${problem}: ${String(error)}`, error);
      abortQuietly(transaction);
    };
    let issued = 0;
    let outstanding = 0;
    const issue = () => {
      const end = yieldToReads ? Math.min(rows.length, issued + YIELD_EVERY) : rows.length;
      while (issued < end && !failure) {
        const row = rows[issued++] as IdbRow<R>;
        const fail = failWith(row);
        try {
          writeRow(row, store, fail);
        } catch (error) {
          fail(error);
        }
      }
    };
    const settled = () => {
      if (--outstanding > 0 || failure || issued >= rows.length) return;
      if (!this.pacer.readsWaiting) issue();
    };
    const objectStore = transaction.objectStore(ROWS);
    // Every request a row's writer makes (chained ones included) is counted, to know when the issued rows are done.
    const store = yieldToReads ? countingStore(objectStore, (request) => {
      outstanding++;
      request.addEventListener('success', settled);
      request.addEventListener('error', settled);
    }) : objectStore;
    issue();
    try {
      await done;
    } catch (error) {
      throw failure ?? error;
    }
    if (failure) throw failure;
    return rows.slice(issued);
  }

  /** Builds the row of a record. @throws {StorageError} when the key is invalid or a score is not a number or NaN. */
  private toRow(record: R, operation: Operation): IdbRow<R> {
    const { key, scores } = scoreRecord(
      this.scorer,
      record,
      (message, cause) => this.error(operation, message, cause),
      (invalid) => this.keyError(invalid),
    );
    const row = { k: [key], r: record } as IdbRow<R>;
    scores.forEach((score, i) => (row[this.scoreFields[i] as ScoreField] = score));
    return row;
  }

  /** The `DataError` IndexedDB raises for an invalid key, to report as the cause. */
  private keyError(key: unknown): unknown {
    try {
      this.factory.cmp(key, 0);
    } catch (error) {
      return error;
    }
    return undefined;
  }

  /** The batches of rows matching `spec`'s intervals, as `take` maps them. */
  private async *scan<T>(
    spec: StorageRecordsSpec<R>,
    operation: Operation,
    mode: IDBTransactionMode,
    take: (row: IdbRow<R>, store: IDBObjectStore) => T | undefined,
  ): AsyncGenerator<T[]> {
    const position = this.indexNames.indexOf(spec.indexName);
    if (position < 0) throw this.error(operation, `there is no index '${spec.indexName}'.`);
    const scanOne = (interval: Interval) =>
      scanInterval({
        transaction: (transactionMode) => this.transaction([ROWS], transactionMode, operation),
        keyRange: this.keyRange,
        indexName: scoreIndexName(spec.indexName),
        scoreField: this.scoreFields[position] as ScoreField,
        interval,
        batchSize:
          mode === 'readonly'
            ? (previous) => (previous === undefined ? this.readBatchSize : Math.min(previous * 4, this.readBatchSize * 16))
            : () => this.pacer.nextRows(),
        reading: { started: () => this.pacer.readStarted(), ended: () => this.pacer.readEnded() },
        written: (rows, ms) => this.pacer.written(rows, ms),
        mode,
        take,
        wrapError: (cause) => this.error(operation, `reading ${spec.toString()} failed: ${String(cause)}`, cause),
      });
    if (mode !== 'readonly') {
      for (const interval of spec.intervals) yield* scanOne(interval);
      return;
    }
    // Two getAll requests in flight overlap IndexedDB's own work with deserializing the other's rows (measured in
    // Chromium: a 50k-row range read in two halves at once takes ~25% less than one getAll). Reads have no order.
    const pieces = spec.intervals.flatMap((interval) => halves(interval));
    yield* mergeAsync(pieces.map((piece) => () => scanOne(piece)), READ_CONCURRENCY);
  }

  private releaseReader(lease: ReaderLease): void {
    const oldest = this.readers.oldest;
    if (this.readers.release(lease) && lease.generation === oldest && this.readers.oldest > oldest) this.cleaner.schedule();
  }

  private disconnect(reason: string): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.db.close();
    this.releaseLock();
    this.memory.close();
  }

  /** Starts a transaction, or throws `StorageError` when the connection is closed. */
  private transaction(stores: string[], mode: IDBTransactionMode, operation: Operation): IDBTransaction {
    this.assertOpen(operation);
    try {
      return this.db.transaction(stores, mode, { durability: 'relaxed' });
    } catch (error) {
      throw this.error(operation, `cannot start a transaction on IndexedDB database '${this.dbName}': ${String(error)}`, error);
    }
  }

  /** Resolves when the transaction commits; rejects with `StorageError` (its `DOMException` as `cause`) when it aborts. */
  private async completion(transaction: IDBTransaction, operation: Operation): Promise<void> {
    try {
      await transactionDone(transaction);
    } catch (error) {
      throw this.error(operation, `the IndexedDB transaction failed: ${String(error)}`, error);
    }
  }

  private error(operation: Operation, message: string, cause?: unknown): StorageError {
    return new StorageError(`${operation} on table '${this.name}': ${message}`, { table: this.name, operation, cause });
  }
}

/** Records kept in memory by default (`memoryRecords`). */
const DEFAULT_MEMORY_RECORDS = 100_000;

/** Rows per `getAll` when the in-memory copy is filled. */
const FILL_BATCH_ROWS = 2000;

/** Read-only scans of one read run at once. */
const READ_CONCURRENCY = 2;

/** The interval cut at the middle of its scores, when it has finite bounds (one piece otherwise). */
function halves(interval: Interval): Interval[] {
  const { ge, lt } = interval;
  const middle = ge + (lt - ge) / 2;
  if (!Number.isFinite(ge) || !Number.isFinite(lt) || !(middle > ge && middle < lt)) return [interval];
  return [new Interval(ge, middle), new Interval(middle, lt)];
}

/** Rows a staged write issues before it looks whether a read waits for its transaction. */
const YIELD_EVERY = 8;

/** `store`, with `onRequest` told of every request made through it. */
function countingStore(store: IDBObjectStore, onRequest: (request: IDBRequest) => void): IDBObjectStore {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Object && 'readyState' in result && 'addEventListener' in result) onRequest(result as IDBRequest);
        return result;
      };
    },
  });
}
