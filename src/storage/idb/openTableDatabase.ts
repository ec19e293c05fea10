import { StorageError } from '../../core/errors';
import { holdDatabaseLock } from './holdDatabaseLock';
import { IdbConnection } from './IdbConnection';
import { requestResult } from './idbRequests';
import type { IdbStorageTableOptions } from './idbOptions';
import { PageDirectory } from './PageDirectory';
import { PageStore } from './PageStore';
import { DIR, GENERATION_KEY, META, openIdbDatabase, type CommittedGeneration } from './schema';

/** A table's open database, as `openTableDatabase` hands it to the table. */
export interface OpenDatabase {
  readonly connection: IdbConnection;
  /** The committed generation stored in `meta`. */
  readonly committed: number;
  readonly directory: PageDirectory;
}

/**
 * Takes the database's Web Lock, opens (creates or rebuilds, see
 * `openIdbDatabase`) the table's database, and reads its committed
 * generation and page directory in one transaction.
 *
 * Rejects with `StorageError` (operation `'open'`, the `DOMException` as
 * `cause`) when there is no IndexedDB, the lock stays held by another table,
 * or the database cannot be opened or read; nothing stays open or locked then.
 */
export async function openTableDatabase(indexNames: readonly string[], options: IdbStorageTableOptions): Promise<OpenDatabase> {
  const dbName = options.dbName ?? `tablecache-web:${options.name}`;
  const factory = options.indexedDB ?? globalThis.indexedDB;
  if (!factory) throw openError(options.name, 'there is no IndexedDB here; pass the indexedDB option.');
  // The directory in memory and the rollback of uncommitted pages assume one writer.
  const releaseLock = factory === globalThis.indexedDB ? await holdDatabaseLock(dbName, options.lockTimeout ?? 10_000) : () => undefined;
  if (!releaseLock) {
    throw openError(
      options.name,
      `IndexedDB database '${dbName}' is held by another IdbStorageTable (in another tab or worker?); one writer per database.`,
    );
  }
  let db: IDBDatabase | undefined;
  try {
    db = await openIdbDatabase(factory, dbName, indexNames);
    const transaction = db.transaction([META, DIR], 'readonly');
    const [committed, entries] = await Promise.all([
      requestResult(transaction.objectStore(META).get(GENERATION_KEY)) as Promise<CommittedGeneration | undefined>,
      PageStore.loadDirectory(transaction),
    ]);
    return {
      connection: new IdbConnection(db, factory, dbName, options.name, releaseLock),
      committed: committed?.generation ?? 0,
      directory: new PageDirectory(entries),
    };
  } catch (error) {
    db?.close();
    releaseLock();
    throw openError(options.name, `cannot open IndexedDB database '${dbName}': ${String(error)}`, error);
  }
}

/** A `StorageError` of the operation `'open'`. */
export function openError(table: string, message: string, cause?: unknown): StorageError {
  return new StorageError(`open on table '${table}': ${message}`, { table, operation: 'open', cause });
}
