import { act, cleanup, renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { CachedTable } from '../src/core/CachedTable';
import { DbAccessError } from '../src/core/errors';
import { RangeIndexes, type RangeSpec } from '../src/indexes/RangeIndexes';
import { useRecords, type UseRecordsOptions } from '../src/react';
import { MemoryStorageTable } from '../src/storage/MemoryStorageTable';
import type { CachedTableClient } from '../src/worker/CachedTableClient';
import { connectCachedTable } from '../src/worker/connectCachedTable';
import { exposeCachedTable, type ExposedCachedTable } from '../src/worker/exposeCachedTable';
import { MemoryDbAccess } from './support/MemoryDbAccess';
import { reading, readings, tsRange, type Reading } from './support/records';
import { FakeRecordsSource, result } from './ui/FakeRecordsSource';

type Spec = RangeSpec<'ts'>;
const ts = (ge: number, lt: number): Spec => ({ indexName: 'ts', ge, lt });

afterEach(() => cleanup());

/** Renders `useRecords(source, spec)`; `rerender({ spec })` changes the spec. */
function renderRecords(source: FakeRecordsSource<number, Spec>, spec: Spec, options?: UseRecordsOptions) {
  return renderHook((props: { spec: Spec }) => useRecords(source, props.spec, options), { initialProps: { spec } });
}

describe('react', () => {
  describe('useRecords', () => {
    it('should render loading, then the records of the spec once they arrive', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const { result: hook } = renderRecords(source, ts(0, 10));
      expect(hook.current).toMatchObject({ records: [], status: 'loading' });
      act(() => source.deliver(result([1, 2], { from: 'db' })));
      expect(hook.current).toEqual({ records: [1, 2], status: 'ready', stale: false, error: undefined, from: 'db' });
    });

    it('should keep its subscription when re-rendered with an equal spec in a new object', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const { rerender } = renderRecords(source, ts(0, 10));
      rerender({ spec: ts(0, 10) });
      rerender({ spec: { lt: 10, ge: 0, indexName: 'ts' } });
      expect(source.subscriptions).toHaveLength(1);
      expect(source.active).toHaveLength(1);
    });

    it('should resubscribe when the spec changes, ending the old subscription and loading again', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const { result: hook, rerender } = renderRecords(source, ts(0, 10));
      act(() => source.deliver(result([1])));
      rerender({ spec: ts(10, 20) });
      expect(source.active.map((subscription) => subscription.spec)).toEqual([ts(10, 20)]);
      expect(hook.current).toMatchObject({ records: [], status: 'loading' });
      act(() => source.deliver(result([11, 12])));
      expect(hook.current).toMatchObject({ records: [11, 12], status: 'ready' });
    });

    it('should show the previous records while the new spec loads when keepPreviousRecords is set', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const { result: hook, rerender } = renderRecords(source, ts(0, 10), { keepPreviousRecords: true });
      act(() => source.deliver(result([1])));
      rerender({ spec: ts(10, 20) });
      expect(hook.current).toMatchObject({ records: [1], status: 'loading' });
    });

    it('should unsubscribe on unmount', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const { unmount } = renderRecords(source, ts(0, 10));
      expect(source.active).toHaveLength(1);
      unmount();
      expect(source.active).toHaveLength(0);
    });

    it('should render a failed read as an error state, not throw, keeping the last records', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const { result: hook } = renderRecords(source, ts(0, 10));
      act(() => source.deliver(result([1])));
      const error = new DbAccessError('The backend is unreachable.', { offline: true });
      act(() => source.deliver({ error }));
      expect(hook.current).toMatchObject({ records: [1], status: 'error', error });
    });

    it('should render a closed client as an error state, not throw', () => {
      const source = new FakeRecordsSource<number, Spec>();
      source.failWith = new Error('closed');
      const { result: hook } = renderRecords(source, ts(0, 10));
      expect(hook.current).toMatchObject({ status: 'error', error: source.failWith });
    });

    it('should render stale records as stale, then fresh once refreshed', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const { result: hook } = renderRecords(source, ts(0, 10));
      act(() => source.deliver(result([1], { stale: true })));
      expect(hook.current).toMatchObject({ records: [1], status: 'ready', stale: true });
      act(() => source.deliver(result([1], { stale: false })));
      expect(hook.current).toMatchObject({ records: [1], status: 'ready', stale: false });
    });

    describe('with a real table behind a MessageChannel', () => {
      let client: CachedTableClient<Reading, Spec> | undefined;
      let exposed: ExposedCachedTable | undefined;
      afterEach(async () => {
        await client?.close();
        await exposed?.close();
      });

      it('should render the cached records, and re-render when an invalidation refreshes them', async () => {
        const db = new MemoryDbAccess(readings(100));
        const indexes = new RangeIndexes({
          indexName: 'ts',
          primaryKey: (record: Reading) => record.id,
          score: (record: Reading) => record.ts,
          dbRecordsSpecForRange: tsRange,
        });
        const { port1, port2 } = new MessageChannel();
        exposed = exposeCachedTable(new CachedTable(indexes, db, new MemoryStorageTable(indexes)), port2);
        client = connectCachedTable<Reading, Spec>(port1);
        await client.load(ts(0, 50));
        const { result: hook } = renderHook(() => useRecords(client!, ts(10, 13)));
        await waitFor(() => expect(hook.current.status).toBe('ready'));
        expect(hook.current.from).toBe('storage');
        expect(hook.current.records.map((record) => record.value).sort((a, b) => a - b)).toEqual([100, 110, 120]);
        db.upsert(reading(11, 11, -1));
        await act(() => client!.invalidateRecords([ts(11, 12)], [ts(11, 12)]));
        await waitFor(() => expect(hook.current.records.map((record) => record.value).sort((a, b) => a - b)).toEqual([-1, 100, 120]));
      });
    });
  });
});
