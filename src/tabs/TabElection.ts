import { TableCacheError } from '../core/errors';

/** The Web Locks API, as `navigator.locks` has it. */
export type LockManagerLike = Pick<LockManager, 'request'>;

/** The `LockManager` of this context, or `undefined` where Web Locks do not exist. */
export function defaultLockManager(): LockManagerLike | undefined {
  const locks = (globalThis as { navigator?: { locks?: Partial<LockManagerLike> | null } }).navigator?.locks;
  // Some environments (happy-dom) have a `navigator.locks` whose `request` is missing: no Web Locks there.
  return typeof locks?.request === 'function' ? (locks as LockManagerLike) : undefined;
}

function isAbort(error: unknown): boolean {
  return typeof DOMException !== 'undefined' && error instanceof DOMException && error.name === 'AbortError';
}

/**
 * The Web Locks of one node (one tab's worker, or a shared worker): a lock
 * held for the node's lifetime, the competition for the owner lock, and
 * watches on other contexts' lifetime locks. The browser releases every lock
 * of a context when that context goes away, which is how the others learn
 * that a tab closed (no heartbeats).
 */
export class TabElection {
  private readonly held: (() => void)[] = [];
  private readonly pending = new Set<AbortController>();
  private stopped = false;

  /** @param locks the lock manager, normally `navigator.locks`. */
  constructor(private readonly locks: LockManagerLike) {}

  /**
   * Takes lock `name` and holds it until `release()` (or until this context
   * goes away). Resolves once held.
   * @throws {TableCacheError} when the lock manager refuses the request.
   */
  hold(name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.request(name, () => {
        resolve();
        return new Promise<void>((release) => this.held.push(release));
      }).catch((error: unknown) => reject(new TableCacheError(`Cannot take the Web Lock '${name}'.`, { cause: error })));
    });
  }

  /**
   * Waits for lock `name` and holds it from then on; calls `onGranted` once
   * held. `stopCompeting()` withdraws a request not yet granted.
   */
  compete(name: string, onGranted: () => void): void {
    this.request(name, () => {
      onGranted();
      return new Promise<void>((release) => this.held.push(release));
    }).catch(() => {
      // Withdrawn (stopCompeting, release) or refused: either way this node does not own the table.
    });
  }

  /**
   * Calls `onGone` once lock `name` is free: its holder's context has gone
   * away (or released it). The returned function cancels the watch.
   */
  watch(name: string, onGone: () => void): () => void {
    const controller = new AbortController();
    this.request(
      name,
      () => {
        if (!controller.signal.aborted) onGone();
        return undefined;
      },
      controller,
    ).catch(() => {
      // Cancelled.
    });
    return () => controller.abort();
  }

  /** Withdraws every request not yet granted (competition and watches); held locks stay held. */
  stopCompeting(): void {
    for (const controller of this.pending) controller.abort();
    this.pending.clear();
  }

  /** Withdraws every pending request and releases every held lock. */
  release(): void {
    this.stopped = true;
    this.stopCompeting();
    for (const release of this.held.splice(0)) release();
  }

  private async request(name: string, callback: LockGrantedCallback<unknown>, controller = new AbortController()): Promise<void> {
    if (this.stopped) throw new TableCacheError(`The Web Lock '${name}' was not requested: this node has released its locks.`);
    this.pending.add(controller);
    try {
      await this.locks.request(name, { signal: controller.signal }, (lock) => {
        this.pending.delete(controller);
        return callback(lock);
      });
    } catch (error) {
      if (!isAbort(error)) throw error;
    } finally {
      this.pending.delete(controller);
    }
  }
}
