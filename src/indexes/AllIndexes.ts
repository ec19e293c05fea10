import { z } from 'zod';
import { Adjustment } from '../core/Adjustment';
import { TableCacheError } from '../core/errors';
import { Interval } from '../core/Interval';
import type { PrimaryKey } from '../core/keys';
import { StorageRecordsSpec } from '../core/StorageRecordsSpec';
import type { Indexes } from '../core/types';
import { checkIndexName, parseSpec, recheckSchema } from './schemas';

/** All records, optionally filtered in storage by `recheck`. */
export interface AllSpec<R = unknown> {
  readonly indexName: 'all';
  /** Only records passing it are read (same thread only: functions do not cross the worker boundary). */
  readonly recheck?: ((record: R) => boolean) | undefined;
}

/** Options of {@link AllIndexes}. */
export interface AllIndexesOptions<R, PK, D> {
  /** The record's primary key. */
  primaryKey: (record: R) => PK;
  /** The backend fetch of every record. */
  dbRecordsSpec: () => D;
  /**
   * The backend fetch of the records with these primary keys. Needed by
   * `CachedTable.invalidateKeys`; without it, that rejects with
   * `UnsupportedOperationError`.
   */
  dbRecordsSpecForKeys?: ((keys: readonly PK[]) => D) | undefined;
}

/**
 * Caches every record: one index, `'all'`; every load or adjust loads
 * everything. Spec `{ indexName: 'all', recheck? }`.
 */
export class AllIndexes<R, PK = PrimaryKey, D = unknown> implements Indexes<R, PK, AllSpec<R>, D> {
  readonly indexNames = ['all'] as const;
  readonly specSchema: z.ZodType<AllSpec<R>> = z.object({
    indexName: z.literal('all'),
    recheck: recheckSchema.optional(),
  }) as z.ZodType<AllSpec<R>>;
  private readonly options: AllIndexesOptions<R, PK, D>;
  private holdsAll = false;
  /** The backend fetch of records by primary key; present when given as an option. */
  readonly dbRecordsSpecForKeys: ((keys: readonly PK[]) => D) | undefined;

  constructor(options: AllIndexesOptions<R, PK, D>) {
    this.options = options;
    this.dbRecordsSpecForKeys = options.dbRecordsSpecForKeys;
  }

  score(indexName: string): number {
    checkIndexName(indexName, 'all');
    return 0;
  }

  primaryKey(record: R): PK {
    return this.options.primaryKey(record);
  }

  storageRecordsSpec(spec: AllSpec<R>): StorageRecordsSpec<R> {
    const { recheck } = this.parse(spec);
    return new StorageRecordsSpec('all', [Interval.everything()], recheck);
  }

  dbRecordsSpec(spec: AllSpec<R>): D {
    this.parse(spec);
    return this.options.dbRecordsSpec();
  }

  prepareAdjustment(spec: AllSpec<R>): Adjustment<R, D> {
    this.parse(spec);
    return new Adjustment<R, D>(new StorageRecordsSpec('all', [Interval.everything()]), this.options.dbRecordsSpec());
  }

  commitAdjustment(): void {
    this.holdsAll = true;
  }

  covers(spec: AllSpec<R>): boolean {
    this.parse(spec);
    return this.holdsAll;
  }

  /** Whether every record is held (after the first load). */
  coversRecord(): boolean {
    return this.holdsAll;
  }

  /** `{ holdsAll }`. */
  snapshotState(): { holdsAll: boolean } {
    return { holdsAll: this.holdsAll };
  }

  /** @throws {TableCacheError} when `state` is not one `snapshotState` returns. */
  restoreState(state: unknown): void {
    const parsed = z.object({ holdsAll: z.boolean() }).safeParse(state);
    if (!parsed.success) throw new TableCacheError("Index 'all' cannot restore that state.");
    this.holdsAll = parsed.data.holdsAll;
  }

  private parse(spec: AllSpec<R>): AllSpec<R> {
    checkIndexName(spec.indexName, 'all');
    return parseSpec(this.specSchema, spec, "Index 'all'");
  }
}
