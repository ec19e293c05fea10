import type { ReadSource } from '../core/CachedTableOptions';
import { TableCacheError } from '../core/errors';
import type { IndexSpec } from '../core/types';
import type { SubscriptionListener, SubscriptionUpdate } from '../worker/CachedTableClient';

/** Where a {@link RecordsSnapshot} stands: waiting for its first result, holding one, or holding the last read's error. */
export type RecordsStatus = 'loading' | 'ready' | 'error';

/**
 * The state of a subscription, as a UI renders it. A new object each time
 * something changes, the same object otherwise.
 */
export interface RecordsSnapshot<R> {
  /**
   * Every record of the spec, in no defined order: the last successful
   * result. Empty (or the store's `initialRecords`) until the first one;
   * kept when a later read fails.
   */
  readonly records: readonly R[];
  /** `'loading'` until the first result, `'error'` while the last read failed, `'ready'` otherwise. */
  readonly status: RecordsStatus;
  /**
   * True when `records` were restored by `resume()` and could not be
   * refreshed (the backend is unreachable): show them, marked as possibly
   * out of date. False before the first result.
   */
  readonly stale: boolean;
  /** The last read's error (e.g. a `DbAccessError` with `offline`), while `status` is `'error'`; `undefined` otherwise. */
  readonly error: Error | undefined;
  /** Where `records` came from: `'storage'`, `'db'` or `'mixed'`; `undefined` before the first result. */
  readonly from: ReadSource | undefined;
}

/** What a store subscribes to: a `CachedTableClient` or `SharedCachedTableClient` (or a test's fake). */
export interface RecordsSource<R, S extends IndexSpec = IndexSpec> {
  subscribe(spec: S, listener: SubscriptionListener<R>): () => void;
}

/** Options of {@link createRecordsStore}. */
export interface RecordsStoreOptions<R> {
  /** Records to show while the first result loads (`status` stays `'loading'`), e.g. the previous spec's. Default none. */
  initialRecords?: readonly R[] | undefined;
}

/** Called with the current snapshot: at once when subscribing, then after every change. */
export type RecordsStoreListener<R> = (snapshot: RecordsSnapshot<R>) => void;

/**
 * The live records of one spec, framework-neutral: fits React's
 * `useSyncExternalStore(store.subscribe, store.getSnapshot)` and Svelte's
 * store contract (`$store`), and is easy to wrap for Vue or anything else.
 */
export interface RecordsStore<R> {
  /**
   * Calls `listener` at once with the current snapshot, then with every new
   * one. The first listener starts the client subscription, the last one to
   * leave ends it. Never throws: a failure to subscribe (a closed client)
   * becomes an `'error'` snapshot.
   * @returns a function that removes `listener` (idempotent).
   */
  subscribe(listener: RecordsStoreListener<R>): () => void;
  /** The current snapshot; the same object until something changes. */
  getSnapshot(): RecordsSnapshot<R>;
}

function asError(value: unknown): Error {
  return value instanceof Error
    ? value
    : new TableCacheError(`Subscribing failed with a non-error value: ${String(value)}.`, { cause: value });
}

/**
 * A {@link RecordsStore} of `spec`'s records in `client`'s table, read at
 * once (after the table's first load) and again whenever a change can alter
 * them (see `CachedTableClient.subscribe`).
 */
export function createRecordsStore<R, S extends IndexSpec = IndexSpec>(
  client: RecordsSource<R, S>,
  spec: S,
  options: RecordsStoreOptions<R> = {},
): RecordsStore<R> {
  let snapshot: RecordsSnapshot<R> = {
    records: options.initialRecords ?? [],
    status: 'loading',
    stale: false,
    error: undefined,
    from: undefined,
  };
  const listeners = new Set<{ readonly listener: RecordsStoreListener<R> }>();
  let stopSubscription: (() => void) | null = null;

  const publish = (next: RecordsSnapshot<R>) => {
    snapshot = next;
    // A copy: a listener may unsubscribe (itself or another) while being called.
    for (const entry of [...listeners]) if (listeners.has(entry)) entry.listener(snapshot);
  };
  const onUpdate = (update: SubscriptionUpdate<R>) => {
    if (update.error) publish({ ...snapshot, status: 'error', error: update.error });
    else publish({ records: update.records, status: 'ready', stale: update.stale, error: undefined, from: update.from });
  };
  const start = () => {
    let active = true;
    let unsubscribe: (() => void) | undefined;
    stopSubscription = () => {
      active = false;
      unsubscribe?.();
    };
    try {
      unsubscribe = client.subscribe(spec, (update) => {
        if (active) onUpdate(update);
      });
    } catch (error) {
      publish({ ...snapshot, status: 'error', error: asError(error) });
    }
  };

  return {
    subscribe(listener) {
      const entry = { listener };
      listeners.add(entry);
      listener(snapshot);
      if (listeners.size === 1 && !stopSubscription) start();
      return () => {
        if (!listeners.delete(entry) || listeners.size > 0) return;
        const stop = stopSubscription;
        stopSubscription = null;
        stop?.();
      };
    },
    getSnapshot: () => snapshot,
  };
}
