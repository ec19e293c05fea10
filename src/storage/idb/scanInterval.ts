import type { Interval } from '../../core/Interval';
import { compareKeys, type PrimaryKey } from '../../core/keys';
import { abortQuietly } from './idbRequests';
import type { IdbRow, ScoreField } from './IdbRow';
import { ROWS } from './openIdbDatabase';

/** How to scan one interval of one score index. */
export interface IntervalScan<R, T> {
  /** Starts the transaction of one batch (on the `rows` store). */
  readonly transaction: (mode: IDBTransactionMode) => IDBTransaction;
  /** `IDBKeyRange` of the same IndexedDB implementation as the database. */
  readonly keyRange: typeof IDBKeyRange;
  /** The IndexedDB index over the scores. */
  readonly indexName: string;
  /** The row field that index is on. */
  readonly scoreField: ScoreField;
  readonly interval: Interval;
  /**
   * Rows of the next batch, given the size of the previous one (`undefined`
   * for the first); the scan adds the rows sharing the boundary score.
   */
  readonly batchSize: (previous: number | undefined) => number;
  /** Told when each read-only batch transaction starts and ends. */
  readonly reading?: { started(): void; ended(): void } | undefined;
  /** Told how long each read-write batch took, once committed. */
  readonly written?: ((rows: number, ms: number) => void) | undefined;
  /** `'readwrite'` when `take` writes; each batch then waits for its transaction to commit. */
  readonly mode: IDBTransactionMode;
  /**
   * Called inside the batch's transaction for each row not examined before;
   * may write to `store`. Returns what the scan yields for the row, or
   * `undefined` to skip it.
   */
  readonly take: (row: IdbRow<R>, store: IDBObjectStore) => T | undefined;
  /** Turns a failed transaction's error into the error to throw. */
  readonly wrapError: (cause: unknown) => Error;
}

/**
 * Where the previous batch ended: every row below `score`, and every row at
 * `score` whose primary key is below `key` (or equal to it, when a version
 * of that record was taken), has been examined.
 */
interface Boundary {
  readonly score: number;
  readonly key: PrimaryKey;
  readonly taken: boolean;
}

interface Batch<T> {
  readonly items: T[];
  /** Where the next batch starts and how many rows it asks for, or `null` when the interval is done. */
  readonly next: { boundary: Boundary; size: number; count: number } | null;
}

function compareBoundary(score: number, key: PrimaryKey, boundary: Boundary): number {
  return score < boundary.score ? -1 : score > boundary.score ? 1 : compareKeys(key, boundary.key);
}

/**
 * Reads the rows of one interval of a score index with `getAll` in bounded
 * batches, each in its own short transaction, so that writers never wait for
 * a long read and a read never waits for a long write. Yields, per batch, what
 * `take` returned.
 *
 * Scores are not unique, so a batch continues from the previous batch's last
 * score inclusive and skips the rows it examined already (by primary key);
 * when one score holds more rows than a batch, the batch grows. Rows that
 * change between batches are handled as the row layout guarantees: a record
 * moved to its shadow key stays at the same score, next to its old place.
 *
 * Read-only scans fetch the next batch while the caller consumes this one.
 */
export async function* scanInterval<R, T>(scan: IntervalScan<R, T>): AsyncGenerator<T[]> {
  const { interval, keyRange } = scan;
  if (interval.isEmpty) return;
  const range = (lower: number): IDBKeyRange => keyRange.bound(lower, interval.lt, false, true);

  const fetch = (boundary: Boundary | null, size: number, count: number): Promise<Batch<T>> => {
    const transaction = scan.transaction(scan.mode);
    const store = transaction.objectStore(ROWS);
    const request = store.index(scan.indexName).getAll(range(boundary?.score ?? interval.ge), count);
    const started = performance.now();
    const reading = scan.mode === 'readonly' ? scan.reading : undefined;
    reading?.started();
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      reading?.ended();
    };
    return new Promise<Batch<T>>((resolve, reject) => {
      let batch: Batch<T> | undefined;
      request.onsuccess = () => {
        try {
          batch = examine(request.result as IdbRow<R>[], store, boundary, size, count);
        } catch (error) {
          abortQuietly(transaction);
          reject(error);
          return;
        }
        if (scan.mode === 'readonly') {
          end();
          resolve(batch);
        }
      };
      transaction.oncomplete = () => {
        if (scan.mode !== 'readonly') scan.written?.(request.result.length, performance.now() - started);
        resolve(batch as Batch<T>);
      };
      transaction.onabort = () => reject(scan.wrapError(transaction.error));
    }).finally(end);
  };

  const examine = (rows: IdbRow<R>[], store: IDBObjectStore, boundary: Boundary | null, size: number, count: number): Batch<T> => {
    const items: T[] = [];
    let lastTaken: IdbRow<R> | undefined;
    for (const row of rows) {
      if (boundary) {
        const position = compareBoundary(row[scan.scoreField] as number, row.k[0], boundary);
        if (position < 0 || (position === 0 && boundary.taken)) continue;
      }
      const item = scan.take(row, store);
      if (item !== undefined) {
        items.push(item);
        lastTaken = row;
      }
    }
    const last = rows.at(-1);
    if (!last || rows.length < count) return { items, next: null };
    const score = last[scan.scoreField] as number;
    let ties = 0;
    while (ties < rows.length && rows[rows.length - 1 - ties]?.[scan.scoreField] === score) ties++;
    let next: Boundary = {
      score,
      key: last.k[0],
      taken: lastTaken !== undefined && lastTaken[scan.scoreField] === score && compareKeys(lastTaken.k[0], last.k[0]) === 0,
    };
    // Rows inserted between batches can end this batch below the previous boundary; never go back.
    if (boundary) {
      const position = compareBoundary(next.score, next.key, boundary);
      if (position < 0) next = boundary;
      else if (position === 0) next = { ...next, taken: next.taken || boundary.taken };
    }
    const nextSize = scan.batchSize(size);
    // One row more than the batch: a range holding exactly a batch's rows then needs no empty request to end.
    return { items, next: { boundary: next, size: nextSize, count: ties + Math.max(nextSize, ties) + 1 } };
  };

  const start = (boundary: Boundary | null, size: number, count: number): Promise<Batch<T>> => {
    let promise: Promise<Batch<T>>;
    try {
      promise = fetch(boundary, size, count);
    } catch (error) {
      promise = Promise.reject(error);
    }
    // A prefetched batch the caller never asks for must not become an unhandled rejection.
    promise.catch(() => undefined);
    return promise;
  };

  const first = scan.batchSize(undefined);
  let pending: Promise<Batch<T>> | null = start(null, first, first + 1);
  while (pending) {
    const batch: Batch<T> = await pending;
    pending = null;
    const next = batch.next;
    // Writing scans do not run ahead: a batch is only written once the caller has taken the previous one.
    if (next && scan.mode === 'readonly') pending = start(next.boundary, next.size, next.count);
    if (batch.items.length > 0) yield batch.items;
    if (next && scan.mode !== 'readonly') pending = start(next.boundary, next.size, next.count);
  }
}
