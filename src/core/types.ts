import type { ZodType } from 'zod';
import type { Adjustment } from './Adjustment';
import type { PrimaryKey } from './keys';
import type { StorageRecordsSpec } from './StorageRecordsSpec';

/**
 * The application's description of a set of records in terms of one index:
 * plain, structured-cloneable data with at least the index's name.
 */
export interface IndexSpec {
  readonly indexName: string;
}

/** What a storage table needs to know about records: their keys and scores. */
export interface RecordScorer<R, PK = PrimaryKey> {
  /** The names of the indexes; never empty. */
  readonly indexNames: readonly string[];
  /**
   * The record's score in index `indexName`: a number, ±Infinity allowed, never NaN.
   * @throws when `indexName` is not one of `indexNames`.
   */
  score(indexName: string, record: R): number;
  /**
   * The record's primary key: a valid IndexedDB key that identifies it.
   * @throws when the record has no valid key.
   */
  primaryKey(record: R): PK;
}

/**
 * Ties a cache together: translates the application's `IndexSpec`s into
 * storage reads and backend fetches, and keeps track of what storage holds.
 *
 * `covers`, `prepareAdjustment` and `storageRecordsSpec` may throw
 * `UnsupportedIndexOperation` for an index that does not support them; an
 * index that supports `covers` supports `storageRecordsSpec`.
 */
export interface Indexes<R, PK = PrimaryKey, S extends IndexSpec = IndexSpec, D = unknown> extends RecordScorer<R, PK> {
  /** The records of `spec`, as a storage read. */
  storageRecordsSpec(spec: S): StorageRecordsSpec<R>;
  /** The records of `spec`, as a backend fetch of the `DbAccess` in use. */
  dbRecordsSpec(spec: S): D;
  /**
   * An adjustment that makes storage hold exactly the records of `spec`.
   * Must not change the Indexes' state; `commitAdjustment` adopts it.
   */
  prepareAdjustment(spec: S): Adjustment<R, D>;
  /** Adopts the state prepared in `adjustment`; from now on `covers` reflects it. */
  commitAdjustment(adjustment: Adjustment<R, D>): void;
  /**
   * Whether storage holds every record of `spec`. May answer `false` when
   * unsure; a record that does not exist counts as covered.
   */
  covers(spec: S): boolean;
  /** Parses untrusted input (e.g. from the UI thread) into a spec. */
  readonly specSchema?: ZodType<S> | undefined;
  /**
   * The committed state (what `covers` answers from), as a structured-cloneable
   * value. With `restoreState`, it lets `CachedTable.resume()` serve a
   * persisted storage after a reload without reloading it.
   */
  snapshotState?(): unknown;
  /** Adopts a state returned by `snapshotState` (possibly by an earlier page); throws when it is not one. */
  restoreState?(state: unknown): void;
  /**
   * Splits a spec that is not covered into specs of the same index whose
   * record sets are disjoint and together equal `spec`'s: `covered` ones
   * (each satisfying `covers`) and `missing` ones. Lets a read serve the
   * covered part from storage and fetch only the rest.
   */
  splitCoverage?(spec: S): { covered: S[]; missing: S[] };
  /**
   * The backend fetch of the current versions of the records with these
   * primary keys (keys the backend does not have are simply absent from the
   * response). `CachedTable.invalidateKeys` needs it; it calls it with at
   * most `CachedTableOptions.keysPerFetch` keys at a time.
   */
  dbRecordsSpecForKeys?(keys: readonly PK[]): D;
  /**
   * Whether `record`, with its current scores, belongs to what storage is
   * meant to hold under the committed coverage (as `covers` would say of a
   * spec of exactly this record). `CachedTable.invalidateKeys` needs it to
   * place a refetched record: kept (it moved within what is held, or into
   * it) or dropped (it moved out).
   */
  coversRecord?(record: R): boolean;
}

/** Options of a read from storage, and of `CachedTable.readRecords`. */
export interface ReadOptions {
  /**
   * The caller will not change the records, only look at them or post them
   * to another thread (which copies them): a storage that keeps records in
   * memory may then hand out its own objects rather than copies. Default false.
   */
  shared?: boolean | undefined;
}

/** Records given to a storage table: an array, any iterable, or an async iterable (streamed from the backend). */
export type RecordSource<R> = Iterable<R> | AsyncIterable<R>;

/**
 * Fast storage of records, indexed by score. `MemoryStorageTable` and
 * `IdbStorageTable` implement it; the `describeStorageTable` contract suite
 * in the tests says exactly what an implementation must do.
 *
 * The scratch space stages changes that reads do not see until
 * `scratchMerge()` makes them visible all at once.
 */
export interface StorageTable<R> {
  /** Informational; used in error messages. */
  readonly name: string;
  /** Deletes every record of this table, staged ones and the committed state included. */
  clear(): Promise<void>;
  /**
   * Inserts or replaces (by primary key) the records, visible at once.
   * @throws {StorageError} when a record cannot be stored (invalid key or score, not cloneable, quota).
   */
  putRecords(records: RecordSource<R>): Promise<void>;
  /**
   * The committed records matching `spec`, without duplicates, in no defined
   * order. What is read is the state committed when `getRecords` is called:
   * changes merged while the iteration runs are not seen.
   */
  getRecords(spec: StorageRecordsSpec<R>, options?: ReadOptions): AsyncIterable<R>;
  /**
   * Deletes exactly what `getRecords(spec)` would return, calling `onDeleted`
   * with each. Resolves with the number deleted.
   */
  deleteRecords(spec: StorageRecordsSpec<R>, onDeleted?: (record: R) => void): Promise<number>;
  /** Stages inserts/replacements, invisible to reads until merged. */
  scratchPutRecords(records: RecordSource<R>): Promise<void>;
  /**
   * Stages the deletion of the committed records matching `spec` (judged by
   * the records as they are in storage), calling `onDiscarded` with each, and
   * drops staged records matching it. Resolves with the number of committed
   * records it marked. A later scratch put of the same key undoes the deletion.
   */
  scratchDiscardRecords(spec: StorageRecordsSpec<R>, onDiscarded?: (record: R) => void): Promise<number>;
  /**
   * Makes every staged change visible at once. `state`, when given, is stored
   * atomically with the merge and returned by `committedState()`.
   */
  scratchMerge(state?: unknown): Promise<void>;
  /** Drops every staged change. */
  scratchAbort(): Promise<void>;
  /** The `state` stored by the last merge (`undefined` when none, or after `clear()`). */
  committedState?(): Promise<unknown>;
  /**
   * The committed records with these primary keys; keys not stored are left
   * out. No defined order; copies unless `options.shared`. Staged changes
   * are not seen. `CachedTable.invalidateKeys` needs it.
   * @throws {StorageError} when the storage fails.
   */
  getRecordsByKeys?(keys: readonly PrimaryKey[], options?: ReadOptions): Promise<R[]>;
  /**
   * Calls `listener` once when the storage becomes unusable for good while
   * open (`IdbStorageTable`: another connection upgrades or deletes its
   * database, or the browser closes it), at once when it is already; never
   * after `close()`. Returns a function that removes the listener. A storage
   * that cannot be lost leaves it out. `CachedTable.onStorageLost` needs it.
   */
  onLost?(listener: (reason: StorageLostReason) => void): () => void;
}

/**
 * Why a storage was lost: `'versionchange'`, another connection is upgrading
 * or deleting its database (a newer version of the app?); `'close'`, the
 * browser closed it (site data cleared, a disk failure).
 */
export type StorageLostReason = 'versionchange' | 'close';

/** Options of a backend fetch. */
export interface DbAccessOptions {
  /** Aborts the fetch; the iteration then rejects. */
  signal?: AbortSignal | undefined;
  /**
   * Called at most once, before the first record, with the number of
   * records the iteration will yield, when the backend tells it up front
   * (`RestDbAccess`: the `X-Total-Count` response header). A `DbAccess` that
   * cannot tell never calls it. `CachedTable` passes it on as the `total`
   * of a load's or adjust's progress.
   */
  onTotal?: ((total: number) => void) | undefined;
}

/** Fetches records from the backend, the source of truth. */
export interface DbAccess<R, D = unknown> {
  /** The records of `spec`, streamed. Breaking out of the iteration cancels the fetch. */
  getRecords(spec: D, options?: DbAccessOptions): AsyncIterable<R>;
}
