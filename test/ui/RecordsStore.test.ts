import type { Readable } from 'svelte/store';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { DbAccessError, TableCacheError } from '../../src/core/errors';
import { createRecordsStore, type RecordsSnapshot } from '../../src/ui/RecordsStore';
import { FakeRecordsSource, result } from './FakeRecordsSource';

type Spec = { indexName: 'ts'; ge: number; lt: number };
const spec: Spec = { indexName: 'ts', ge: 0, lt: 10 };

describe('RecordsStore', () => {
  describe('createRecordsStore', () => {
    it('should start loading, with no records, before anyone subscribes', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const store = createRecordsStore(source, spec);
      expect(store.getSnapshot()).toEqual({ records: [], status: 'loading', stale: false, error: undefined, from: undefined });
      expect(source.subscriptions).toEqual([]);
    });

    it("should be a Svelte store and fit React's useSyncExternalStore", () => {
      const store = createRecordsStore(new FakeRecordsSource<number, Spec>(), spec);
      expectTypeOf(store).toExtend<Readable<RecordsSnapshot<number>>>();
      expectTypeOf(store.subscribe).toExtend<(onStoreChange: () => void) => () => void>();
      expectTypeOf(store.getSnapshot).toExtend<() => RecordsSnapshot<number>>();
    });

    it('should start with initialRecords while loading when given', () => {
      const store = createRecordsStore(new FakeRecordsSource<number, Spec>(), spec, { initialRecords: [1, 2] });
      expect(store.getSnapshot()).toMatchObject({ records: [1, 2], status: 'loading' });
    });
  });

  describe('subscribe', () => {
    it('should call the listener at once with the current snapshot, as Svelte stores do, and subscribe the client to the spec', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const store = createRecordsStore(source, spec);
      const seen: RecordsSnapshot<number>[] = [];
      store.subscribe((snapshot) => seen.push(snapshot));
      expect(seen).toEqual([store.getSnapshot()]);
      expect(source.active.map((subscription) => subscription.spec)).toEqual([spec]);
    });

    it('should publish each result as a new ready snapshot, and keep the same object between changes', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const store = createRecordsStore(source, spec);
      const seen: RecordsSnapshot<number>[] = [];
      store.subscribe((snapshot) => seen.push(snapshot));
      const loading = store.getSnapshot();
      expect(store.getSnapshot()).toBe(loading);
      source.deliver(result([1, 2], { from: 'db' }));
      const ready = store.getSnapshot();
      expect(ready).not.toBe(loading);
      expect(ready).toEqual({ records: [1, 2], status: 'ready', stale: false, error: undefined, from: 'db' });
      expect(store.getSnapshot()).toBe(ready);
      expect(seen).toEqual([loading, ready]);
    });

    it('should turn a failed read into an error snapshot that keeps the last records, and a later result back into ready', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const store = createRecordsStore(source, spec);
      store.subscribe(() => {});
      source.deliver(result([1, 2]));
      const error = new DbAccessError('offline', { offline: true });
      source.deliver({ error });
      expect(store.getSnapshot()).toEqual({ records: [1, 2], status: 'error', stale: false, error, from: 'storage' });
      source.deliver(result([3]));
      expect(store.getSnapshot()).toEqual({ records: [3], status: 'ready', stale: false, error: undefined, from: 'storage' });
    });

    it('should report stale records as stale, and fresh ones once refreshed', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const store = createRecordsStore(source, spec);
      store.subscribe(() => {});
      source.deliver(result([1], { stale: true }));
      expect(store.getSnapshot()).toMatchObject({ records: [1], status: 'ready', stale: true });
      source.deliver(result([1, 2], { stale: false }));
      expect(store.getSnapshot()).toMatchObject({ records: [1, 2], status: 'ready', stale: false });
    });

    it('should turn a client that cannot subscribe (closed) into an error snapshot instead of throwing', () => {
      const source = new FakeRecordsSource<number, Spec>();
      source.failWith = new TableCacheError('This CachedTableClient is closed.');
      const store = createRecordsStore(source, spec);
      const seen: RecordsSnapshot<number>[] = [];
      expect(() => store.subscribe((snapshot) => seen.push(snapshot))).not.toThrow();
      expect(seen.map((snapshot) => snapshot.status)).toEqual(['loading', 'error']);
      expect(store.getSnapshot().error).toBe(source.failWith);
    });

    it('should share one client subscription among listeners, and end it when the last one leaves', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const store = createRecordsStore(source, spec);
      const first = store.subscribe(() => {});
      const second = store.subscribe(() => {});
      expect(source.subscriptions).toHaveLength(1);
      first();
      first();
      expect(source.active).toHaveLength(1);
      second();
      expect(source.active).toHaveLength(0);
    });

    it('should ignore results the client delivers after the subscription ended, and resubscribe for a new listener', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const store = createRecordsStore(source, spec);
      const seen: RecordsSnapshot<number>[] = [];
      store.subscribe((snapshot) => seen.push(snapshot))();
      source.deliver(result([9]), source.subscriptions);
      expect(seen).toHaveLength(1);
      expect(store.getSnapshot().status).toBe('loading');
      store.subscribe(() => {});
      expect(source.active).toHaveLength(1);
      expect(source.subscriptions).toHaveLength(2);
    });

    it('should not call a listener removed by another listener during the same change', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const store = createRecordsStore(source, spec);
      const calls: string[] = [];
      let removeSecond = () => {};
      store.subscribe((snapshot) => {
        calls.push(`first:${snapshot.status}`);
        if (snapshot.status === 'ready') removeSecond();
      });
      removeSecond = store.subscribe((snapshot) => calls.push(`second:${snapshot.status}`));
      source.deliver(result([1]));
      expect(calls).toEqual(['first:loading', 'second:loading', 'first:ready']);
    });
  });
});
