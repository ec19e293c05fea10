import { describe, expect, it } from 'vitest';
import { effectScope } from 'vue';
import { FakeRecordsSource, result } from '../ui/FakeRecordsSource';
import { useRecords } from './useRecords.vue';

type Spec = { indexName: 'ts'; ge: number; lt: number };

describe('README Vue composable', () => {
  describe('useRecords', () => {
    it('should follow the store in a shallowRef, and unsubscribe when its scope is disposed', () => {
      const source = new FakeRecordsSource<number, Spec>();
      const scope = effectScope();
      const snapshot = scope.run(() => useRecords(source, { indexName: 'ts', ge: 0, lt: 10 }))!;
      expect(snapshot.value.status).toBe('loading');
      source.deliver(result([1, 2]));
      expect(snapshot.value).toMatchObject({ records: [1, 2], status: 'ready' });
      scope.stop();
      expect(source.active).toEqual([]);
    });
  });
});
