import { BACKGROUND_SLICE_MS, yieldWhenBusy } from '../../core/yieldWhenBusy';

/**
 * The pause after each slice of a write while reads come in. Measured in
 * `readStall` [200k] (a 180,000-record adjust from the backend, a page read
 * a frame; p95 of a read idle 1.6–3.6 ms): with a 2 ms pause, p95 during
 * the adjust 10–17 ms; 6 ms, 6.3–9.6 ms; 10 ms, 4.3–9.2 ms (the adjust
 * 5.8–7.4 s); 20 ms, 4.0–5.5 ms (the adjust 9.5–13.4 s, against 2.9–3.7 s
 * with no reads).
 */
const CONTENDED_PAUSE_MS = 20;

/** Options of {@link WritePacer}. */
export interface WritePacerOptions {
  /** Most rows per write transaction. */
  readonly maxRows: number;
  /** Rows per write transaction while reads are running (and least rows otherwise). Default 8. */
  readonly minRows?: number | undefined;
  /** The duration a write transaction aims at when no read runs, in ms. Default 8. */
  readonly targetMs?: number | undefined;
  /** How long after the last read writes stay small, in ms. Default 250. */
  readonly quietMs?: number | undefined;
  /** Rows of the first write transaction when no read runs. Default 64 (at most `maxRows`). */
  readonly initialRows?: number | undefined;
  readonly now?: (() => number) | undefined;
}

/**
 * Paces writes so that reads do not wait behind them.
 *
 * IndexedDB runs a read-only transaction only after every earlier
 * read-write transaction on the same store, so a read of IndexedDB waits for
 * the write in flight; and every read, of IndexedDB or of the in-memory
 * copy, waits for whatever the worker's thread is doing. While reads run
 * (and for `quietMs` after), writes go in transactions of `minRows` rows
 * and {@link WritePacer.pause} leaves the thread idle most of the time;
 * otherwise their size adapts to take about `targetMs`, so that an
 * occasional read waits about that long at most.
 */
export class WritePacer {
  private readonly maxRows: number;
  private readonly minRows: number;
  private readonly targetMs: number;
  private readonly quietMs: number;
  private readonly now: () => number;
  private activeReads = 0;
  private lastRead = -Infinity;
  private rows: number;
  /** When the write last resumed after a pause, while reads come in. */
  private runningSince: number | null = null;

  constructor(options: WritePacerOptions) {
    this.maxRows = Math.max(1, options.maxRows);
    this.minRows = Math.min(this.maxRows, Math.max(1, options.minRows ?? 8));
    this.targetMs = options.targetMs ?? 8;
    this.quietMs = options.quietMs ?? 250;
    this.now = options.now ?? (() => performance.now());
    this.rows = Math.min(this.maxRows, Math.max(this.minRows, options.initialRows ?? 64));
  }

  /** Whether reads are running or ran within `quietMs`. */
  get contended(): boolean {
    return this.activeReads > 0 || this.now() - this.lastRead < this.quietMs;
  }

  /** Whether a read transaction is running or waiting to run. */
  get readsWaiting(): boolean {
    return this.activeReads > 0;
  }

  /** A read begins, of the in-memory copy or of IndexedDB: writes stay small for `quietMs`. */
  readSeen(): void {
    this.lastRead = this.now();
  }

  /** A read transaction starts. */
  readStarted(): void {
    this.activeReads++;
  }

  /** A read transaction ended. */
  readEnded(): void {
    this.activeReads = Math.max(0, this.activeReads - 1);
    this.lastRead = this.now();
  }

  /**
   * Where a write steps aside between records: once a slice of the
   * thread's time is used (`yieldWhenBusy`), a later task. While reads come
   * in, also a pause of {@link CONTENDED_PAUSE_MS} after each slice of the
   * write's time (counted from the last pause, whatever ran meanwhile:
   * parsing, page puts, garbage collection), so that the write takes a
   * small share of the thread: a read then seldom finds the thread busy,
   * or collecting what the write allocated. A write with no read to let go
   * first runs at full speed.
   */
  pause(): Promise<void> | undefined {
    if (!this.contended) {
      this.runningSince = null;
      return yieldWhenBusy(BACKGROUND_SLICE_MS);
    }
    const now = this.now();
    this.runningSince ??= now;
    if (now - this.runningSince < BACKGROUND_SLICE_MS) return yieldWhenBusy(BACKGROUND_SLICE_MS);
    this.runningSince = null;
    return new Promise((resolve) => setTimeout(resolve, CONTENDED_PAUSE_MS));
  }

  /** Rows for the next write transaction. */
  nextRows(): number {
    return this.contended ? this.minRows : this.rows;
  }

  /** Learns from a write transaction of `rows` rows that took `ms`. */
  written(rows: number, ms: number): void {
    if (this.contended || rows < this.rows) return;
    if (ms < this.targetMs / 2) this.rows = Math.min(this.maxRows, this.rows * 2);
    else if (ms > this.targetMs * 2) this.rows = Math.max(this.minRows, Math.floor(this.rows / 2));
  }
}
