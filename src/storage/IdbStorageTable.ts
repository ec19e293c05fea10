import { StorageError } from '../core/errors';
import type { PrimaryKey } from '../core/keys';
import { Mutex } from '../core/Mutex';
import type { StorageRecordsSpec } from '../core/StorageRecordsSpec';
import type { ReadOptions, RecordScorer, RecordSource, StorageLostReason, StorageTable } from '../core/types';
import type { IdbConnection, Operation } from './idb/IdbConnection';
import { commitGeneration, readCommittedState } from './idb/metaRecords';
import { recordsByKeys } from './idb/recordsByKeys';
import { writeInBatches } from './idb/writeInBatches';
import { DEFAULT_MEMORY_RECORDS, DEFAULT_RECORDS_PER_PAGE, validateOptions, type IdbStorageTableOptions } from './idb/idbOptions';
import { KeyDirectory } from './idb/KeyDirectory';
import { KeyDirectoryLoader } from './idb/KeyDirectoryLoader';
import { MemoryFiller } from './idb/MemoryFiller';
import { PageCache } from './idb/PageCache';
import { PageStore } from './idb/PageStore';
import { PageWriter, rowsOf } from './idb/PageWriter';
import { readPages, recordsOfPages } from './idb/readPages';
import { ReaderGenerations, type ReaderLease } from './idb/ReaderGenerations';
import { rollBack } from './idb/rollBack';
import { openError, openTableDatabase, type OpenDatabase } from './idb/openTableDatabase';
import { DIR, KEYS, META, PAGES, STATE_KEY } from './idb/schema';
import { SupersededPageCleaner } from './idb/SupersededPageCleaner';
import { WritePacer } from './idb/WritePacer';

export type { IdbStorageTableOptions } from './idb/idbOptions';

/**
 * A `StorageTable` in IndexedDB, in a database of its own, as *pages* of up
 * to `recordsPerPage` records (store `pages`), described in the store `dir`
 * (generations, score bounds per index) and keyed in the store `keys`; the
 * store `meta` holds the committed generation and state. The descriptions
 * are loaded on open, so a read picks its pages in memory.
 *
 * The scratch space is the next *generation* of pages: staged records go to
 * new pages, and a committed page they change is copied (without them) and
 * marked as ending at the next generation, so `scratchMerge()` is one small
 * write of the generation number, and a read takes the pages of the
 * generation committed when it started. Superseded pages are deleted in the
 * background; what a killed page or worker left uncommitted is invisible
 * to reads and rolled back in the background before the next write.
 *
 * Direct writes (`putRecords`, `deleteRecords`, `clear`) change the committed
 * state in place; they are meant for loading, when no read is in progress,
 * and reject while a scratch space is open. One table per database at a
 * time (a Web Lock): the directory in memory assumes one writer.
 */
export class IdbStorageTable<R> implements StorageTable<R> {
  /** Names the table in error messages (`options.name`). */
  readonly name: string;
  /** The IndexedDB database this table lives in. */
  readonly dbName: string;
  private readonly connection: IdbConnection;
  private readonly scorer: RecordScorer<R, unknown>;
  private readonly writeBatchSize: number;
  private readonly readBatchSize: number;
  private readonly recordsPerPage: number;
  /** Sizes staged writes so that reads of IndexedDB do not queue behind them. */
  private readonly pacer: WritePacer;
  /** One write operation at a time; reads never wait for it. */
  private readonly writer = new Mutex();
  private readonly readers = new ReaderGenerations();
  /** Releases the hold of a read that was dropped without being finished. */
  private readonly abandonedReads = new FinalizationRegistry<ReaderLease>((lease) => this.releaseReader(lease));
  private readonly store: PageStore<R>;
  private readonly pages: PageWriter<R>;
  private readonly cleaner: SupersededPageCleaner;
  private readonly filler: MemoryFiller;
  /** The generation reads start at. Staged pages carry `committed + 1`. */
  private committed: number;
  /** True from the first staged change until the merge or abort. */
  private scratchOpen = false;
  /** True while pages of an uncommitted generation may be left in the store. */
  private rollbackPending: boolean;
  private readonly keyLoader: KeyDirectoryLoader;
  /** Write operations running or queued (the fill of the in-memory copy waits for them). */
  private writesWaiting = 0;
  private readonly onBackgroundError: (error: StorageError) => void;

  private constructor(scorer: RecordScorer<R, unknown>, options: IdbStorageTableOptions, opened: OpenDatabase) {
    const connection = opened.connection;
    this.connection = connection;
    this.dbName = connection.dbName;
    this.committed = opened.committed;
    this.scorer = scorer;
    this.name = options.name;
    this.recordsPerPage = options.recordsPerPage ?? DEFAULT_RECORDS_PER_PAGE;
    this.writeBatchSize = options.writeBatchSize ?? 4 * this.recordsPerPage;
    this.readBatchSize = options.readBatchSize ?? 1000;
    // A page costs a few ms to write: with no read waiting, staged writes go in full batches (about 50 ms each).
    this.pacer = new WritePacer({
      maxRows: this.writeBatchSize,
      minRows: this.recordsPerPage,
      initialRows: this.writeBatchSize,
      targetMs: 50,
    });
    this.onBackgroundError = options.onBackgroundError ?? ((error) => console.warn(error));
    const cache = new PageCache<R>(options.memoryRecords ?? DEFAULT_MEMORY_RECORDS);
    this.store = new PageStore(connection, scorer, opened.directory, new KeyDirectory(), cache);
    this.pages = new PageWriter(this.store, this.recordsPerPage);
    this.rollbackPending = [...opened.directory.all()].some((page) => page.g > this.committed || (page.e ?? 0) > this.committed);
    const background = (operation: Operation) => (error: unknown) =>
      this.onBackgroundError(error instanceof StorageError ? error : this.error(operation, `${operation} failed: ${String(error)}`, error));
    const store = this.store as PageStore<unknown>;
    this.cleaner = new SupersededPageCleaner({
      store,
      batchSize: () => options.cleanupBatchSize ?? 16,
      bound: () => Math.min(this.committed, this.readers.oldest),
      closed: () => this.connection.closedReason !== null,
      onError: background('cleanup'),
    });
    this.keyLoader = new KeyDirectoryLoader({
      store,
      committed: () => this.committed,
      writer: this.writer,
      readsWaiting: () => this.pacer.readsWaiting,
      closed: () => this.connection.closedReason !== null,
      onError: background('open'),
    });
    this.filler = new MemoryFiller({
      store,
      committed: () => this.committed,
      busy: () => this.pacer.readsWaiting || this.writesWaiting > 0 || this.keyLoader.pending,
      closed: () => this.connection.closedReason !== null,
      onError: background('fillMemory'),
    });
    connection.onDisconnect = () => this.store.cache.clear();
  }

  /**
   * Opens the table, creating its database when missing and rebuilding it
   * (empty) when it was made for other `indexNames` or by another format of
   * this library (such as the one-row-per-record layout before pages).
   * Reads the committed generation and the page directory, nothing more:
   * what a killed page or worker left uncommitted is invisible to reads and
   * rolled back in the background, before the next write.
   *
   * Resolves with the open table. Rejects with `StorageError` (the
   * `DOMException` as `cause`) when the database cannot be opened, and with
   * `TableCacheError` for bad options or when `indexNames` is empty or has
   * duplicates. Waits while another connection that does not close on
   * `versionchange` blocks a rebuild.
   */
  static async open<R>(scorer: RecordScorer<R, unknown>, options: IdbStorageTableOptions): Promise<IdbStorageTable<R>> {
    validateOptions(options, scorer.indexNames);
    const opened = await openTableDatabase(scorer.indexNames, options);
    let table: IdbStorageTable<R>;
    try {
      table = new IdbStorageTable(scorer, options, opened);
    } catch (error) {
      opened.connection.disconnect('the table could not be set up');
      throw openError(options.name, `cannot set up the table: ${String(error)}`, error);
    }
    if (table.rollbackPending) table.rollBackInBackground('open');
    table.cleaner.schedule();
    table.filler.schedule();
    table.keyLoader.loadInBackground();
    return table;
  }

  /**
   * Closes the connection. Transactions in flight finish; every later call
   * rejects with `StorageError`. Background work stops (the cleanup resumes
   * on the next open).
   */
  close(): void {
    this.connection.disconnect('the table was closed');
  }

  /**
   * Calls `listener` once the database is lost for good: another connection
   * upgrades or deletes it (the table closes its connection at once, so as
   * not to block that) or the browser closes it. At once when it is lost
   * already; never after `close()`. Returns a function that removes the listener.
   */
  onLost(listener: (reason: StorageLostReason) => void): () => void {
    return this.connection.onLost(listener);
  }

  /**
   * Whether every page of the committed state is in the in-memory copy now
   * (so reads touch no IndexedDB): false with `memoryRecords` 0, while the
   * copy is being filled (after open, after a merge), while the table holds
   * more than `memoryRecords` records, and once the table is closed.
   */
  get readsFromMemory(): boolean {
    if (this.connection.closedReason || this.store.cache.limit === 0) return false;
    for (const page of this.store.dir.visibleAt(this.committed)) if (!this.store.cache.has(page.id)) return false;
    return true;
  }

  /** Records of the committed state held in memory (the in-memory copy holds pages of them). */
  get recordsInMemory(): number {
    return this.store.cache.records;
  }

  /**
   * Resolves once no write is running and the background work (rollback,
   * cleanup, fill of the in-memory copy) has done what it can now (pages a
   * running read may still need are left to a later cleanup, which starts
   * when that read finishes). Never rejects.
   */
  async idle(): Promise<void> {
    if (!this.keyLoader.loaded && !this.connection.closedReason)
      await this.writer.run(() => this.keyLoader.load('open')).catch(() => undefined);
    await this.writer.run(async () => undefined);
    await this.cleaner.idle();
    await this.filler.idle();
  }

  /** Deletes every record and the committed state; drops the scratch space. */
  async clear(): Promise<void> {
    await this.exclusive('clear', async () => {
      const transaction = this.transaction([PAGES, DIR, KEYS, META], 'readwrite', 'clear');
      for (const name of [PAGES, DIR, KEYS]) transaction.objectStore(name).clear();
      transaction.objectStore(META).delete(STATE_KEY);
      await this.completion(transaction, 'clear');
      this.store.dir.clear();
      this.store.keys.clear();
      this.store.cache.clear();
      this.pages.reset();
      this.keyLoader.loaded = true;
      this.scratchOpen = false;
      this.rollbackPending = false;
    });
  }

  /**
   * Inserts or replaces (by primary key) the records in the committed state,
   * in transactions of `writeBatchSize` records: replaced records are taken
   * out of their pages in place, new ones fill the table's last page, then
   * new pages.
   *
   * Rejects with `StorageError` when a record has an invalid key (`cause`:
   * the `DataError`), a NaN score, cannot be cloned (`DataCloneError`), or
   * the quota is exceeded (the batch holding it is not written, earlier
   * batches are), and while a scratch space is open (merge or abort it first).
   */
  async putRecords(records: RecordSource<R>): Promise<void> {
    await this.exclusive('putRecords', async () => {
      await this.prepareDirectWrite('putRecords');
      await this.write(records, 'putRecords', false);
    }).finally(() => this.filler.schedule());
  }

  /**
   * The committed records matching `spec`, in no defined order, as the state
   * committed when `getRecords` is called: the pages of that state whose
   * score bounds in the spec's index meet its intervals, from the in-memory
   * copy when it holds them (copies, one `structuredClone` per page, or its
   * own objects with `options.shared`), otherwise from IndexedDB, in batches
   * of pages (the first of about `readBatchSize` records, growing fourfold),
   * each batch one short transaction, the next fetched while you consume
   * this one. Pages the read needs are kept until the iteration finishes (or
   * the iterable is garbage-collected).
   *
   * The iteration rejects with `StorageError` for an unknown index, when
   * IndexedDB fails, or when the connection closes before it is done.
   */
  getRecords(spec: StorageRecordsSpec<R>, options: ReadOptions = {}): AsyncIterable<R> {
    const lease = this.readers.acquire(this.committed);
    const records = this.readAt(spec, lease, options.shared === true);
    this.abandonedReads.register(records, lease, lease);
    return records;
  }

  private readAt(spec: StorageRecordsSpec<R>, lease: ReaderLease, shared: boolean): AsyncIterable<R> {
    let seen = false;
    const open = () => {
      this.assertOpen('getRecords');
      const position = this.position(spec, 'getRecords');
      this.pacer.readSeen();
      seen = true;
      const track = { started: () => this.pacer.readStarted(), ended: () => this.pacer.readEnded() };
      const read = { store: this.store, position, generation: lease.generation, batchRecords: this.readBatchSize, shared, track };
      return readPages(spec, { ...read, store: read.store as PageStore<unknown>, operation: 'getRecords' }) as AsyncGenerator<R[]>;
    };
    return recordsOfPages(open, () => {
      if (seen) this.pacer.readFinished();
      this.abandonedReads.unregister(lease);
      this.releaseReader(lease);
    });
  }

  /**
   * The committed records with these primary keys (keys not stored are left
   * out), in no defined order; copies unless `options.shared`. Finds each
   * key's page in the key directory and fetches only those pages, so a few
   * hundred keys cost a few hundred pages at most, whatever the table's
   * size. The first call after `open` waits for the key directory to load
   * (and for a write in progress).
   *
   * Rejects with `StorageError` when IndexedDB fails or the table is closed.
   */
  async getRecordsByKeys(keys: readonly PrimaryKey[], options: ReadOptions = {}): Promise<R[]> {
    this.assertOpen('getRecordsByKeys');
    if (!this.keyLoader.loaded) await this.exclusive('getRecordsByKeys', () => this.keyLoader.load('getRecordsByKeys'));
    const lease = this.readers.acquire(this.committed);
    try {
      return await recordsByKeys(this.store, this.scorer, keys, options.shared === true);
    } finally {
      this.releaseReader(lease);
    }
  }

  /**
   * Deletes the committed records matching `spec` in place (their pages
   * rewritten without them), calling `onDeleted` with each once its batch
   * is written. Resolves with the count. Rejects while a scratch space is open.
   */
  async deleteRecords(spec: StorageRecordsSpec<R>, onDeleted?: (record: R) => void): Promise<number> {
    return this.exclusive('deleteRecords', async () => {
      await this.prepareDirectWrite('deleteRecords');
      const position = this.position(spec, 'deleteRecords');
      return this.pages.remove(
        spec,
        position,
        { staged: false, committed: this.committed },
        () => this.writeBatchSize,
        'deleteRecords',
        onDeleted,
      );
    }).finally(() => this.filler.schedule());
  }

  /**
   * Stages inserts/replacements in pages of the next generation, invisible
   * to reads until merged. A committed page holding a replaced record is
   * copied without it (the original stays for reads until the merge).
   *
   * Rejects like `putRecords`; the staged records of the failing batch are
   * not written, and `scratchAbort()` drops the rest.
   */
  async scratchPutRecords(records: RecordSource<R>): Promise<void> {
    await this.exclusive('scratchPutRecords', async () => {
      await this.openScratch('scratchPutRecords');
      await this.write(records, 'scratchPutRecords', true);
    });
  }

  /**
   * Stages the deletion of the committed records matching `spec` (as
   * stored): each committed page holding some is copied without them, and
   * staged pages are rewritten without the staged records matching it.
   * Calls `onDiscarded` with each committed record once its batch is
   * written; resolves with their number.
   */
  async scratchDiscardRecords(spec: StorageRecordsSpec<R>, onDiscarded?: (record: R) => void): Promise<number> {
    return this.exclusive('scratchDiscardRecords', async () => {
      await this.openScratch('scratchDiscardRecords');
      const position = this.position(spec, 'scratchDiscardRecords');
      return this.pages.remove(
        spec,
        position,
        { staged: true, committed: this.committed },
        () => this.pacer.nextRows(),
        'scratchDiscardRecords',
        onDiscarded,
      );
    });
  }

  /**
   * Makes every staged change visible at once by writing the new generation
   * (and `state`, when given) to the `meta` store in one small transaction:
   * its cost does not depend on the number of staged records. Superseded
   * pages are deleted in the background afterwards.
   *
   * Rejects with `StorageError` when the write fails (e.g. `state` cannot be
   * cloned); the scratch space then stays open and unmerged.
   */
  async scratchMerge(state?: unknown): Promise<void> {
    await this.exclusive('scratchMerge', async () => {
      await this.rollBack('scratchMerge');
      if (!this.scratchOpen && state === undefined) return;
      const next = this.committed + 1;
      await commitGeneration(this.connection, next, state, () => {
        this.committed = next;
        this.scratchOpen = false;
        this.store.keys.merge();
        this.pages.reset();
      });
    });
    this.cleaner.schedule();
    this.filler.schedule();
  }

  /**
   * Drops every staged change. Reads see the committed state at once; the
   * staged pages are deleted and the pages they superseded restored in the
   * background (a few transactions per thousand pages), before any later
   * write. Rejects only when the table is closed.
   */
  async scratchAbort(): Promise<void> {
    await this.exclusive('scratchAbort', async () => {
      if (this.scratchOpen) this.rollbackPending = true;
      this.scratchOpen = false;
      this.store.keys.abort();
      this.pages.reset();
    });
    if (this.rollbackPending) this.rollBackInBackground('scratchAbort');
  }

  /** Resolves with the `state` stored by the last merge that had one (`undefined` when none, or after `clear()`). */
  async committedState(): Promise<unknown> {
    return readCommittedState(this.connection);
  }

  /** Scores records and writes them in batches of pages, collecting the next batch while the previous transaction runs. */
  private async write(records: RecordSource<R>, operation: Operation, staged: boolean): Promise<void> {
    await writeInBatches(records, {
      toRow: rowsOf<R>(this.scorer, this.connection, operation),
      batchSize: () => (staged ? this.pacer.nextRows() : this.writeBatchSize),
      pause: staged ? () => this.pacer.pause() : undefined,
      write: async (rows) => {
        const started = performance.now();
        await this.pages.put(rows, { staged, committed: this.committed }, operation);
        if (staged) this.pacer.written(rows.length, performance.now() - started);
      },
    });
  }

  private position(spec: StorageRecordsSpec<R>, operation: Operation): number {
    const position = this.scorer.indexNames.indexOf(spec.indexName);
    if (position < 0) throw this.error(operation, `there is no index '${spec.indexName}'.`);
    return position;
  }

  private async prepareDirectWrite(operation: Operation): Promise<void> {
    await this.rollBack(operation);
    if (this.scratchOpen) {
      throw this.error(
        operation,
        'a scratch space is open; direct writes change the committed state only when none is (merge or abort it first).',
      );
    }
    await this.keyLoader.load(operation);
  }

  /** Finishes any pending rollback, loads the keys and marks the scratch space open. */
  private async openScratch(operation: Operation): Promise<void> {
    await this.rollBack(operation);
    await this.keyLoader.load(operation);
    this.scratchOpen = true;
  }

  private rollBackInBackground(operation: Operation): void {
    // Queued now, so that it runs before any write that comes later (each of which would also finish it first).
    this.writer
      .run(() => this.rollBack(operation))
      .catch((error: unknown) => {
        if (!this.connection.closedReason) this.onBackgroundError(error as StorageError);
      });
  }

  /** Removes the pages of generations above the committed one and restores those they superseded (see `rollBack`). */
  private async rollBack(operation: Operation): Promise<void> {
    if (!this.rollbackPending) return;
    this.assertOpen(operation);
    await rollBack(this.store as PageStore<unknown>, this.committed, operation);
    this.rollbackPending = false;
    this.scratchOpen = false;
  }

  /** Runs a write operation after earlier ones; rejects with `StorageError` when the connection is closed. */
  private exclusive<T>(operation: Operation, section: () => Promise<T>): Promise<T> {
    this.writesWaiting++;
    return this.writer
      .run(async () => {
        this.assertOpen(operation);
        return section();
      })
      .finally(() => this.writesWaiting--);
  }

  private assertOpen(operation: Operation): void {
    this.connection.assertOpen(operation);
  }

  private releaseReader(lease: ReaderLease): void {
    const oldest = this.readers.oldest;
    if (this.readers.release(lease) && lease.generation === oldest && this.readers.oldest > oldest) this.cleaner.schedule();
  }

  private transaction(stores: string[], mode: IDBTransactionMode, operation: Operation): IDBTransaction {
    return this.connection.transaction(stores, mode, operation);
  }

  private completion(transaction: IDBTransaction, operation: Operation): Promise<void> {
    return this.connection.completion(transaction, operation);
  }

  private error(operation: Operation, message: string, cause?: unknown): StorageError {
    return this.connection.error(operation, message, cause);
  }
}
