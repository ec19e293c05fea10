export { Adjustment } from './core/Adjustment';
export { CachedTable } from './core/CachedTable';
export type {
  AdjustOptions,
  AdjustProgress,
  CachedTableOptions,
  CachedTableStats,
  InvalidateKeysOptions,
  InvalidateOptions,
  ReadSource,
  RecordsRead,
  RefreshOptions,
  ResumeOptions,
  TableChangeListener,
  TableReadOptions,
} from './core/CachedTableOptions';
export {
  DbAccessError,
  InvalidSpecError,
  RecordNotFoundError,
  RecordValidationError,
  StorageError,
  TableCacheError,
  UnsupportedIndexOperation,
  UnsupportedOperationError,
} from './core/errors';
export type { DbAccessErrorDetails } from './core/errors';
export { Interval } from './core/Interval';
export { compareKeys, isValidKey, keyToString } from './core/keys';
export type { PrimaryKey } from './core/keys';
export { StorageRecordsSpec } from './core/StorageRecordsSpec';
export type { TableChange, TableChangeKind } from './core/TableChange';
export type {
  DbAccess,
  DbAccessOptions,
  Indexes,
  IndexSpec,
  ReadOptions,
  RecordScorer,
  RecordSource,
  StorageLostReason,
  StorageTable,
} from './core/types';
export { RestDbAccess } from './db/RestDbAccess';
export type { RestDbAccessOptions, RestHeaders, RestRecordsSpec } from './db/RestDbAccess';
export { RestChangeFeed } from './db/RestChangeFeed';
export type { ChangeFeedEvent, ChangeFeedStatus, ChangeOp, RestChangeFeedOptions } from './db/RestChangeFeed';
export type { ChangeFollower, ChangeFollowerStatus, ChangeSource, FollowChangesOptions, OpenChangeFeed } from './core/changeFeed';
export { RestProtocolError } from './db/RestProtocolError';
export type { RestProtocolViolation } from './db/RestProtocolError';
export type { RestTransportOptions } from './db/restTransport';
export type { RestQueryValue } from './db/restUrl';
export type { RetryOptions } from './db/retryDelay';
export { AllIndexes } from './indexes/AllIndexes';
export type { AllIndexesOptions, AllSpec } from './indexes/AllIndexes';
export { PrimaryKeyAdjustment, PrimaryKeyIndexes } from './indexes/PrimaryKeyIndexes';
export type { PrimaryKeyIndexesOptions, PrimaryKeySpec } from './indexes/PrimaryKeyIndexes';
export { PrimaryKeyRangeIndexes } from './indexes/PrimaryKeyRangeIndexes';
export type { PrimaryKeyRangeIndexesOptions } from './indexes/PrimaryKeyRangeIndexes';
export { RangeAdjustment, RangeIndexes } from './indexes/RangeIndexes';
export type { RangeIndexesOptions, RangeSpec, ScoreBound } from './indexes/RangeIndexes';
export { MemoryStorageTable } from './storage/MemoryStorageTable';
export type { MemoryStorageTableOptions } from './storage/MemoryStorageTable';
// The browser layers' entries (`tablecache-web/idb`, `tablecache-web/worker`), re-exported whole: the root exports
// everything, and cannot miss what they add.
export * from './idb';
export * from './worker';
