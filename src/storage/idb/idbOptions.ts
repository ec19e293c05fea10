import type { StorageError } from '../../core/errors';
import { TableCacheError } from '../../core/errors';

/** Options of `IdbStorageTable.open`. */
export interface IdbStorageTableOptions {
  /** Names the table in error messages, and the database by default. */
  name: string;
  /** The IndexedDB database, one per table. Default `` `tablecache-web:${name}` ``. */
  dbName?: string | undefined;
  /** The IndexedDB implementation. Default `globalThis.indexedDB`; pass `fake-indexeddb`'s `IDBFactory` in Node. */
  indexedDB?: IDBFactory | undefined;
  /**
   * Accepted for compatibility and ignored: the page layout needs no key
   * ranges (it was required with an injected `indexedDB` before).
   */
  IDBKeyRange?: typeof IDBKeyRange | undefined;
  /**
   * Most records per page (one IndexedDB row). Default 512: IndexedDB's
   * cost per row is paid once per page (docs/idb-storage.md#how-it-stores-records).
   * Bigger pages read a range faster; smaller ones make replacing a few
   * records, and reads that need a few records of many pages, cheaper.
   * Changing it does not rebuild a database; pages written before keep
   * their size.
   */
  recordsPerPage?: number | undefined;
  /**
   * Most records written per transaction. Default 4 × `recordsPerPage`.
   * Direct writes (the load) use it; staged writes adapt their size to about
   * 50 ms per transaction, and to one page while reads of IndexedDB run, so a
   * read never queues behind more than a page.
   */
  writeBatchSize?: number | undefined;
  /**
   * Up to how many records the table keeps in memory, as the pages
   * IndexedDB returned (the *in-memory copy*), to serve reads from there.
   * Default 100000; `0`: every read goes to IndexedDB. Filled in the
   * background after open and after each merge (reads never wait for it),
   * and by reads that promise to share (`shared: true`). Costs worker memory:
   * about the records' own size (docs/idb-storage.md#the-in-memory-copy).
   */
  memoryRecords?: number | undefined;
  /** Records of the first batch of pages a read fetches from IndexedDB; later ones grow fourfold, up to 16 times this. Default 1000. */
  readBatchSize?: number | undefined;
  /** Pages deleted per transaction by the background cleanup. Default 16. */
  cleanupBatchSize?: number | undefined;
  /**
   * How long `open` waits, in milliseconds, for another `IdbStorageTable` of
   * the same database (in another tab or worker of this origin) to close.
   * Default 10000; 0 fails at once. Only with the global `indexedDB` and
   * where Web Locks exist.
   */
  lockTimeout?: number | undefined;
  /**
   * Called when background work fails: the rollback after an abort or a
   * crash (retried before the next write), the cleanup of superseded pages
   * (retried after the next merge), the fill of the in-memory copy. Default:
   * `console.warn`.
   */
  onBackgroundError?: ((error: StorageError) => void) | undefined;
}

/** Records kept in memory by default (`memoryRecords`). */
export const DEFAULT_MEMORY_RECORDS = 100_000;

/** Records per page by default (`recordsPerPage`). */
export const DEFAULT_RECORDS_PER_PAGE = 512;

/** @throws {TableCacheError} for no index names or one twice, and for an option that is not a count it should be. */
export function validateOptions(options: IdbStorageTableOptions, indexNames: readonly string[]): void {
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
  for (const name of ['recordsPerPage', 'writeBatchSize', 'readBatchSize', 'cleanupBatchSize'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new TableCacheError(`Table '${options.name}': ${name} must be a whole number of at least 1; got ${String(value)}.`);
    }
  }
}
