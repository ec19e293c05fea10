// The change feed as the table consumes it: what a feed yields, its status, and the follower's handle.

/** What one change is to the record: created or changed (`upsert`), or gone (`delete`). */
export type ChangeOp = 'upsert' | 'delete';

/** What a change feed (e.g. `RestChangeFeed`) yields. */
export type ChangeFeedEvent<K> =
  /**
   * Records changed on the backend: each key once (its last op), in the
   * order they first changed. `cursor` is the feed's position after them:
   * store it with what the changes were applied to, and pass it as `after`
   * to resume.
   */
  | { type: 'changes'; cursor: string; changes: { key: K; op: ChangeOp }[] }
  /** The backend no longer knows what changed since the cursor given: treat everything held as stale. The feed goes on from `cursor`. */
  | { type: 'reset'; cursor: string };

/** `live`: caught up and following; `catching-up`: connecting or replaying changes since the cursor; `offline`: the backend cannot be reached (or the browser is offline), retrying. */
export type ChangeFeedStatus = 'live' | 'catching-up' | 'offline';

/**
 * A change feed a table can follow: iterated once, in order; reconnects by
 * itself; ends when closed. `RestChangeFeed` is one.
 */
export interface ChangeSource<K> extends AsyncIterable<ChangeFeedEvent<K>> {
  /** Its status now. */
  readonly status: ChangeFeedStatus;
  /** Calls `listener` with each new status; returns a function that removes it. */
  onStatus(listener: (status: ChangeFeedStatus) => void): () => void;
  /** Stops following: the iteration ends. */
  close(): void;
  /**
   * Optional: its position once known (`RestChangeFeed` learns it from the
   * server when started from now). A table started without a stored cursor
   * stores it, so that a later page resumes from there.
   */
  readonly cursor?: string | null;
}

/** Opens a feed of the changes after `after` (`null`: from now). */
export type OpenChangeFeed<K> = (after: string | null) => ChangeSource<K>;

/** The status of a {@link ChangeFollower}: its feed's, or `stopped` once stopped (or failed for good). */
export type ChangeFollowerStatus = ChangeFeedStatus | 'stopped';

/** Options of `CachedTable.followChanges`. */
export interface FollowChangesOptions {
  /**
   * Called with each error: a batch that failed to apply (the backend or
   * storage failed; the follower retries it with backoff, and its records
   * stay served meanwhile), and an error the follower cannot mend by
   * retrying (the feed rejected for good, e.g. a 404 or a protocol
   * violation), which stops it: its status is then `stopped` and its
   * `error` that error. Default: none.
   */
  onError?: ((error: unknown) => void) | undefined;
  /** First wait after a batch failed to apply, in ms, doubling up to `maxRetryDelayMs`. Default 200. */
  retryDelayMs?: number | undefined;
  /** The longest wait between attempts to apply a batch, in ms. Default 10 000. */
  maxRetryDelayMs?: number | undefined;
}

/** A table following a change feed; see `CachedTable.followChanges`. */
export interface ChangeFollower {
  /** The feed's status, or `stopped`. */
  readonly status: ChangeFollowerStatus;
  /** Calls `listener` with each new status; returns a function that removes it. */
  onStatus(listener: (status: ChangeFollowerStatus) => void): () => void;
  /**
   * Where the table stands in the feed: every change through this cursor
   * is applied (or, after a reset, covered by marking everything stale).
   * Committed with the table's state by the write that applied it (after a
   * reset, by the next write). `null` while unknown.
   */
  readonly cursor: string | null;
  /** The error that stopped the follower, when one did. */
  readonly error: unknown;
  /** Stops following: closes the feed; resolves once a batch being applied is done (or abandoned). Never rejects. */
  stop(): Promise<void>;
}
