import type { LockManagerLike } from '../../src/tabs/TabElection';

interface LockRequest {
  readonly context: FakeLockContext;
  readonly grant: () => void;
  readonly drop: () => void;
}

/**
 * Exclusive Web Locks for Node tests, shared by several "contexts" (one per
 * simulated tab or worker). `kill()` on a context releases what it holds and
 * drops what it waits for, as a browser does when a context goes away.
 */
export class FakeLockRegistry {
  private readonly holders = new Map<string, FakeLockContext>();
  private readonly queues = new Map<string, LockRequest[]>();

  /** A new context with its own view of the locks. */
  context(): FakeLockContext {
    return new FakeLockContext(this);
  }

  /** Who holds each lock now. */
  held(name: string): FakeLockContext | undefined {
    return this.holders.get(name);
  }

  /** @internal */
  enqueue(name: string, request: LockRequest): void {
    const queue = this.queues.get(name) ?? [];
    queue.push(request);
    this.queues.set(name, queue);
    this.next(name);
  }

  /** @internal */
  remove(name: string, request: LockRequest): boolean {
    const queue = this.queues.get(name) ?? [];
    const i = queue.indexOf(request);
    if (i < 0) return false;
    queue.splice(i, 1);
    return true;
  }

  /** @internal */
  release(name: string, context: FakeLockContext): void {
    if (this.holders.get(name) !== context) return;
    this.holders.delete(name);
    this.next(name);
  }

  /** @internal */
  dropAll(context: FakeLockContext): void {
    for (const [name, queue] of this.queues) {
      for (const request of queue.filter((each) => each.context === context)) {
        this.remove(name, request);
        request.drop();
      }
    }
    for (const [name, holder] of [...this.holders]) if (holder === context) this.release(name, context);
  }

  private next(name: string): void {
    if (this.holders.has(name)) return;
    const request = this.queues.get(name)?.shift();
    if (!request) return;
    this.holders.set(name, request.context);
    request.grant();
  }
}

/** One context's lock manager (exclusive locks, `signal` supported). */
export class FakeLockContext implements LockManagerLike {
  private dead = false;

  constructor(private readonly registry: FakeLockRegistry) {}

  request: LockManager['request'] = ((name: string, optionsOrCallback: unknown, maybeCallback?: unknown) => {
    const options = (typeof optionsOrCallback === 'function' ? {} : optionsOrCallback) as LockOptions;
    const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as (lock: Lock | null) => unknown;
    return new Promise<unknown>((resolve, reject) => {
      if (this.dead) return;
      const signal = options.signal;
      if (signal?.aborted) {
        reject(new DOMException('The request was aborted.', 'AbortError'));
        return;
      }
      const request: LockRequest = {
        context: this,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          Promise.resolve()
            .then(() => callback({ name, mode: 'exclusive' } as Lock))
            .then(
              (value) => {
                if (this.dead) return;
                this.registry.release(name, this);
                resolve(value);
              },
              (error: unknown) => {
                if (this.dead) return;
                this.registry.release(name, this);
                reject(error);
              },
            );
        },
        drop: () => signal?.removeEventListener('abort', onAbort),
      };
      const onAbort = () => {
        if (this.registry.remove(name, request)) reject(new DOMException('The request was aborted.', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort);
      this.registry.enqueue(name, request);
    });
  }) as LockManager['request'];

  /** The context goes away: its locks are released and its requests dropped; its callbacks never settle. */
  kill(): void {
    this.dead = true;
    this.registry.dropAll(this);
  }
}
