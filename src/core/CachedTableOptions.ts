// The options, results and counters of `CachedTable`'s methods.
import type { TableChange } from './TableChange';
import type { ReadOptions } from './types';

/** Options of `CachedTable`. */
export interface CachedTableOptions {
  /** Names the table in error messages. Default: the storage table's name. */
  name?: string;
  /**
   * Most primary keys per backend fetch of `invalidateKeys` (one
   * `Indexes.dbRecordsSpecForKeys` call each). Default 1000, the reference
   * backend's limit of `ids` per request.
   */
  keysPerFetch?: number;
  /**
   * Default of the read option `staleWhileRevalidate`: serve stale records
   * (after `resume()` or a handover between tabs) at once, refreshing them
   * in the background. Default false.
   */
  staleWhileRevalidate?: boolean;
  /**
   * Hears the failure of a refresh that no call awaits: the refresh of
   * stale records whose fetch already answered a read (see `readRecords`),
   * or a `staleWhileRevalidate` background refresh. Those records stay stale
   * (the next read tries again); a backend that cannot be reached is not a
   * failure here. Default: `console.warn`.
   */
  onBackgroundError?: ((error: unknown) => void) | undefined;
}

/** Options of `CachedTable.readRecords` (and `getRecords`). */
export interface TableReadOptions extends ReadOptions {
  /**
   * When the records a covered read needs are stale (restored by `resume()`
   * and not refreshed since), serve them at once (`stale: true`) and refresh
   * them in the background — one refresh per range, however many reads ask,
   * started once the read's records are taken (or a second after, if they
   * are not), so as not to slow the paint that waits for them;
   * `onChange` listeners (and so subscriptions) then see the refresh once it
   * is committed. A failed background refresh leaves them stale and is tried
   * again by the next read. Records marked invalid are still refreshed first.
   * Default: the table's `staleWhileRevalidate` option (false).
   */
  staleWhileRevalidate?: boolean | undefined;
  /**
   * Cancels the read: while it waits (for the first load, a commit, or a
   * refresh it needs — which goes on for others) or fetches from the
   * backend. The read then rejects with `signal.reason`; nothing in the
   * table changes because of the abort.
   */
  signal?: AbortSignal | undefined;
  /**
   * A partly covered read (a partial hit) whose missing part cannot be
   * fetched because the backend is unreachable (offline, timed out, 5xx)
   * serves its covered part from storage instead of rejecting, with
   * `incomplete: true` (`from: 'storage'`). Decided by the backend's first
   * answer; a failure after that rejects the iteration as usual. A read
   * with nothing covered still rejects. Default false.
   */
  partialWhenOffline?: boolean | undefined;
}

/** Counters since the table was created. */
export interface CachedTableStats {
  /** Reads by how they were served. */
  reads: {
    /** Served from storage. */
    cacheHit: number;
    /** Served from storage after refreshing invalid (or, after `resume()`, stale) records. */
    cacheHitWithRefresh: number;
    /** Served by the backend. */
    cacheMiss: number;
    /** Served partly from storage, with only the missing part from the backend. */
    partialHit: number;
    /** Served from storage with stale records because the backend could not be reached to refresh them (or `staleWhileRevalidate`). */
    servedStale: number;
    /** Partly covered reads served with only their covered part (`partialWhenOffline`, backend unreachable). */
    servedIncomplete: number;
  };
  /** Refreshes of invalid or stale records (on their own, before a read, or as part of an adjust). */
  refreshes: number;
  /** Loads and adjusts applied (a resume counts as neither). */
  adjustments: number;
  /** Records expired by adjusts. */
  expired: number;
  /** Records loaded by the load and by adjusts. */
  loaded: number;
}

/** Options of `CachedTable.invalidateRecords`. */
export interface InvalidateOptions {
  /**
   * Refresh before the next read that touches the invalidated records (or
   * any read of a dirty index). When false, reads keep serving the old
   * records until `refreshInvalid()`. Default true.
   */
  forceRefreshOnNextRead?: boolean;
}

/** Options of `CachedTable.invalidateKeys`. */
export interface InvalidateKeysOptions {
  /**
   * `true` (the default): refresh the keys now; the call resolves once their
   * current versions are placed and visible, and reads that start meanwhile
   * wait for that. `false`: only mark them (no I/O; resolves at once), as
   * `invalidateRecords` with `false` does: reads keep serving the old records
   * (they do not wait for a backend that may be unreachable) until
   * `refreshInvalid()` or the next `adjust()` refreshes them. Marking many
   * batches with `false` and refreshing once is the cheap way to apply a
   * stream of changes (`followChanges` marks each batch so and refreshes it at once).
   */
  forceRefreshOnNextRead?: boolean;
  /**
   * Cancels the refresh (`forceRefreshOnNextRead: true` only): the table
   * stays exactly as before the call (records, coverage, marks: this call's
   * marks are removed) and the call rejects with `signal.reason`.
   */
  signal?: AbortSignal | undefined;
}

/** Options of `CachedTable.refreshInvalid`. */
export interface RefreshOptions {
  /**
   * Cancels the refresh: storage and every invalid mark stay as they were,
   * and the call rejects with `signal.reason`. A refresh that other callers
   * wait for (a read refreshing first) is cancelled for them too; they retry.
   */
  signal?: AbortSignal | undefined;
}

/** How far a load or adjust has come. */
export interface AdjustProgress {
  /** Records fetched and stored (staged) so far. */
  readonly loaded: number;
  /** Records expired (staged for deletion) so far. */
  readonly expired: number;
  /**
   * The number of records the load or adjust fetches, once the backend has
   * told it (`DbAccessOptions.onTotal`; `RestDbAccess` reads the response's
   * `X-Total-Count`): `loaded / total` is the fraction a progress bar shows.
   * Absent when the backend does not tell, and when nothing is fetched. A
   * backend that changes meanwhile may deliver a few more or fewer.
   */
  readonly total?: number;
}

/** Options of `CachedTable.load` and `CachedTable.adjust`. */
export interface AdjustOptions {
  /**
   * Called as records are loaded and expired (every 1,000 records, as soon
   * as the backend tells how many records it will send, and once at the end
   * before the change becomes visible). Must not throw.
   */
  onProgress?: ((progress: AdjustProgress) => void) | undefined;
  /**
   * Cancels the load or adjust, also while it waits behind earlier writes
   * or for a backend that never finishes. The call rejects with
   * `signal.reason` (what `controller.abort(reason)` was given; a
   * `DOMException` named `AbortError` by default). A cancelled adjust
   * leaves the table exactly as before (records, coverage, invalid marks);
   * a cancelled load leaves it unloaded (storage cleared), to be loaded again.
   */
  signal?: AbortSignal | undefined;
}

/** Records between two progress reports. */
export const PROGRESS_EVERY = 1000;

/** Options of `CachedTable.resume`. */
export interface ResumeOptions {
  /** Refuse a stored state committed longer ago than this, in milliseconds. Default: any age. */
  maxAge?: number;
}

/** Where a read is served from: storage, the backend, or both (a partial hit). */
export type ReadSource = 'storage' | 'db' | 'mixed';

/** A read whose source has been decided: `records` streams them. */
export interface RecordsRead<R> {
  /** `'storage'`, `'db'`, or `'mixed'` for a partial hit (covered part from storage, the rest from the backend). */
  readonly from: ReadSource;
  /** True when invalid or stale records were refreshed before this read. */
  readonly refreshed: boolean;
  /**
   * True when storage served records restored by `resume()` without
   * refreshing them: the backend could not be reached, or the read asked for
   * `staleWhileRevalidate` (a background refresh is then under way).
   */
  readonly stale: boolean;
  /**
   * True when the read asked for `partialWhenOffline` and serves only the
   * covered part of the spec: the rest could not be fetched.
   */
  readonly incomplete: boolean;
  /** For a `'mixed'` read: how many records have come from each source so far (complete once `records` is done). */
  readonly counts?: { readonly storage: number; readonly db: number };
  /** The records; iterate it at once (a storage read holds its snapshot until iterated to the end or closed). */
  readonly records: AsyncIterable<R>;
}

/** Listens to the changes of a table; see `CachedTable.onChange`. */
export type TableChangeListener = (change: TableChange) => void;

/** Counters of a table that has done nothing yet. */
export function zeroStats(): CachedTableStats {
  return {
    reads: { cacheHit: 0, cacheHitWithRefresh: 0, cacheMiss: 0, partialHit: 0, servedStale: 0, servedIncomplete: 0 },
    refreshes: 0,
    adjustments: 0,
    expired: 0,
    loaded: 0,
  };
}
