// useRecords.ts — a Vue composable over the framework-neutral store.
import type { IndexSpec } from 'tablecache-web';
import { createRecordsStore, type RecordsSnapshot, type RecordsSource } from 'tablecache-web/worker';
import { onScopeDispose, shallowRef, type ShallowRef } from 'vue';

export function useRecords<R, S extends IndexSpec>(client: RecordsSource<R, S>, spec: S): Readonly<ShallowRef<RecordsSnapshot<R>>> {
  const store = createRecordsStore(client, spec);
  const snapshot = shallowRef(store.getSnapshot());
  // Each snapshot is a new object, so a shallowRef sees every change; leaving the component's scope unsubscribes.
  onScopeDispose(store.subscribe((next) => (snapshot.value = next)));
  return snapshot;
}
