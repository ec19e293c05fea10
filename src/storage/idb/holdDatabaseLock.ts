/** Releases a lock taken by {@link holdDatabaseLock}. */
export type ReleaseLock = () => void;

/**
 * Takes the Web Lock that makes this the only `IdbStorageTable` writing
 * `dbName` in this origin (another one would roll back this one's scratch
 * space when it opens), waiting up to `timeoutMs` for a holder to let go.
 *
 * Resolves with the function that releases it, with `null` when the lock
 * stayed taken, or with a no-op where Web Locks are not available (Node,
 * old browsers, a `navigator.locks` without `request`): there, nothing
 * guards against a second writer.
 */
export async function holdDatabaseLock(dbName: string, timeoutMs: number): Promise<ReleaseLock | null> {
  const locks = (globalThis as { navigator?: { locks?: Partial<LockManager> | null } }).navigator?.locks;
  // A partial navigator.locks (some embedded or polyfilled engines) is no Web Locks at all, as for TabElection.
  if (typeof locks?.request !== 'function') return () => undefined;
  const request = locks.request.bind(locks) as LockManager['request'];
  const name = `tablecache-web:idb:${dbName}`;
  return new Promise((resolve, reject) => {
    const options: LockOptions = timeoutMs <= 0 ? { ifAvailable: true } : { signal: timeoutSignal(timeoutMs) };
    request(name, options, (lock) => {
      if (!lock) {
        resolve(null);
        return undefined;
      }
      // Held until released: the lock request settles when this promise does.
      return new Promise<void>((release) => resolve(release));
    }).catch((error: unknown) => {
      if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) resolve(null);
      else reject(error);
    });
  });
}

/** `AbortSignal.timeout`, or the same made by hand where the engine lacks it (Safari before 16). */
function timeoutSignal(timeoutMs: number): AbortSignal {
  if (typeof AbortSignal.timeout === 'function') return AbortSignal.timeout(timeoutMs);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new DOMException('The lock was not granted in time.', 'TimeoutError')), timeoutMs);
  return controller.signal;
}
