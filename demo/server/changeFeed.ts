import type { Database } from './database';
import { CHANGES_CHANNEL, changeLogBounds, changesAfter, defaultRetention, pruneChanges, type ChangeRetention } from './changes';

/** Options of the change feed (`GET /api/changes`). */
export interface ChangeFeedOptions {
  /** A heartbeat line is sent after this long without another line, in ms. Default 15 000. */
  heartbeatMs?: number | undefined;
  /** How often to look for changes when the database cannot notify (no `listen`), in ms. Default 1 000. */
  pollMs?: number | undefined;
  /** How much of the change log is kept; see {@link ChangeRetention}. */
  retention?: ChangeRetention | undefined;
  /** How often the log is pruned, in ms. Default 60 000. */
  pruneEveryMs?: number | undefined;
  /** Feed connections served at once; more get a 503 with `Retry-After`. Default 1 000. */
  maxConnections?: number | undefined;
}

/** Changes read per database round trip. */
const BATCH = 1000;

/**
 * Wakes the feed connections when the change log grows: on `LISTEN`
 * notifications when the database supports them (Postgres, PGlite),
 * otherwise every `pollMs`. Each connection also looks at the log at every
 * heartbeat, so a lost notification delays a change by a heartbeat at most.
 */
export class ChangeFeedHub {
  /** Feed connections open now. */
  connections = 0;
  readonly heartbeatMs: number;
  readonly maxConnections: number;
  private version = 0;
  private waiters = new Set<() => void>();
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private unlisten: (() => Promise<void>) | null = null;
  private closed = false;

  private constructor(
    readonly db: Database,
    options: ChangeFeedOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.maxConnections = options.maxConnections ?? 1000;
  }

  /** Starts listening (or polling) and pruning. */
  static async start(db: Database, options: ChangeFeedOptions = {}): Promise<ChangeFeedHub> {
    const hub = new ChangeFeedHub(db, options);
    const retention = { ...defaultRetention, ...options.retention };
    const prune = () => pruneChanges(db, retention).catch((error: unknown) => console.error('Pruning the change log failed:', error));
    await prune();
    hub.timers.push(setInterval(() => void prune(), options.pruneEveryMs ?? 60_000));
    if (db.listen) hub.unlisten = await db.listen(CHANGES_CHANNEL, () => hub.wake());
    else hub.timers.push(setInterval(() => hub.wake(), options.pollMs ?? 1000));
    for (const timer of hub.timers) (timer as { unref?: () => void }).unref?.();
    return hub;
  }

  /** Tells every waiting connection to look at the log. */
  wake(): void {
    this.version++;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const waiter of waiters) waiter();
  }

  /** The wake-up count; pass it to {@link wait} so that a wake between reading the log and waiting is not lost. */
  get current(): number {
    return this.version;
  }

  /** Resolves on the next wake after `since`, or after `ms`, whichever comes first; true when woken. */
  wait(since: number, ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.version !== since || this.closed || signal.aborted) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(onWake);
        signal.removeEventListener('abort', onAbort);
        resolve(woken);
      };
      const onWake = () => done(true);
      const onAbort = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.waiters.add(onWake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Whether {@link close} was called: open feeds end. */
  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.wake();
    await this.unlisten?.().catch(() => {});
  }
}

/** `after` compared with the log's bounds: whether the client must reset. */
function isBefore(a: string, b: string): boolean {
  return BigInt(a) < BigInt(b);
}

/**
 * The NDJSON body of `GET /api/changes?after=…`: change lines
 * `{"cursor":"…","key":…,"op":"upsert"|"delete"}` in cursor order, control
 * lines `{"$reset":{"cursor":"…"}}` (the log no longer holds what follows
 * `after`: the client must treat everything as stale; the feed goes on
 * from that cursor), `{"$live":{"cursor":"…"}}` (caught up: every change
 * logged so far has been sent) and `{"$heartbeat":{"cursor":"…"}}` (sent
 * after `heartbeatMs` of silence). Endless: it ends when the client goes
 * away or the server closes.
 */
export function changeFeedStream(hub: ChangeFeedHub, after: string | undefined): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const stop = new AbortController();
  let cursor = '0';
  let live = false;
  let started = false;
  hub.connections++;
  const finish = () => {
    if (stop.signal.aborted) return;
    stop.abort();
    hub.connections--;
  };
  const line = (value: unknown) => `${JSON.stringify(value)}\n`;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          let out = '';
          if (!started) {
            started = true;
            const { current, prunedThrough } = await changeLogBounds(hub.db);
            if (after === undefined) cursor = current;
            else if (isBefore(after, prunedThrough) || isBefore(current, after)) {
              out += line({ $reset: { cursor: current } });
              cursor = current;
            } else cursor = after;
          }
          for (;;) {
            const version = hub.current;
            const { prunedThrough } = await changeLogBounds(hub.db);
            if (isBefore(cursor, prunedThrough)) {
              // Pruned while this client was behind: what it missed is gone.
              const { current } = await changeLogBounds(hub.db);
              out += line({ $reset: { cursor: current } });
              cursor = current;
            }
            const rows = await changesAfter(hub.db, cursor, BATCH);
            for (const row of rows) out += line({ cursor: row.cursor, key: row.key, op: row.op });
            if (rows.length > 0) cursor = (rows.at(-1) as { cursor: string }).cursor;
            if (rows.length < BATCH && !live) {
              live = true;
              out += line({ $live: { cursor } });
            }
            if (out !== '') break;
            const woken = await hub.wait(version, hub.heartbeatMs, stop.signal);
            if (stop.signal.aborted) return;
            if (hub.isClosed) {
              finish();
              controller.close();
              return;
            }
            if (!woken) {
              out = line({ $heartbeat: { cursor } });
              break;
            }
          }
          // The client may have gone while the log was being read.
          if (!stop.signal.aborted) controller.enqueue(encoder.encode(out));
        } catch (error) {
          if (stop.signal.aborted) return;
          finish();
          console.error('The change feed failed:', error);
          controller.error(error);
        }
      },
      cancel() {
        finish();
      },
    },
    { highWaterMark: 0 },
  );
}
