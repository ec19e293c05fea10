import { TableCacheError } from './errors';

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

/**
 * The state `resume()` restores: what storage committed last, checked to be
 * one of this library's states, for these `indexNames`, and no older than
 * `maxAge` ms.
 * @throws {TableCacheError} naming `table` and saying to `load()` otherwise.
 */
export function resumableState(table: string, indexNames: readonly string[], stored: unknown, maxAge: number | undefined): PersistedState {
  if (!isPersistedState(stored)) {
    throw new TableCacheError(`Table '${table}' has nothing to resume: storage holds no committed state; load() it.`);
  }
  if (stored.indexNames.join('\0') !== indexNames.join('\0')) {
    throw new TableCacheError(
      `Table '${table}' cannot resume: storage was committed with indexes [${stored.indexNames.join(', ')}], not [${indexNames.join(', ')}].`,
    );
  }
  const age = Date.now() - stored.committedAt;
  if (maxAge !== undefined && age > maxAge) {
    throw new TableCacheError(
      `Table '${table}' will not resume a state committed ${Math.round(age / 1000)} s ago (maxAge ${Math.round(maxAge / 1000)} s); load() it.`,
    );
  }
  return stored;
}
