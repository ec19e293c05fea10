// The types of a client's subscriptions and read options, apart from the client that uses them.
import type { ReadInfo } from './protocol';

/**
 * A subscription's new result: every record of the spec, and how they were
 * read (`from`, `refreshed`, `stale`, and `counts` for a partial hit).
 */
export interface SubscriptionRecords<R> extends ReadInfo {
  /** All records of the spec, in no defined order. */
  readonly records: R[];
  readonly error?: undefined;
}

/** A subscription's re-read failed; the next change that can alter the result reads again. */
export interface SubscriptionFailure {
  /** The read's error, as its own class (e.g. a `DbAccessError` with `offline` set). */
  readonly error: Error;
  readonly records?: undefined;
  readonly from?: undefined;
}

/** What a subscription listener receives: check `error` first. */
export type SubscriptionUpdate<R> = SubscriptionRecords<R> | SubscriptionFailure;

/** Receives a subscription's results; see `CachedTableClient.subscribe`. */
export type SubscriptionListener<R> = (update: SubscriptionUpdate<R>) => void;

/** Options of `CachedTableClient.subscribe`: how each of its reads is made. */
export interface SubscribeOptions {
  /**
   * Serve stale records (after `resume()` or a handover) at once, marked
   * `stale: true`, and refresh them in the background; the subscription
   * then receives the fresh records (`stale: false`). Default: the table's
   * `staleWhileRevalidate` option.
   */
  staleWhileRevalidate?: boolean | undefined;
  /**
   * A partly covered spec whose missing part cannot be fetched (backend
   * unreachable) serves its covered part, with `incomplete: true`, instead
   * of failing; see `CachedTable.readRecords`. Default false.
   */
  partialWhenOffline?: boolean | undefined;
}

/** Options of `CachedTableClient.getRecords` and `CachedTableClient.readRecords`. */
export interface GetRecordsOptions {
  /** Records per message from the worker, at most (see `ConnectOptions.batchSize`). Default: the client's `batchSize`. */
  batchSize?: number;
  /** See `CachedTable.readRecords`: serve stale records at once and refresh them in the background. Default: the table's option. */
  staleWhileRevalidate?: boolean | undefined;
  /** See {@link SubscribeOptions.partialWhenOffline}. Default false. */
  partialWhenOffline?: boolean | undefined;
  /**
   * Cancels the read: before its source is decided, the worker-side read is
   * cancelled (a refresh it waited for goes on); afterwards, the worker-side
   * read is closed. The call or the iteration rejects with `signal.reason`.
   */
  signal?: AbortSignal | undefined;
}
