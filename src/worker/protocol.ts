// The messages between `connectCachedTable` (UI side) and `exposeCachedTable`
// (worker side). Types, and the version number; the code lives in the files that use them.
import type { AdjustProgress, CachedTableStats, InvalidateOptions, ReadSource, ResumeOptions } from '../core/CachedTable';
import type { ChangeFeedStatus } from '../core/changeFeed';

/** Version of this protocol; both sides must speak the same one. */
export type ProtocolVersion = 1;
export const PROTOCOL_VERSION: ProtocolVersion = 1;

/**
 * Posted raw (not through Comlink) on the exposed endpoint to open a
 * connection: the worker exposes a {@link TableSessionApi} on `sessionPort`
 * and posts {@link UpdateMessage}s on `updatesPort`.
 */
export interface ConnectMessage {
  readonly type: 'tablecache-web:connect';
  readonly protocol: ProtocolVersion;
  readonly sessionPort: MessagePort;
  readonly updatesPort: MessagePort;
}

/** Records of a partial hit by source, so far. */
export interface ReadCounts {
  readonly storage: number;
  readonly db: number;
}

/** Where a read's records come from, as `CachedTable.readRecords` decided. */
export interface ReadInfo {
  /** `'storage'` (possibly after a refresh), `'db'` (the backend), or `'mixed'` (a partial hit). */
  readonly from: ReadSource;
  /** True when invalid or stale records were refreshed before this read. */
  readonly refreshed: boolean;
  /** True when storage served records restored by `resume()` without refreshing them (backend unreachable, or `staleWhileRevalidate`). */
  readonly stale: boolean;
  /** True when only the covered part of a partly covered spec was served (`partialWhenOffline`, backend unreachable). */
  readonly incomplete: boolean;
  /** For a `'mixed'` read: records from each source (so far, in a batch; in total, in a subscription's result). */
  readonly counts?: ReadCounts;
}

/** The reply to `openRead`: how the read is served, its first batch, and whether that was all. */
export interface OpenedRead<R> extends ReadInfo {
  /** Names the read in `nextBatch` and `closeRead`; absent when `done`. */
  readonly readId: number | undefined;
  readonly records: R[];
  readonly done: boolean;
}

/** One batch of a read. */
export interface RecordBatch<R> {
  readonly records: R[];
  /** True when the read has ended (the worker has already released it). */
  readonly done: boolean;
  /** For a `'mixed'` read: records from each source up to this batch. */
  readonly counts?: ReadCounts;
}

/** Names a cancellable call, for `cancel`; chosen by the client, unique within its connection. */
export interface CallOptions {
  readonly operationId?: number;
}

/** Options of a read or a subscription, as sent to the worker (checked there). */
export interface ReadRequestOptions extends CallOptions {
  /** `CachedTable.readRecords`' `staleWhileRevalidate`; absent: the table's default. */
  readonly staleWhileRevalidate?: boolean;
  /** `CachedTable.readRecords`' `partialWhenOffline`. */
  readonly partialWhenOffline?: boolean;
}

/** A progress callback passed by reference (a Comlink proxy); the worker releases it when the call ends. */
export type ProgressCallback = (progress: AdjustProgress) => unknown;

/**
 * What one connection can ask the worker, over Comlink. Specs arrive as
 * untrusted data and are parsed in the worker. Every method rejects with the
 * table's error, carried as its own class (see `errorTransfer`).
 */
export interface TableSessionApi<R> {
  load(spec: unknown, onProgress?: ProgressCallback, call?: CallOptions): Promise<void>;
  resume(options?: ResumeOptions): Promise<void>;
  loaded(): Promise<void>;
  adjust(spec: unknown, onProgress?: ProgressCallback, call?: CallOptions): Promise<void>;
  /** Opens a read and returns its first batch of at most `batchSize` records. */
  openRead(spec: unknown, batchSize: number, options?: ReadRequestOptions): Promise<OpenedRead<R>>;
  /** The next batch of an open read; the read is released when it is `done` or fails. */
  nextBatch(readId: number): Promise<RecordBatch<R>>;
  /** Releases an open read early (closes the worker-side iteration); resolves once closed. */
  closeRead(readId: number): Promise<void>;
  getFirstRecord(spec: unknown): Promise<R>;
  invalidateRecords(oldSpecs: unknown, newSpecs: unknown, options?: InvalidateOptions): Promise<void>;
  /** `CachedTable.invalidateKeys`; the keys are checked in the worker. */
  invalidateKeys(keys: unknown, options?: InvalidateOptions, call?: CallOptions): Promise<void>;
  refreshInvalid(call?: CallOptions): Promise<void>;
  /**
   * Cancels the call named `operationId` (its `AbortSignal` aborted in the
   * client): the table operation is aborted, and leaves the table as it was.
   * Unknown or finished ids are ignored.
   */
  cancel(operationId: number): void;
  stats(): Promise<CachedTableStats>;
  /**
   * The status of the change feed the table follows (`'none'`: none). The
   * session also posts each status, the current one first, as a
   * `changeFeedStatus` update; a relay calls this to have the owner's session
   * made (and so the statuses posted).
   */
  changeFeedStatus(): Promise<ChangeFeedStatus | 'none'>;
  /**
   * Starts a subscription whose results arrive on the updates port, named by
   * the client's `subscriptionId`, in chunks of at most `batchSize` records.
   */
  subscribe(subscriptionId: number, spec: unknown, batchSize: number, options?: ReadRequestOptions): void;
  unsubscribe(subscriptionId: number): void;
  /** Ends the connection: closes its reads and subscriptions. */
  close(): Promise<void>;
}

/** An error as it crosses the boundary; see `errorTransfer`. */
export interface SerializedError {
  readonly type: 'tablecache-web:error';
  /** How to rebuild it: a registered class, a built-in error constructor, a `DOMException`, or a thrown non-error value. */
  readonly kind: 'registered' | 'builtin' | 'dom' | 'value';
  /** The registered class name or the built-in constructor's name (`'TypeError'`). */
  readonly className: string;
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** The error's own fields that can be cloned (`status`, `path`, …), errors among them serialized too. */
  readonly fields: Readonly<Record<string, SerializedValue>>;
  /** The `cause`, when the error has one. */
  readonly cause?: SerializedValue;
  /** The thrown value itself, for `kind: 'value'`. */
  readonly value?: unknown;
}

/** A value inside a serialized error: an error (serialized) or cloneable data. */
export type SerializedValue = SerializedError | { readonly type: 'tablecache-web:value'; readonly value: unknown };

/** Posted on the updates port: one subscription's new result, in chunks, or its error. */
export type SubscriptionMessage =
  | {
      readonly type: 'records';
      readonly subscriptionId: number;
      readonly records: unknown[];
      /** Present on the last chunk of a result: the result is complete. */
      readonly info?: ReadInfo;
    }
  | { readonly type: 'error'; readonly subscriptionId: number; readonly error: SerializedError };

/** Posted on the updates port: the connection is served, a subscription's result, or the end of the connection. */
export type UpdateMessage =
  | SubscriptionMessage
  /** The status of the change feed the table follows (`'none'`: none): the current one when the session starts, then each change. */
  | { readonly type: 'changeFeedStatus'; readonly status: ChangeFeedStatus | 'none' }
  /** The first message: the worker has received the connect request and serves it (the client stops its connect timeout). */
  | { readonly type: 'connected' }
  /**
   * The worker closed the connection (the table is no longer exposed, or can
   * no longer be served: `error` says why); nothing more will be answered.
   */
  | { readonly type: 'closed'; readonly error?: SerializedError };
