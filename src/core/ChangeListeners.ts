import type { TableChangeListener } from './CachedTableOptions';
import { WholeTableChange, type TableChange, type TableChangeKind } from './TableChange';
import type { RecordScorer } from './types';

/** Collects the scores, per index, of every record it is called with. */
export type ScoreCollector<R> = ((record: R) => void) & { scores: Map<string, number[]> };

/** The `onChange` listeners of a table. */
export class ChangeListeners {
  private readonly listeners = new Set<TableChangeListener>();

  add(listener: TableChangeListener): void {
    this.listeners.add(listener);
  }

  delete(listener: TableChangeListener): boolean {
    return this.listeners.delete(listener);
  }

  /** When anyone listens: a collector of the touched records' scores, for the change to report. */
  collector<R>(scorer: RecordScorer<R, unknown>): ScoreCollector<R> | null {
    if (this.listeners.size === 0) return null;
    const scores = new Map(scorer.indexNames.map((indexName) => [indexName, [] as number[]]));
    const collect = (record: R) => {
      for (const [indexName, list] of scores) list.push(scorer.score(indexName, record));
    };
    return Object.assign(collect, { scores });
  }

  /**
   * Tells every listener about a committed change of `kind`: `change`, made from the `collector()` taken when the
   * change began, or `null` when nobody listened then. A listener added since (a subscription that read while a
   * refresh waited for the backend) cannot know which records the change touched, so it is told that any may have:
   * otherwise it would keep what it read before the commit.
   */
  emitCommitted(change: TableChange | null, kind: TableChangeKind): void {
    if (change) this.emit(change);
    else if (this.listeners.size > 0) this.emit(new WholeTableChange(kind));
  }

  /** Tells every listener, synchronously; a listener that throws does not stop the others. */
  emit(change: TableChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        // A listener's bug must not undo a committed change; surface it on its own.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
