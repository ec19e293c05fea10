import { defaultLockManager } from '../tabs/TabElection';
import { pageLockName } from '../tabs/tabNames';

let pageLock: Promise<string | undefined> | undefined;

/**
 * A Web Lock this page (or worker) holds for its lifetime, named in its
 * connect requests, so that a worker that outlives it (a shared worker, or
 * one reached through a `MessagePort`) can close the connections of a page
 * that went away without closing them: the browser releases the lock then.
 * Resolves once held; `undefined` where Web Locks are missing.
 */
export function holdPageLock(): Promise<string | undefined> {
  pageLock ??= new Promise((resolve) => {
    const locks = defaultLockManager();
    if (!locks) {
      resolve(undefined);
      return;
    }
    const name = pageLockName(crypto.randomUUID());
    try {
      locks
        .request(name, () => {
          resolve(name);
          // Held until the page goes away.
          return new Promise<never>(() => {});
        })
        .catch(() => resolve(undefined));
    } catch {
      // A lock manager that throws at once (a partial implementation): connect without a page lock.
      resolve(undefined);
    }
  });
  return pageLock;
}
