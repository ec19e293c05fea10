/** A status and whoever listens to it: each listener is called at once with the current one, then on each change. */
export class StatusListeners<T> {
  private readonly listeners = new Set<(status: T) => void>();

  constructor(private current: T) {}

  get status(): T {
    return this.current;
  }

  set(status: T): void {
    if (status === this.current) return;
    this.current = status;
    for (const listener of [...this.listeners]) call(listener, status);
  }

  /** Calls `listener` with the status now and with each new one; returns a function that stops the calls. */
  listen(listener: (status: T) => void): () => void {
    this.listeners.add(listener);
    call(listener, this.current);
    return () => this.listeners.delete(listener);
  }
}

function call<T>(listener: (status: T) => void, status: T): void {
  try {
    listener(status);
  } catch (error) {
    // One listener's bug must not keep the others from hearing of the change; it surfaces on its own.
    queueMicrotask(() => {
      throw error;
    });
  }
}
