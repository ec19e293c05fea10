import type { TableChangeListener } from './CachedTableOptions';
import type { TableChange } from './TableChange';
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
