import { nextTask } from '../../core/yieldWhenBusy';
import type { Mutex } from '../../core/Mutex';
import type { Operation } from './IdbConnection';
import type { PageStore } from './PageStore';

/** The longest a step of the load waits for reads of IndexedDB (reads without pause must not starve a write needing the keys). */
const MAX_WAIT_FOR_READS_MS = 50;

/** What {@link KeyDirectoryLoader} works with. */
export interface KeyDirectoryLoaderOptions {
  readonly store: PageStore<unknown>;
  /** The committed generation, whose keys are loaded. */
  readonly committed: () => number;
  /** The table's write lock: the directory is loaded between writes. */
  readonly writer: Mutex;
  /** Whether a read of IndexedDB runs (the background load then waits: it must not delay reads). */
  readonly readsWaiting: () => boolean;
  readonly closed: () => boolean;
  readonly onError: (error: unknown) => void;
}

/**
 * Loads the key directory (key → page) once per open: on the first write or
 * key look-up, or earlier in the background, so that the first write after
 * open (a refresh) need not wait for it and the first read is not slowed
 * down by it.
 */
export class KeyDirectoryLoader {
  /** Whether the key directory is loaded (or known to be empty). */
  loaded = false;
  /** True while the background load waits or runs. */
  pending = false;

  constructor(private readonly options: KeyDirectoryLoaderOptions) {}

  /** Loads it unless loaded; call it holding the write lock. Rejects with the store's `StorageError`. */
  async load(operation: Operation): Promise<void> {
    if (this.loaded) return;
    await this.options.store.loadKeys(this.options.committed(), operation, () => this.letReadsGo());
    this.loaded = true;
  }

  /** Between two steps of the load: a task for whatever waits, then reads of IndexedDB first, for at most 50 ms. */
  private async letReadsGo(): Promise<void> {
    await nextTask();
    for (let waited = 0; waited < MAX_WAIT_FOR_READS_MS && this.options.readsWaiting() && !this.options.closed(); waited += 5) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Loads it once no read of IndexedDB runs, between writes. Failures go to `onError` (none once closed). */
  loadInBackground(): void {
    const { writer, readsWaiting, closed, onError } = this.options;
    this.pending = true;
    void (async () => {
      await nextTask();
      while (readsWaiting() && !closed()) await new Promise((resolve) => setTimeout(resolve, 5));
      await writer.run(async () => {
        if (!closed()) await this.load('open');
      });
    })()
      .catch((error: unknown) => {
        if (!closed()) onError(error);
      })
      .finally(() => (this.pending = false));
  }
}
