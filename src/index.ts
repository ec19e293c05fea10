export { Adjustment } from './core/Adjustment';
export { CachedTable } from './core/CachedTable';
export type {
  AdjustOptions,
  AdjustProgress,
  CachedTableOptions,
  CachedTableStats,
  InvalidateOptions,
  ReadSource,
  RecordsRead,
  ResumeOptions,
  TableChangeListener,
} from './core/CachedTable';
export {
  DbAccessError,
  InvalidSpecError,
  RecordNotFoundError,
  RecordValidationError,
  StorageError,
  TableCacheError,
  UnsupportedIndexOperation,
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
  StorageTable,
} from './core/types';
export { RestDbAccess } from './db/RestDbAccess';
export type { RestDbAccessOptions, RestHeaders, RestRecordsSpec } from './db/RestDbAccess';
export type { RestQueryValue } from './db/restUrl';
export type { RetryOptions } from './db/retryDelay';
export { AllIndexes } from './indexes/AllIndexes';
export type { AllIndexesOptions, AllSpec } from './indexes/AllIndexes';
export { PrimaryKeyAdjustment, PrimaryKeyIndexes } from './indexes/PrimaryKeyIndexes';
export type { PrimaryKeyIndexesOptions, PrimaryKeySpec } from './indexes/PrimaryKeyIndexes';
export { PrimaryKeyRangeIndexes } from './indexes/PrimaryKeyRangeIndexes';
export type { PrimaryKeyRangeIndexesOptions } from './indexes/PrimaryKeyRangeIndexes';
export { RangeAdjustment, RangeIndexes } from './indexes/RangeIndexes';
export type { RangeIndexesOptions, RangeSpec } from './indexes/RangeIndexes';
export { IdbStorageTable } from './storage/IdbStorageTable';
export type { IdbStorageTableOptions } from './storage/IdbStorageTable';
export { MemoryStorageTable } from './storage/MemoryStorageTable';
export type { MemoryStorageTableOptions } from './storage/MemoryStorageTable';
export { DEFAULT_BATCH_SIZE } from './worker/batchSize';
export type { CachedTableClient } from './worker/CachedTableClient';
export type {
  GetRecordsOptions,
  SubscriptionFailure,
  SubscriptionListener,
  SubscriptionRecords,
  SubscriptionUpdate,
} from './worker/CachedTableClient';
export { connectCachedTable } from './worker/connectCachedTable';
export type { ConnectOptions } from './worker/connectCachedTable';
export { connectSharedCachedTable } from './worker/connectSharedCachedTable';
export type { ConnectSharedOptions } from './worker/connectSharedCachedTable';
export type { EventMessageSource, NodeMessageSource, TableEndpoint, TableExposeTarget } from './worker/endpoint';
export { registerErrorClass } from './worker/errorTransfer';
export type { ErrorClass } from './worker/errorTransfer';
export { exposeCachedTable } from './worker/exposeCachedTable';
export type { ExposedCachedTable } from './worker/exposeCachedTable';
export { exposeSharedCachedTable } from './worker/exposeSharedCachedTable';
export type { ExposedSharedCachedTable, ExposeSharedOptions } from './worker/exposeSharedCachedTable';
export type { SharedCachedTableClient, SharedTableMode } from './worker/SharedCachedTableClient';
export type { NodeRole } from './worker/SharedTableNode';
export type { LockManagerLike } from './worker/TabElection';
export type { TableFactory } from './worker/TableHost';
export { TableOwnerLostError } from './worker/TableOwnerLostError';
export type { ReadCounts, ReadInfo } from './worker/protocol';
