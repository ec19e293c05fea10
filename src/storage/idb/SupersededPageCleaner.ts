import { BackgroundJob } from './BackgroundJob';
import type { PageStore } from './PageStore';

/** What {@link SupersededPageCleaner} works with. */
export interface SupersededPageCleanerOptions {
  readonly store: PageStore<unknown>;
  /** Pages to delete in the next transaction. */
  readonly batchSize: () => number;
  /** The highest end generation no read can need any more: pages ending at or below it may go. */
  readonly bound: () => number;
  /** Whether the connection is closed (then the cleaner stops quietly). */
  readonly closed: () => boolean;
  /** Gets a failure of the background work. */
  readonly onError: (error: unknown) => void;
}

/**
 * Deletes superseded pages (those with an end generation no read needs) in
 * the background, a few pages per short transaction, so that reads and
 * writes interleave with it. A page holds many records, so cleaning up after
 * an adjust costs one deletion per page rather than per record.
 */
export class SupersededPageCleaner {
  private readonly job = new BackgroundJob(
    () => this.run(),
    () => !this.options.closed(),
  );

  constructor(private readonly options: SupersededPageCleanerOptions) {}

  /** Starts cleaning, unless it is running (then it runs once more afterwards). */
  schedule(): void {
    this.job.schedule();
  }

  /** Resolves when no cleaning runs. Never rejects. */
  idle(): Promise<void> {
    return this.job.idle();
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.options.closed()) return;
      const bound = this.options.bound();
      const ids: number[] = [];
      const limit = this.options.batchSize();
      for (const page of this.options.store.dir.all()) {
        if (page.e !== undefined && page.e <= bound) ids.push(page.id);
        if (ids.length >= limit) break;
      }
      if (ids.length === 0) return;
      try {
        await this.options.store.deletePages(ids, 'cleanup');
      } catch (error) {
        // Retried on the next schedule (after a merge or a finished read), not in a loop.
        this.job.dropRequest();
        if (!this.options.closed()) this.options.onError(error);
        return;
      }
    }
  }
}
