import { describeSpec } from './describe';
import { InvalidSpecError, UnsupportedOperationError } from './errors';
import type { Interval } from './Interval';
import { isValidKey, keyToString, type PrimaryKey } from './keys';
import type { StorageRecordsSpec } from './StorageRecordsSpec';
import { InvalidationChange } from './TableChange';
import type { Indexes, IndexSpec, StorageTable } from './types';

/** One `invalidateRecords` call, kept until a refresh has applied it. */
export interface SpecInvalidation<R, D> {
  readonly oldStorageSpec: StorageRecordsSpec<R>;
  readonly newDbSpec: D;
  readonly forceRefresh: boolean;
  /** What it marks: the intervals of each index it names, and every interval of the indexes it cannot follow. */
  readonly marks: InvalidationChange;
}

/** One `invalidateKeys` call, kept until a refresh has applied it. */
export interface KeysInvalidation {
  /** The keys, without duplicates. */
  readonly keys: readonly PrimaryKey[];
  /** Keys known to be deleted on the backend (by `keyToString`): dropped without a fetch. */
  readonly gone?: ReadonlySet<string>;
  /** The change feed's cursor after these changes (`followChanges`): committed with their refresh. */
  readonly cursor?: string;
  readonly forceRefresh: boolean;
  /** Every index: the records' new scores are unknown until they are fetched. */
  readonly marks: InvalidationChange;
}

/** An invalidation not yet refreshed. */
export type Invalidation<R, D> = SpecInvalidation<R, D> | KeysInvalidation;

/**
 * The invalidations not yet refreshed, in the order they came. A refresh
 * takes a snapshot of them and, once committed, forgets exactly those.
 */
export class Invalidations<R, D> {
  private list: Invalidation<R, D>[] = [];

  get size(): number {
    return this.list.length;
  }

  /** The invalidations pending now, for a refresh to apply. */
  snapshot(): Invalidation<R, D>[] {
    return [...this.list];
  }

  add(invalidation: Invalidation<R, D>): void {
    this.list.push(invalidation);
  }

  /** Forgets the invalidations a committed refresh applied (later ones stay). */
  forget(applied: readonly Invalidation<R, D>[]): void {
    const done = new Set(applied);
    this.list = this.list.filter((invalidation) => !done.has(invalidation));
  }

  /** Whether a read of `specs` must refresh first: an invalidation with `forceRefresh` marks part of them. */
  needsRefresh(specs: readonly StorageRecordsSpec<R>[]): boolean {
    return this.list.some(({ forceRefresh, marks }) => forceRefresh && specs.some((spec) => marks.affects(spec.indexName, spec.intervals)));
  }
}

/**
 * The invalidation of `invalidateRecords(oldSpecs, newSpecs)`, checked.
 * @throws {InvalidSpecError} when a list is empty, names an index twice, or holds a spec that is not covered.
 */
export function specInvalidation<R, PK, S extends IndexSpec, D>(
  indexes: Indexes<R, PK, S, D>,
  tableName: string,
  oldSpecs: readonly S[],
  newSpecs: readonly S[],
  forceRefresh: boolean,
): SpecInvalidation<R, D> {
  const intervals = new Map<string, Interval[]>();
  for (const [listName, specs] of [
    ['oldSpecs', oldSpecs],
    ['newSpecs', newSpecs],
  ] as const) {
    if (specs.length === 0)
      throw new InvalidSpecError(`invalidateRecords on table '${tableName}': ${listName} is empty.`, { path: [listName] });
    const seen = new Set<string>();
    specs.forEach((spec, i) => {
      if (seen.has(spec.indexName)) {
        throw new InvalidSpecError(
          `invalidateRecords on table '${tableName}': ${listName} names index '${spec.indexName}' more than once.`,
          {
            path: [listName, i, 'indexName'],
          },
        );
      }
      seen.add(spec.indexName);
      if (!indexes.covers(spec)) {
        throw new InvalidSpecError(
          `invalidateRecords on table '${tableName}': ${describeSpec(spec)} (index '${spec.indexName}') is not covered by the cache.`,
          { path: [listName, i] },
        );
      }
      const marked = intervals.get(spec.indexName) ?? [];
      marked.push(...indexes.storageRecordsSpec(spec).intervals);
      intervals.set(spec.indexName, marked);
    });
  }
  const inBoth = (indexName: string) =>
    oldSpecs.some((spec) => spec.indexName === indexName) && newSpecs.some((spec) => spec.indexName === indexName);
  return {
    oldStorageSpec: indexes.storageRecordsSpec(oldSpecs[0] as S),
    newDbSpec: indexes.dbRecordsSpec(newSpecs[0] as S),
    forceRefresh,
    marks: new InvalidationChange(intervals, new Set(indexes.indexNames.filter((indexName) => !inBoth(indexName)))),
  };
}

/**
 * The invalidation of `invalidateKeys(keys)`, checked; `null` when `keys` is empty.
 * @throws {InvalidSpecError} when `keys` is not an array or holds an invalid key.
 */
export function keysInvalidation(
  indexNames: readonly string[],
  tableName: string,
  keys: unknown,
  forceRefresh = true,
  feed: { cursor: string; gone: readonly PrimaryKey[] } | null = null,
): KeysInvalidation | null {
  if (!Array.isArray(keys))
    throw new InvalidSpecError(`invalidateKeys on table '${tableName}': keys must be an array of primary keys.`, { path: ['keys'] });
  const unique = new Map<string, PrimaryKey>();
  keys.forEach((key: unknown, i) => {
    if (!isValidKey(key)) {
      throw new InvalidSpecError(
        `invalidateKeys on table '${tableName}': keys[${i}] is ${describeSpec(key)}, not a valid primary key (a number, string, Date, binary or array of those).`,
        { path: ['keys', i] },
      );
    }
    unique.set(keyToString(key), key);
  });
  if (unique.size === 0) return null;
  const marks = new InvalidationChange(new Map(), new Set(indexNames));
  if (!feed) return { keys: [...unique.values()], forceRefresh, marks };
  return { keys: [...unique.values()], forceRefresh, marks, cursor: feed.cursor, gone: new Set(feed.gone.map((key) => keyToString(key))) };
}

/** The change feed cursor to commit with a refresh of `applied`: the last one among them (they come in feed order); `undefined` when none has one. */
export function cursorAfter<R, D>(applied: readonly Invalidation<R, D>[]): string | undefined {
  for (let i = applied.length - 1; i >= 0; i--) {
    const invalidation = applied[i] as Invalidation<R, D>;
    if ('cursor' in invalidation && invalidation.cursor !== undefined) return invalidation.cursor;
  }
  return undefined;
}

/**
 * @throws {UnsupportedOperationError} unless the storage and the Indexes
 * implement what `invalidateKeys` needs.
 */
export function assertKeysSupported(
  storage: Pick<StorageTable<unknown>, 'getRecordsByKeys'>,
  indexes: { readonly dbRecordsSpecForKeys?: unknown; readonly coversRecord?: unknown },
  tableName: string,
): void {
  const missing = !storage.getRecordsByKeys
    ? 'StorageTable.getRecordsByKeys'
    : !indexes.dbRecordsSpecForKeys
      ? 'Indexes.dbRecordsSpecForKeys'
      : !indexes.coversRecord
        ? 'Indexes.coversRecord'
        : null;
  if (!missing) return;
  const owner = missing.startsWith('Storage') ? 'the storage table in use does' : 'the Indexes in use do';
  throw new UnsupportedOperationError(`invalidateKeys on table '${tableName}' needs ${missing}, which ${owner} not implement.`, {
    operation: 'invalidateKeys',
    missing,
  });
}
