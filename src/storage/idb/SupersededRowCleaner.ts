import { transactionDone } from './idbRequests';
import { END_INDEX, ROWS } from './openIdbDatabase';

/** What {@link SupersededRowCleaner} works with. */
export interface SupersededRowCleanerOptions {
  /** Starts a readwrite transaction on the `rows` store; throws when the connection is closed. */
  readonly transaction: () => IDBTransaction;
  readonly keyRange: typeof IDBKeyRange;
  /** Rows to delete in the next transaction. */
  readonly batchSize: () => number;
  /** The highest end generation no read can need any more: rows ending at or below it may go. */
  readonly bound: () => number;
  /** Whether the connection is closed (then the cleaner stops quietly). */
  readonly closed: () => boolean;
  /** Gets a failure of the background work. */
  readonly onError: (error: unknown) => void;
}

/**
 * Deletes superseded rows (those with an end generation no read needs) in
 * the background, one short transaction of at most `batchSize` deletions at
 * a time, so reads and writes interleave with it.
 */
export class SupersededRowCleaner {
  private readonly options: SupersededRowCleanerOptions;
  private running: Promise<void> | null = null;
  private requested = false;
  /** Every row ending at or below this generation has been deleted. */
  private cleanedThrough = -Infinity;

  constructor(options: SupersededRowCleanerOptions) {
    this.options = options;
  }

  /** Starts cleaning, unless it is running (then it runs once more afterwards). */
  schedule(): void {
    if (this.options.closed()) return;
    if (this.running) {
      this.requested = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.requested) {
        this.requested = false;
        this.schedule();
      }
    });
  }

  /** Resolves when no cleaning runs. Never rejects. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    const { keyRange } = this.options;
    for (;;) {
      const batchSize = this.options.batchSize();
      const bound = this.options.bound();
      if (this.options.closed() || bound <= this.cleanedThrough) return;
      try {
        const transaction = this.options.transaction();
        const store = transaction.objectStore(ROWS);
        const request = store.index(END_INDEX).getAllKeys(keyRange.upperBound(bound), batchSize);
        request.onsuccess = () => request.result.forEach((key) => store.delete(key));
        await transactionDone(transaction);
        if (request.result.length < batchSize) this.cleanedThrough = bound;
      } catch (error) {
        // Retried on the next schedule (after a merge or a finished read), not in a loop.
        this.requested = false;
        if (!this.options.closed()) this.options.onError(error);
        return;
      }
    }
  }
}
