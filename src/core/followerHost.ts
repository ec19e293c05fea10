import type { CachedTable } from './CachedTable';
import type { ChangeFeedStatus, FollowChangesOptions, OpenChangeFeed } from './changeFeed';
import { ChangeFeedFollower, type ChangeFollowerHost } from './followChanges';
import { keysInvalidation, type Invalidations } from './Invalidations';
import { isPersistedState } from './persistedState';
import type { Stager } from './Stager';
import type { StaleRecords } from './StaleRecords';
import type { StatusListeners } from './StatusListeners';
import { WholeTableChange, type TableChange } from './TableChange';
import type { IndexSpec, StorageTable } from './types';

/** The parts of a `CachedTable` its change follower works with. */
export interface FollowedTable<R, PK, S extends IndexSpec, D> {
  readonly table: CachedTable<R, PK, S, D>;
  readonly storage: StorageTable<R>;
  readonly stager: Stager<R, PK, S, D>;
  readonly stale: StaleRecords<R, PK, S, D>;
  readonly invalidations: Invalidations<R, D>;
  emit(change: TableChange): void;
  /** The table's feed status, which this follower sets while it is the table's. */
  readonly status: StatusListeners<ChangeFeedStatus | 'none'>;
}

/** Starts following `openFeed` for the table; its status becomes the table's (`'none'` once stopped). */
export function startFollower<R, PK, S extends IndexSpec, D>(
  parts: FollowedTable<R, PK, S, D>,
  openFeed: OpenChangeFeed<PK>,
  options: FollowChangesOptions,
): ChangeFeedFollower<PK> {
  const follower = new ChangeFeedFollower(followerHost(parts), openFeed, options);
  const relay = (status: ChangeFeedFollower<PK>['status']) => parts.status.set(status === 'stopped' ? 'none' : status);
  follower.onStatus(relay);
  relay(follower.status);
  return follower;
}

/** How a `CachedTable` applies what its change feed says. */
export function followerHost<R, PK, S extends IndexSpec, D>(parts: FollowedTable<R, PK, S, D>): ChangeFollowerHost<PK> {
  const { table, storage, stager, stale, invalidations } = parts;
  return {
    loaded: () => table.loaded(),
    isLoaded: () => table.isLoaded,
    committedCursor: () => stager.changeCursor,
    async startCursor() {
      if (table.isLoaded) return stager.changeCursor;
      const stored = await storage.committedState?.();
      if (table.isLoaded) return stager.changeCursor;
      return isPersistedState(stored) && typeof stored.changeCursor === 'string' ? stored.changeCursor : null;
    },
    async apply(changes, cursor) {
      const gone = changes.filter(({ op }) => op === 'delete').map(({ key }) => key);
      // Not forced on reads: they serve what is stored until the refresh below commits (and so keep working offline).
      const invalidation = keysInvalidation(
        table.indexes.indexNames,
        table.name,
        changes.map(({ key }) => key),
        false,
        { cursor, gone: gone as never[] },
      );
      if (invalidation) invalidations.add(invalidation);
      await table.refreshInvalid();
    },
    retry: () => table.refreshInvalid(),
    reset(cursor) {
      stale.resumed();
      stager.changeCursor = cursor;
      parts.emit(new WholeTableChange('invalidate'));
    },
  };
}
