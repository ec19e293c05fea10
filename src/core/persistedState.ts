/** What `CachedTable` stores with every merge, for `resume()`. */
export interface PersistedState {
  readonly format: 'tablecache-web/1';
  readonly indexNames: readonly string[];
  /** When the Indexes' state was committed by a load or adjust (epoch ms). */
  readonly committedAt: number;
  readonly indexes: unknown;
}

export function isPersistedState(value: unknown): value is PersistedState {
  return typeof value === 'object' && value !== null && (value as PersistedState).format === 'tablecache-web/1';
}

export function persistedState(indexNames: readonly string[], indexes: unknown, committedAt: number): PersistedState {
  return { format: 'tablecache-web/1', indexNames: [...indexNames], committedAt, indexes };
}
