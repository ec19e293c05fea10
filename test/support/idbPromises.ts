import { unwrap, wrap, type IDBPDatabase } from 'idb';

// IndexedDB requests and transactions as promises for the tests and the bench, on `idb`. The library's own hot
// paths stay on raw requests (docs/idb-storage.md#how-it-stores-records), and so do the bench's raw baselines:
// they issue raw requests and only wait through these.

/** Resolves with a request's result, rejects with its error. An opened database comes back raw, not wrapped by idb. */
export async function requestResult<T>(request: IDBRequest<T>): Promise<T> {
  const result: unknown = await wrap(request);
  const raw = result !== null && typeof result === 'object' ? (unwrap(result as IDBPDatabase) as unknown) : undefined;
  return (raw ?? result) as T;
}

/** Resolves once `transaction` commits; rejects when it fails or aborts. Call it before the transaction can end. */
export function transactionDone(transaction: IDBTransaction): Promise<void> {
  return wrap(transaction).done;
}

/** Deletes a database of `factory` (the global `indexedDB` by default); resolves once it is gone. */
export async function deleteDatabase(name: string, factory: IDBFactory = indexedDB): Promise<void> {
  await requestResult(factory.deleteDatabase(name));
}

/** Opens `name` at a version one above its current one (an upgrade every other connection sees as a `versionchange`), closes it, and resolves with that version. */
export async function upgradeDatabase(name: string, factory: IDBFactory = indexedDB): Promise<number> {
  const current = await requestResult(factory.open(name));
  const version = current.version + 1;
  current.close();
  const upgraded = await requestResult(factory.open(name, version));
  upgraded.close();
  return upgraded.version;
}
