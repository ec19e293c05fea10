// The `tablecache-web/react` entry: React bindings over the framework-neutral records store. Only this entry imports
// `react` (an optional peer dependency).
import { useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type { IndexSpec } from './core/types';
import { createRecordsStore, type RecordsSnapshot, type RecordsSource } from './ui/RecordsStore';
import { specKey } from './ui/specKey';

export { createRecordsStore } from './ui/RecordsStore';
export type {
  RecordsSnapshot,
  RecordsSource,
  RecordsStatus,
  RecordsStore,
  RecordsStoreListener,
  RecordsStoreOptions,
} from './ui/RecordsStore';

/** Options of {@link useRecords}. */
export interface UseRecordsOptions {
  /**
   * When the spec changes, keep showing the previous spec's records (with
   * `status: 'loading'`) until the new spec's arrive, instead of none.
   * Default false.
   */
  keepPreviousRecords?: boolean | undefined;
}

/**
 * The live records of `spec` in `client`'s table (a `CachedTableClient` or
 * `SharedCachedTableClient`), re-rendering the component when they change:
 * `{ records, status, stale, error, from }` (see {@link RecordsSnapshot}).
 *
 * Subscribes on mount and unsubscribes on unmount. A spec equal by value to
 * the last one (an inline object literal, say) keeps the subscription; a
 * different spec, or another client, starts a new one. Never throws: a
 * failed read, or a closed client, is `status: 'error'` with `error` set.
 */
export function useRecords<R, S extends IndexSpec = IndexSpec>(
  client: RecordsSource<R, S>,
  spec: S,
  options: UseRecordsOptions = {},
): RecordsSnapshot<R> {
  const key = specKey(spec);
  const previousRecords = useRef<readonly R[] | undefined>(undefined);
  const keepPrevious = options.keepPreviousRecords ?? false;
  // `spec` is compared through `key`: a new object with the same content is the same subscription.
  const store = useMemo(
    () => createRecordsStore(client, spec, { initialRecords: keepPrevious ? previousRecords.current : undefined }),
    [client, key],
  );
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  useEffect(() => {
    if (snapshot.status !== 'loading') previousRecords.current = snapshot.records;
  }, [snapshot]);
  return snapshot;
}
