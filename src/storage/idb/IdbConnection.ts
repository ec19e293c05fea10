import { StorageError } from '../../core/errors';
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

  constructor(
    readonly db: IDBDatabase,
    readonly factory: IDBFactory,
    readonly dbName: string,
    private readonly tableName: string,
    private readonly releaseLock: ReleaseLock,
  ) {}

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
    return true;
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
