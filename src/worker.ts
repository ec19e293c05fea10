// The `tablecache-web/worker` entry: the worker boundary over Comlink.
export { DEFAULT_BATCH_SIZE, MAX_BATCH_CHARS } from './worker/batchSize';
export { DEFAULT_CONNECT_TIMEOUT_MS } from './worker/connectionWatch';
export type {
  CachedTableClient,
  GetRecordsOptions,
  SubscribeOptions,
  SubscriptionFailure,
  SubscriptionListener,
  SubscriptionRecords,
  SubscriptionUpdate,
} from './worker/CachedTableClient';
export { connectCachedTable } from './worker/connectCachedTable';
export type { ConnectOptions } from './worker/connectCachedTable';
export { connectSharedCachedTable } from './tabs/connectSharedCachedTable';
export type { ConnectSharedOptions } from './tabs/connectSharedCachedTable';
export type { EventMessageSource, NodeMessageSource, TableEndpoint, TableExposeTarget } from './worker/endpoint';
export { registerErrorClass } from './worker/errorTransfer';
export type { ErrorClass } from './worker/errorTransfer';
export { exposeCachedTable } from './worker/exposeCachedTable';
export type { ExposedCachedTable } from './worker/exposeCachedTable';
export { exposeSharedCachedTable } from './tabs/exposeSharedCachedTable';
export type { ExposedSharedCachedTable, ExposeSharedOptions } from './tabs/exposeSharedCachedTable';
export type { ReadCounts, ReadInfo } from './worker/protocol';
export type { SharedCachedTableClient, SharedTableMode } from './tabs/SharedCachedTableClient';
export type { NodeRole } from './tabs/SharedTableNode';
export type { LockManagerLike } from './tabs/TabElection';
export type { TableFactory } from './tabs/TableHost';
export { TableOwnerLostError } from './tabs/TableOwnerLostError';
export { WorkerConnectionError } from './worker/WorkerConnectionError';
export type { WorkerConnectionFailure } from './worker/WorkerConnectionError';
// Framework-neutral live records over a client's subscription (React's hook is in `tablecache-web/react`).
export { createRecordsStore } from './ui/RecordsStore';
export type {
  RecordsSnapshot,
  RecordsSource,
  RecordsStatus,
  RecordsStore,
  RecordsStoreListener,
  RecordsStoreOptions,
} from './ui/RecordsStore';
