import type { PrimaryKey } from '../../core/keys';

/**
 * The key of a row in the `rows` store. `[primaryKey]` holds the current
 * version of a record; `[primaryKey, end]` is a *shadow*: an older version
 * moved aside by a staged replacement, ending at generation `end`. Both sort
 * next to each other (a shorter array sorts first), so a reader that sees a
 * record move from one to the other between two batches sees it in the same
 * place.
 */
export type RowKey = readonly [PrimaryKey] | readonly [PrimaryKey, number];

/** The name of the row field that holds the score of the `i`-th index. */
export type ScoreField = `s${number}`;

/**
 * One row of the `rows` store: the record, its key, one score per index,
 * and the generations it is visible in: from `g` (absent: 0) up to, but not
 * including, `e` (absent: forever).
 */
export type IdbRow<R> = {
  k: RowKey;
  r: R;
  g?: number;
  e?: number;
} & { [field: ScoreField]: number };

/** The field holding the score of the index at `position` in `indexNames`. */
export function scoreField(position: number): ScoreField {
  return `s${position}`;
}

/** Whether the row belongs to the state committed at `generation`. */
export function isVisibleAt<R>(row: IdbRow<R>, generation: number): boolean {
  return (row.g ?? 0) <= generation && (row.e === undefined || row.e > generation);
}

/** Whether the row is an older version moved aside (see {@link RowKey}). */
export function isShadow<R>(row: IdbRow<R>): boolean {
  return row.k.length === 2;
}

/** The row key as the DOM typings want it (`PrimaryKey` allows read-only arrays, `IDBValidKey` does not). */
export function idbKey(key: RowKey): IDBValidKey {
  return key as unknown as IDBValidKey;
}
