import { StorageError } from '../../core/errors';
import { StatusListeners } from '../../core/StatusListeners';
import type { StorageLostReason } from '../../core/types';
import type { ReleaseLock } from './holdDatabaseLock';
import { transactionDone } from './idbRequests';
import type { PageStoreContext } from './PageStore';

/** What the table was doing when something failed: `StorageError.operation`. */
export type Operation =
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

/**
 * A table's open database: starts its transactions (relaxed durability),
 * turns their failures into `StorageError`s naming the table and the
 * operation, and knows once the connection is closed, and why.
 */
export class IdbConnection implements PageStoreContext {
  private reason: string | null = null;
  /** Why the database was lost, once it is. */
  private readonly lost = new StatusListeners<StorageLostReason | null>(null);
  /** Called once when the connection closes, whatever the reason. */
  onDisconnect: () => void = () => undefined;

  constructor(
    readonly db: IDBDatabase,
    readonly factory: IDBFactory,
    readonly dbName: string,
    private readonly tableName: string,
    private readonly releaseLock: ReleaseLock,
  ) {
    db.onversionchange = () => this.lose('versionchange', 'another connection is upgrading or deleting the database');
    db.onclose = () => this.lose('close', 'the browser closed the connection');
  }

  /** Why the connection is closed, or `null` while it is open. */
  get closedReason(): string | null {
    return this.reason;
  }

  /** Closes the connection and releases the database's lock; resolves with false when it was closed already. */
  disconnect(reason: string): boolean {
    if (this.reason) return false;
    this.reason = reason;
    this.db.close();
    this.releaseLock();
    this.onDisconnect();
    return true;
  }

  /**
   * Calls `listener` once the database is lost: another connection upgrades
   * or deletes it (the connection closes at once, so as not to block that),
   * or the browser closes it. At once when it is lost already; never once
   * `disconnect` closed it. Returns a function that removes the listener.
   */
  onLost(listener: (reason: StorageLostReason) => void): () => void {
    return this.lost.listen((reason) => {
      if (reason) listener(reason);
    });
  }

  private lose(reason: StorageLostReason, message: string): void {
    if (this.disconnect(message)) this.lost.set(reason);
  }

  /** @throws {StorageError} when the connection is closed. */
  assertOpen(operation: string): void {
    if (this.reason) {
      throw this.error(operation, `the connection to IndexedDB database '${this.dbName}' is closed: ${this.reason}.`);
    }
  }

  /** Starts a transaction, or throws `StorageError` when the connection is closed. */
  transaction(stores: string[], mode: IDBTransactionMode, operation: string): IDBTransaction {
    this.assertOpen(operation);
    try {
      return this.db.transaction(stores, mode, { durability: 'relaxed' });
    } catch (error) {
      throw this.error(operation, `cannot start a transaction on IndexedDB database '${this.dbName}': ${String(error)}`, error);
    }
  }

  /** Resolves when the transaction commits; rejects with `StorageError` (its `DOMException` as `cause`) when it aborts. */
  async completion(transaction: IDBTransaction, operation: string): Promise<void> {
    try {
      await transactionDone(transaction);
    } catch (error) {
      throw this.error(operation, `the IndexedDB transaction failed: ${String(error)}`, error);
    }
  }

  error(operation: string, message: string, cause?: unknown): StorageError {
    return new StorageError(`${operation} on table '${this.tableName}': ${message}`, { table: this.tableName, operation, cause });
  }

  /** The `DataError` IndexedDB raises for an invalid key, to report as the cause. */
  keyError(key: unknown): unknown {
    try {
      this.factory.cmp(key, 0);
    } catch (error) {
      return error;
    }
    return undefined;
  }
}
