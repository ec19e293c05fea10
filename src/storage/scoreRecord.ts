import { describeKey, isValidKey, type PrimaryKey } from '../core/keys';
import type { RecordScorer } from '../core/types';

/**
 * A record's primary key and its score in each index, checked as every
 * storage table must before storing it.
 *
 * @param fail makes the error to throw (a `StorageError` naming the table and operation).
 * @param keyCause the platform's error for an invalid key, to carry as the cause, when there is one.
 * @throws what `fail` makes, when the key is not a valid IndexedDB key or a score is not a number or NaN.
 */
export function scoreRecord<R>(
  scorer: RecordScorer<R, unknown>,
  record: R,
  fail: (message: string, cause?: unknown) => Error,
  keyCause?: (key: unknown) => unknown,
): { key: PrimaryKey; scores: number[] } {
  const key: unknown = scorer.primaryKey(record);
  if (!isValidKey(key)) throw fail(`the record with primary key ${describeKey(key)} has an invalid primary key.`, keyCause?.(key));
  // A loop, not `map` with a closure: this runs for every record written (200,000 in a big adjust).
  const { indexNames } = scorer;
  const scores: number[] = [];
  for (const indexName of indexNames) {
    const score = scorer.score(indexName, record);
    if (typeof score !== 'number' || Number.isNaN(score)) {
      throw fail(
        `the record with primary key ${describeKey(key)} has score ${String(score)} in index '${indexName}'; scores must be numbers, not NaN.`,
      );
    }
    scores.push(score);
  }
  return { key, scores };
}
