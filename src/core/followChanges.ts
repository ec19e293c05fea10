import type {
  ChangeFeedEvent,
  ChangeFollower,
  ChangeFollowerStatus,
  ChangeOp,
  ChangeSource,
  FollowChangesOptions,
  OpenChangeFeed,
} from './changeFeed';
import { InvalidSpecError } from './errors';

/** What a {@link ChangeFeedFollower} needs from its table. */
export interface ChangeFollowerHost<PK> {
  /** Resolves once the table is loaded (or resumed). */
  loaded(): Promise<void>;
  /** Whether the table is loaded now. */
  isLoaded(): boolean;
  /** The cursor to open the feed after: the one committed with the table's state (read from storage before the table is loaded). */
  startCursor(): Promise<string | null>;
  /** The cursor committed with the table's state now (`null`: none; the table does not know where the feed stands). */
  committedCursor(): string | null;
  /**
   * Applies one batch: the changed keys are refetched and placed (or
   * dropped), and `cursor` is committed with the result. Rejects when the
   * refresh fails; the batch then stays marked, and `retry()` applies it.
   */
  apply(changes: readonly { key: PK; op: ChangeOp }[], cursor: string): Promise<void>;
  /** Applies what an earlier `apply` left marked. */
  retry(): Promise<void>;
  /** The feed cannot say what changed before `cursor`: every record held is stale from now, and `cursor` is where the table stands. */
  reset(cursor: string): void;
}

/**
 * Follows one change feed for a `CachedTable` (`CachedTable.followChanges`):
 * applies each batch of changed keys as a key refresh, in order, one at a
 * time, committing the batch's cursor with the refreshed records; retries
 * a batch that fails to apply (with backoff, waiting while offline) before
 * taking the next; marks everything stale on a reset.
 */
export class ChangeFeedFollower<PK> implements ChangeFollower {
  private currentStatus: ChangeFollowerStatus = 'catching-up';
  private readonly listeners = new Set<(status: ChangeFollowerStatus) => void>();
  private source: ChangeSource<PK> | null = null;
  private stopped = false;
  private failure: unknown = undefined;
  /** Where the table stands in the feed as far as this follower knows: the start cursor, then each applied batch's. */
  private position: string | null = null;
  /** Whether the feed has yielded an event that is not applied yet. */
  private unapplied = false;
  private readonly stopSignal = new AbortController();
  private readonly done: Promise<void>;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;

  /** @throws {InvalidSpecError} for a bad option. */
  constructor(
    private readonly host: ChangeFollowerHost<PK>,
    private readonly openFeed: OpenChangeFeed<PK>,
    private readonly options: FollowChangesOptions = {},
  ) {
    this.retryDelayMs = delayOption(options.retryDelayMs, 200, 'retryDelayMs');
    this.maxRetryDelayMs = delayOption(options.maxRetryDelayMs, 10_000, 'maxRetryDelayMs');
    this.done = this.run();
  }

  get status(): ChangeFollowerStatus {
    return this.currentStatus;
  }

  get cursor(): string | null {
    return this.host.isLoaded() ? this.host.committedCursor() : this.position;
  }

  get error(): unknown {
    return this.failure;
  }

  /**
   * The feed position a load starting now may store with what it loads
   * (every change after it will be applied to the loaded records), or
   * `null` when unknown.
   */
  loadPosition(): string | null {
    return this.unapplied ? null : this.position;
  }

  onStatus(listener: (status: ChangeFollowerStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.halt();
    await this.done;
  }

  private halt(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopSignal.abort();
    this.source?.close();
  }

  private setStatus(status: ChangeFollowerStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    for (const listener of [...this.listeners]) listener(status);
  }

  private async run(): Promise<void> {
    let stopListening = () => {};
    try {
      const after = await this.host.startCursor();
      if (this.stopped) return;
      this.position = after;
      const source = this.openFeed(after);
      this.source = source;
      stopListening = source.onStatus((status) => {
        if (status === 'live') this.learnPosition();
        if (!this.stopped) this.setStatus(status);
      });
      this.setStatus(source.status);
      if (source.status === 'live') this.learnPosition();
      void this.host.loaded().then(() => this.anchor());
      for await (const event of source) {
        this.unapplied = true;
        if (!this.host.isLoaded()) await this.until(this.host.loaded());
        if (this.stopped) return;
        await this.handle(event);
        this.unapplied = false;
        if (this.stopped) return;
      }
    } catch (error) {
      if (!this.stopped) {
        this.failure = error;
        this.options.onError?.(error);
      }
    } finally {
      stopListening();
      this.halt();
      this.setStatus('stopped');
    }
  }

  /** Started from now: the position is known once the feed is live (before any change is yielded). */
  private learnPosition(): void {
    if (this.position === null && !this.unapplied) this.position = this.source?.cursor ?? null;
    this.anchor();
  }

  /**
   * A loaded table that does not know where the feed stands (it was loaded,
   * or resumed, without a cursor) takes the feed's position once known,
   * with every record stale: changes before it were not seen.
   */
  private anchor(): void {
    if (this.stopped || !this.host.isLoaded() || this.host.committedCursor() !== null || this.unapplied) return;
    const position = this.source?.status === 'live' ? (this.source.cursor ?? null) : null;
    if (position !== null) this.host.reset(position);
  }

  private async handle(event: ChangeFeedEvent<PK>): Promise<void> {
    if (event.type === 'reset' || this.host.committedCursor() === null) {
      // Without a position, the first batch only tells where the feed stands: every record is refreshed when read instead.
      this.host.reset(event.cursor);
      this.position = event.cursor;
      return;
    }
    let failures = 0;
    let attempt = () => this.host.apply(event.changes, event.cursor);
    for (;;) {
      try {
        await attempt();
        this.position = event.cursor;
        return;
      } catch (error) {
        if (this.stopped) return;
        this.options.onError?.(error);
        // The batch stays marked: what is left is to refresh it.
        attempt = () => this.host.retry();
        failures++;
        await this.pause(Math.min(this.maxRetryDelayMs, this.retryDelayMs * 2 ** Math.min(failures - 1, 20)));
      }
    }
  }

  /** Waits `ms` (or, while the browser says it is offline, until it is online), or until stopped. */
  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopSignal.signal.removeEventListener('abort', done);
        globalThis.removeEventListener?.('online', done);
        resolve();
      };
      const offline = globalThis.navigator?.onLine === false;
      const timer = setTimeout(done, offline ? this.maxRetryDelayMs : ms);
      this.stopSignal.signal.addEventListener('abort', done, { once: true });
      globalThis.addEventListener?.('online', done);
    });
  }

  /** `promise`, or undefined once stopped. */
  private async until<T>(promise: Promise<T>): Promise<T | undefined> {
    if (this.stopped) return undefined;
    const { signal } = this.stopSignal;
    let onAbort!: () => void;
    const stopped = new Promise<undefined>((resolve) => (onAbort = () => resolve(undefined)));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([promise, stopped]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

function delayOption(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidSpecError(`followChanges: ${name} must be a finite number of milliseconds ≥ 0, not ${String(value)}.`, {
      path: [name],
    });
  }
  return value;
}
