/** What `CachedTable` stores with every merge, for `resume()`. */
export interface PersistedState {
  readonly format: 'tablecache-web/1';
  readonly indexNames: readonly string[];
  /** When the Indexes' state was committed by a load or adjust (epoch ms). */
  readonly committedAt: number;
  readonly indexes: unknown;
  /**
   * The change feed's cursor through which every change is applied to the
   * records stored with this state (`followChanges`); absent or `null`: none.
   */
  readonly changeCursor?: string | null;
  /**
   * With `changeCursor`: which intervals were fresh (`FreshIntervals.snapshot()`),
   * `null` when every record was. Stale records stay stale across a reload.
   */
  readonly fresh?: unknown;
}

export function isPersistedState(value: unknown): value is PersistedState {
  return typeof value === 'object' && value !== null && (value as PersistedState).format === 'tablecache-web/1';
}

export function persistedState(
  indexNames: readonly string[],
  indexes: unknown,
  committedAt: number,
  feed: { changeCursor: string | null; fresh: unknown } | null = null,
): PersistedState {
  const state = { format: 'tablecache-web/1', indexNames: [...indexNames], committedAt, indexes } as const;
  return feed && feed.changeCursor !== null ? { ...state, changeCursor: feed.changeCursor, fresh: feed.fresh } : state;
}
