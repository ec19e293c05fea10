import { BACKGROUND_SLICE_MS, yieldWhenBusy } from '../../core/yieldWhenBusy';

/**
 * The pause after each slice of a write while reads come in, unless the
 * gap after a read resumes it first. Measured in `readStall` [200k] (a
 * 180,000-record adjust from the backend, a page read a frame; p95 of a
 * read idle 1.6–3.6 ms), with fixed pauses only: a 2 ms pause, p95 during
 * the adjust 10–17 ms; 6 ms, 6.3–9.6 ms; 10 ms, 4.3–9.2 ms (the adjust
 * 5.8–7.4 s); 20 ms, 4.0–5.5 ms (the adjust 9.5–13.4 s, against 2.9–3.7 s
 * with no reads).
 */
const CONTENDED_PAUSE_MS = 20;

/**
 * The gap between reads (from one's end to the next one's start) from which
 * a paused write resumes in the gap after a read: a UI reads at most once a
 * frame (16 ms), so soon after a read the next one is least likely.
 */
const MIN_GAP_MS = 6;

/**
 * Where in the gap after a read a paused write resumes, as a share of the
 * last gap (with reads a frame apart, about 4 ms after a read ends). Not at
 * once: the read's answer must first reach the page and be taken in there,
 * and a write resumed at once took the thread, and with it one of a small
 * machine's cores, just then. Measured in `readStall` [200k] (one run each):
 * resumed at once, p90 of a read during the adjust 3.1–3.8 ms over five
 * runs; 3 ms after, 2.1 and 2.6 ms; 6 ms after, 1.6–2.7 ms over five runs.
 */
const RESUME_AT = 0.25;

/** The latest a paused write resumes after a read, when reads come far apart (a write then waits little). */
const MAX_RESUME_DELAY_MS = 4;

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
 *
 * Reads that come with gaps between them (a UI reading once a frame) get
 * the write's slices moved into those gaps: a paused write resumes early in
 * the gap after such a read, rather than at a time that may fall on the
 * next.
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
  /** When {@link pause} was last called. */
  private lastPause = -Infinity;
  /** Reads begun ({@link readSeen}) and not finished. */
  private openReads = 0;
  /** When the last read finished, while no other runs; `null` while one runs. */
  private lastReadEnd: number | null = null;
  /** The last gap between reads: from one's end to the next one's start, in ms. */
  private gapMs = 0;
  /** Resumes the paused write, when one is paused. */
  private resume: (() => void) | null = null;
  /** The timer that resumes the paused write in the gap after a read, when one is set. */
  private resumeTimer: ReturnType<typeof setTimeout> | undefined;

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
    return this.contendedAt(this.now());
  }

  private contendedAt(now: number): boolean {
    return this.activeReads > 0 || now - this.lastRead < this.quietMs;
  }

  /** Whether a read transaction is running or waiting to run. */
  get readsWaiting(): boolean {
    return this.activeReads > 0;
  }

  /**
   * A read begins, of the in-memory copy or of IndexedDB: writes stay small
   * for `quietMs`. Call {@link readFinished} when it ends.
   */
  readSeen(): void {
    const now = this.now();
    this.lastRead = now;
    // A read came before the write resumed in the gap: the write waits for this one to end.
    this.cancelResume();
    if (this.openReads++ === 0 && this.lastReadEnd !== null) this.gapMs = now - this.lastReadEnd;
    this.lastReadEnd = null;
  }

  /**
   * A read begun with {@link readSeen} ended. When no other runs and reads
   * have come with gaps of {@link MIN_GAP_MS} or more, a paused write
   * resumes early in the gap that follows ({@link RESUME_AT}), unless
   * another read begins first.
   */
  readFinished(): void {
    this.openReads = Math.max(0, this.openReads - 1);
    if (this.openReads > 0) return;
    this.lastReadEnd = this.lastRead = this.now();
    const resume = this.resume;
    if (this.gapMs < MIN_GAP_MS || !resume) return;
    this.cancelResume();
    this.resumeTimer = setTimeout(
      () => {
        this.resumeTimer = undefined;
        resume();
      },
      Math.min(MAX_RESUME_DELAY_MS, this.gapMs * RESUME_AT),
    );
  }

  private cancelResume(): void {
    if (this.resumeTimer === undefined) return;
    clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
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
   * in, also a pause after each slice of the write's time (counted from the
   * last pause, whatever ran meanwhile: parsing, page puts, garbage
   * collection), so that a read seldom finds the thread busy, or collecting
   * what the write allocated: {@link CONTENDED_PAUSE_MS}, or until early in
   * the gap after a read when reads come with gaps. A write with no read to
   * let go first runs at full speed.
   */
  pause(): Promise<void> | undefined {
    const now = this.now();
    // Back after a wait longer than a pause (the last write ended, the source was slow): its slice starts now.
    if (now - this.lastPause > CONTENDED_PAUSE_MS) this.runningSince = null;
    this.lastPause = now;
    // Called per record: one clock reading serves every check.
    if (!this.contendedAt(now)) {
      this.runningSince = null;
      // A read quiet this long is idle, or was dropped without being finished: it no longer keeps writes from gaps.
      this.openReads = 0;
      return yieldWhenBusy(BACKGROUND_SLICE_MS);
    }
    this.runningSince ??= now;
    if (now - this.runningSince < BACKGROUND_SLICE_MS) return yieldWhenBusy(BACKGROUND_SLICE_MS);
    this.runningSince = null;
    return new Promise((resolve) => {
      const resume = () => {
        clearTimeout(timer);
        this.cancelResume();
        if (this.resume === resume) this.resume = null;
        resolve();
      };
      const timer = setTimeout(resume, CONTENDED_PAUSE_MS);
      this.resume = resume;
    });
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
