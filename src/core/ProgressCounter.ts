import { PROGRESS_EVERY, type AdjustProgress } from './CachedTableOptions';

/**
 * Counts the records a load or adjust expires and loads, and reports them to
 * its `onProgress`: every {@link PROGRESS_EVERY} records, as soon as the
 * backend tells how many it sends (`onTotal`), and once at the end unless
 * that report would repeat the last one.
 */
export class ProgressCounter {
  private loaded = 0;
  private expired = 0;
  private total: number | undefined;
  private last: AdjustProgress | null = null;

  /** `DbAccessOptions.onTotal` for the fetch of the records to load; `undefined` when nobody listens. */
  readonly onTotal: ((total: number) => void) | undefined;

  constructor(private readonly report: ((progress: AdjustProgress) => void) | undefined) {
    this.onTotal = report
      ? (total) => {
          this.total = total;
          this.reportNow();
        }
      : undefined;
  }

  /** The counts so far. */
  get progress(): AdjustProgress {
    const { loaded, expired, total } = this;
    return total === undefined ? { loaded, expired } : { loaded, expired, total };
  }

  /** Counts one loaded record. */
  addLoaded(): void {
    this.loaded++;
    this.reportEvery();
  }

  /** Counts expired records (one by default). */
  addExpired(count = 1): void {
    this.expired += count;
    this.reportEvery();
  }

  /** Reports the final counts, unless the last report said exactly that. */
  finish(): void {
    const last = this.last;
    if (last && last.loaded === this.loaded && last.expired === this.expired && last.total === this.total) return;
    this.reportNow();
  }

  private reportEvery(): void {
    const reported = this.last ? this.last.loaded + this.last.expired : 0;
    if (this.report && this.loaded + this.expired - reported >= PROGRESS_EVERY) this.reportNow();
  }

  private reportNow(): void {
    this.last = this.progress;
    this.report?.(this.last);
  }
}
