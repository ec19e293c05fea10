import type { ChangeFeedEvent, ChangeFeedStatus, ChangeSource } from '../../src/core/changeFeed';

/** A change feed the test drives: it pushes events and statuses; the follower iterates. */
export class ScriptedFeed<K = number> implements ChangeSource<K> {
  status: ChangeFeedStatus = 'catching-up';
  cursor: string | null;
  closed = false;
  private readonly queue: ChangeFeedEvent<K>[] = [];
  private readonly listeners = new Set<(status: ChangeFeedStatus) => void>();
  private wake: (() => void) | null = null;
  private failure: unknown = null;

  constructor(readonly after: string | null) {
    this.cursor = after;
  }

  onStatus(listener: (status: ChangeFeedStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setStatus(status: ChangeFeedStatus, cursor?: string): void {
    if (cursor !== undefined) this.cursor = cursor;
    this.status = status;
    for (const listener of this.listeners) listener(status);
  }

  changes(cursor: string, ...changes: [K, 'upsert' | 'delete'][]): void {
    this.push({ type: 'changes', cursor, changes: changes.map(([key, op]) => ({ key, op })) });
  }

  reset(cursor: string): void {
    this.push({ type: 'reset', cursor });
  }

  /** Ends the iteration with `error`, as a feed that cannot go on. */
  fail(error: unknown): void {
    this.failure = error;
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private push(event: ChangeFeedEvent<K>): void {
    this.cursor = event.cursor;
    this.queue.push(event);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ChangeFeedEvent<K>> {
    for (;;) {
      const event = this.queue.shift();
      if (event) {
        yield event;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}

/** Opens {@link ScriptedFeed}s and keeps each, for the test to drive. */
export function scriptedFeeds<K = number>() {
  const opened: ScriptedFeed<K>[] = [];
  return {
    opened,
    open: (after: string | null) => {
      const feed = new ScriptedFeed<K>(after);
      opened.push(feed);
      return feed;
    },
    /** The feed opened last (throws when none). */
    get current(): ScriptedFeed<K> {
      const feed = opened.at(-1);
      if (!feed) throw new Error('no feed opened');
      return feed;
    },
  };
}
