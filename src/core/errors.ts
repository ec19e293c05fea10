/**
 * The base class of every error the library throws. Use `instanceof
 * TableCacheError` to tell the cache's failures from anything else.
 */
export class TableCacheError extends Error {
  override name = 'TableCacheError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An `Indexes` member was called for an index that does not support it. */
export class UnsupportedIndexOperation extends TableCacheError {
  override name = 'UnsupportedIndexOperation';
  /** The index asked for. */
  readonly indexName: string;
  /** The `Indexes` member that is not supported, e.g. `'covers'`. */
  readonly operation: string;

  constructor(indexName: string, operation: string, message?: string) {
    super(message ?? `Index '${indexName}' does not support ${operation}.`);
    this.indexName = indexName;
    this.operation = operation;
  }
}

/**
 * The storage table or the Indexes in use lack an optional member that an
 * operation needs (e.g. `invalidateKeys` needs `StorageTable.getRecordsByKeys`,
 * `Indexes.dbRecordsSpecForKeys` and `Indexes.coversRecord`).
 */
export class UnsupportedOperationError extends TableCacheError {
  override name = 'UnsupportedOperationError';
  /** The operation asked for, e.g. `'invalidateKeys'`. */
  readonly operation: string;
  /** The member that is missing, e.g. `'StorageTable.getRecordsByKeys'`. */
  readonly missing: string;

  constructor(message: string, details: { operation: string; missing: string }) {
    super(message);
    this.operation = details.operation;
    this.missing = details.missing;
  }
}

/** `getFirstRecord` found no record matching the spec. */
export class RecordNotFoundError extends TableCacheError {
  override name = 'RecordNotFoundError';
}

/**
 * A spec (an `IndexSpec`, an interval, a list of specs) is malformed or not
 * allowed here. `path` names the offending field when there is one.
 */
export class InvalidSpecError extends TableCacheError {
  override name = 'InvalidSpecError';
  /** Path of the offending field inside the spec, e.g. `['ge']`; empty when the spec as a whole is at fault. */
  readonly path: readonly (string | number)[];

  constructor(message: string, options?: { path?: readonly (string | number)[]; cause?: unknown }) {
    super(message, options);
    this.path = options?.path ?? [];
  }
}

/** Fields of a {@link DbAccessError}. */
export interface DbAccessErrorDetails {
  /** HTTP status of the failed response, when there was one. */
  status?: number | undefined;
  /** True when the backend could not be reached at all (network failure, browser offline). */
  offline?: boolean | undefined;
  /** True when the request was abandoned after its timeout. */
  timedOut?: boolean | undefined;
  /** The URL (or other address) that failed. */
  url?: string | undefined;
  cause?: unknown;
}

/** Fetching records from the backend failed. */
export class DbAccessError extends TableCacheError {
  override name = 'DbAccessError';
  /** HTTP status of the failed response, when there was one. */
  readonly status: number | undefined;
  /** True when the backend could not be reached at all. */
  readonly offline: boolean;
  /** True when the request was abandoned after its timeout. */
  readonly timedOut: boolean;
  /** The URL (or other address) that failed. */
  readonly url: string | undefined;

  constructor(message: string, details: DbAccessErrorDetails = {}) {
    super(message, { cause: details.cause });
    this.status = details.status;
    this.offline = details.offline ?? false;
    this.timedOut = details.timedOut ?? false;
    this.url = details.url;
  }
}

/** A record from the backend does not match the record schema. */
export class RecordValidationError extends TableCacheError {
  override name = 'RecordValidationError';
  /** Zero-based position of the record in the response (across pages). */
  readonly position: number;
  /** Path of the offending field inside the record, e.g. `['ts']`. */
  readonly path: readonly (string | number)[];
  /** The URL the record came from, when known. */
  readonly url: string | undefined;

  constructor(
    message: string,
    details: { position: number; path: readonly (string | number)[]; url?: string | undefined; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
    this.position = details.position;
    this.path = details.path;
    this.url = details.url;
  }
}

/** The storage (IndexedDB) failed. `cause` holds the platform's error, e.g. a `DOMException`. */
export class StorageError extends TableCacheError {
  override name = 'StorageError';
  /** The storage table's name. */
  readonly table: string;
  /** What was being done, e.g. `'putRecords'`. */
  readonly operation: string;

  constructor(message: string, details: { table: string; operation: string; cause?: unknown }) {
    super(message, { cause: details.cause });
    this.table = details.table;
    this.operation = details.operation;
  }
}
