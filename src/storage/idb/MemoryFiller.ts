import { BackgroundJob } from './BackgroundJob';
import { nextTask } from '../../core/yieldWhenBusy';
import type { PageStore } from './PageStore';

/** What {@link MemoryFiller} works with. */
export interface MemoryFillerOptions {
  readonly store: PageStore<unknown>;
  /** The committed generation, whose pages are filled in. */
  readonly committed: () => number;
  /**
   * Whether foreground work runs or waits: a read of IndexedDB, a write, or
   * the load of the key directory every write needs first. The fill then
   * waits: it must not delay them (IndexedDB serves one database's
   * transactions in turn, and the worker's thread is shared).
   */
  readonly busy: () => boolean;
  readonly closed: () => boolean;
  readonly onError: (error: unknown) => void;
}

/** Records read per fill transaction (whole pages, at least one): few, so that a read that starts meanwhile waits little. */
const FILL_RECORDS = 1024;

/**
 * Fills the in-memory copy in the background with the committed pages it
 * lacks, while they fit in `memoryRecords`: a few pages per read-only
 * transaction, waiting while reads of IndexedDB run. Reads never wait for
 * it; they take whatever pages it holds and read the rest from IndexedDB.
 */
export class MemoryFiller {
  private readonly job = new BackgroundJob(
    () => this.run(),
    () => !this.options.closed() && this.options.store.cache.limit !== 0,
  );

  constructor(private readonly options: MemoryFillerOptions) {}

  /** Starts filling, unless it is running (then it runs once more afterwards). */
  schedule(): void {
    this.job.schedule();
  }

  /** Resolves when no filling runs. Never rejects. */
  idle(): Promise<void> {
    return this.job.idle();
  }

  private async run(): Promise<void> {
    const { store } = this.options;
    for (;;) {
      // Let a read that was just asked for go first.
      await nextTask();
      if (this.options.closed()) return;
      if (this.options.busy()) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      const ids: number[] = [];
      let records = 0;
      for (const page of store.dir.visibleAt(this.options.committed())) {
        if (store.cache.has(page.id)) continue;
        if (!store.cache.fits(records + page.n) || (ids.length > 0 && records + page.n > FILL_RECORDS)) break;
        ids.push(page.id);
        records += page.n;
      }
      if (ids.length === 0) return;
      try {
        const fetched = await store.fetch(ids, 'fillMemory', true);
        // A page rewritten while it was read is not kept; the next round reads it again.
        if (ids.every((id) => !fetched.get(id)?.cached)) return;
      } catch (error) {
        this.job.dropRequest();
        if (!this.options.closed()) this.options.onError(error);
        return;
      }
    }
  }
}
