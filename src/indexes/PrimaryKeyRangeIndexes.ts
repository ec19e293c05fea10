import { TableCacheError } from '../core/errors';
import { describeKey } from '../core/keys';
import { RangeIndexes } from './RangeIndexes';

/** Options of {@link PrimaryKeyRangeIndexes}. */
export interface PrimaryKeyRangeIndexesOptions<R, D> {
  /** The record's primary key: a number. */
  primaryKey: (record: R) => number;
  /** The backend fetch of the records with `ge <= primary key < lt`. */
  dbRecordsSpecForRange: (ge: number, lt: number) => D;
  /** The backend fetch of the records with these keys; needed by `CachedTable.invalidateKeys`. */
  dbRecordsSpecForKeys?: ((keys: readonly number[]) => D) | undefined;
}

/**
 * Caches the records whose numeric primary key lies in a range `[ge, lt)`;
 * spec `{ indexName: 'primaryKey', ge, lt }`. Adjusts load and expire only
 * the difference, like {@link RangeIndexes}.
 */
export class PrimaryKeyRangeIndexes<R, D = unknown> extends RangeIndexes<R, number, D, 'primaryKey'> {
  constructor(options: PrimaryKeyRangeIndexesOptions<R, D>) {
    const numericKey = (record: R): number => {
      const key = options.primaryKey(record);
      if (typeof key !== 'number' || Number.isNaN(key)) {
        throw new TableCacheError(`PrimaryKeyRangeIndexes needs numeric primary keys, got ${describeKey(key)}.`);
      }
      return key;
    };
    super({
      indexName: 'primaryKey',
      primaryKey: numericKey,
      score: numericKey,
      dbRecordsSpecForRange: options.dbRecordsSpecForRange,
      dbRecordsSpecForKeys: options.dbRecordsSpecForKeys,
    });
  }
}
