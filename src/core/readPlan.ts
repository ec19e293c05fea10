import { abortableRecords } from './abortable';
import { recordsOf } from './asyncIterators';
import type { CachedTableStats, RecordsRead } from './CachedTableOptions';
import { keyToString, type PrimaryKey } from './keys';
import { mergeAsync } from './mergeAsync';
import { probeDbReads } from './readHelpers';
import { answeredThrough, type ReadThrough } from './readThrough';
import type { StorageRecordsSpec } from './StorageRecordsSpec';
import type { DbAccess, Indexes, IndexSpec } from './types';

/** Where a read goes, decided in one synchronous step. */
export type ReadPlan<R, S> =
  | { readonly kind: 'miss' }
  | { readonly kind: 'hit'; readonly covered: readonly S[]; readonly storageSpecs: readonly StorageRecordsSpec<R>[] }
  | {
      readonly kind: 'partial';
      readonly covered: readonly S[];
      readonly storageSpecs: readonly StorageRecordsSpec<R>[];
      readonly missing: readonly S[];
    };

/** Decides, from the Indexes' current coverage, where the records of `spec` are read. */
export function planRead<R, PK, S extends IndexSpec, D>(indexes: Indexes<R, PK, S, D>, spec: S): ReadPlan<R, S> {
  if (indexes.covers(spec)) {
    return { kind: 'hit', covered: [spec], storageSpecs: [indexes.storageRecordsSpec(spec)] };
  }
  const split = indexes.splitCoverage?.(spec);
  if (!split || split.covered.length === 0) return { kind: 'miss' };
  const storageSpecs = split.covered.map((covered) => indexes.storageRecordsSpec(covered));
  return { kind: 'partial', covered: split.covered, storageSpecs, missing: split.missing };
}

/** The records of `spec` from the backend; leaving the iteration early cancels the fetch. */
export async function* readFromDb<R, PK, S extends IndexSpec, D>(
  indexes: Indexes<R, PK, S, D>,
  db: DbAccess<R, D>,
  spec: S,
  signal?: AbortSignal,
): AsyncGenerator<R> {
  const controller = new AbortController();
  const abort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', abort, { once: true });
  try {
    signal?.throwIfAborted();
    yield* abortableRecords(db.getRecords(indexes.dbRecordsSpec(spec), { signal: controller.signal }), signal);
  } finally {
    signal?.removeEventListener('abort', abort);
    controller.abort();
  }
}

/**
 * A partial hit: storage reads and backend fetches run concurrently. Each
 * primary key is yielded once, even if a record moved in the backend
 * between the parts without an invalidation.
 */
export function readPartial<R, PK, S extends IndexSpec, D>(
  indexes: Indexes<R, PK, S, D>,
  storageReads: readonly AsyncIterable<R>[],
  dbReads: readonly AsyncIterable<R>[],
  counts: { storage: number; db: number },
): AsyncIterableIterator<R, undefined> {
  const seen = new Set<string>();
  // Each source skips the keys another has already produced (the first one wins); what passes is counted.
  const storageSources = storageReads.length;
  return mergeAsync([...storageReads, ...dbReads], Infinity, (record, source) => {
    const key = keyToString(indexes.primaryKey(record) as PrimaryKey);
    if (seen.has(key)) return false;
    seen.add(key);
    counts[source < storageSources ? 'storage' : 'db']++;
    return true;
  });
}

/** What {@link serveCovered} needs of the table and of the read. */
export interface CoveredRead<R, PK, S extends IndexSpec, D> {
  readonly indexes: Indexes<R, PK, S, D>;
  readonly db: DbAccess<R, D>;
  /** The table's read counters, counted here. */
  readonly counters: CachedTableStats['reads'];
  /** Whether the read refreshed what it covers first, or serves it stale. */
  readonly refreshed: boolean;
  readonly stale: boolean;
  readonly partialWhenOffline: boolean;
  readonly signal: AbortSignal | undefined;
}

/**
 * The records of a hit or partial hit whose refreshes are settled, from the
 * storage reads of its covered part (opened in the planning step) and, for a
 * partial hit, the backend's reads of the rest: with `partialWhenOffline`,
 * only the covered part, said to be incomplete, when the backend's first
 * answer says it is unreachable.
 */
export async function serveCovered<R, PK, S extends IndexSpec, D>(
  plan: Exclude<ReadPlan<R, S>, { kind: 'miss' }>,
  storageReads: readonly AsyncIterable<R>[],
  read: CoveredRead<R, PK, S, D>,
): Promise<RecordsRead<R>> {
  const { refreshed, stale, counters } = read;
  if (stale) counters.servedStale++;
  const fromStorage = () => (storageReads.length === 1 ? (storageReads[0] as AsyncIterable<R>) : mergeAsync(storageReads));
  if (plan.kind === 'hit') {
    if (!stale) counters[refreshed ? 'cacheHitWithRefresh' : 'cacheHit']++;
    return { from: 'storage', refreshed, stale, incomplete: false, records: fromStorage() };
  }
  let dbReads: AsyncIterable<R>[] = plan.missing.map((missing) => readFromDb(read.indexes, read.db, missing, read.signal));
  if (read.partialWhenOffline) {
    // The backend's first answer decides: the missing part, or (unreachable) only the covered part, said to be incomplete.
    const probed = await probeDbReads(dbReads, storageReads);
    if (probed === 'unreachable') {
      counters.servedIncomplete++;
      return { from: 'storage', refreshed, stale, incomplete: true, records: fromStorage() };
    }
    dbReads = probed;
  }
  counters.partialHit++;
  const counts = { storage: 0, db: 0 };
  return { from: 'mixed', refreshed, stale, incomplete: false, counts, records: readPartial(read.indexes, storageReads, dbReads, counts) };
}

/** A hit answered from the refresh of its stale records (`StaleRecords.refreshForRead`): what storage holds for it once that commits. */
export function serveFetched<R>(records: readonly R[], through: ReadThrough<R>, counters: CachedTableStats['reads']): RecordsRead<R> {
  counters.cacheHitWithRefresh++;
  return { from: 'storage', refreshed: true, stale: false, incomplete: false, records: answeredThrough(recordsOf(records), through) };
}
