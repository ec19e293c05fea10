import { z } from 'zod';
import { Adjustment } from '../core/Adjustment';
import { TableCacheError } from '../core/errors';
import { Interval } from '../core/Interval';
import { describeSpec } from '../core/describe';
import { describeKey, isValidKey, keyToString, type PrimaryKey } from '../core/keys';
import { StorageRecordsSpec } from '../core/StorageRecordsSpec';
import type { Indexes } from '../core/types';
import { checkIndexName, parseSpec, primaryKeySchema } from './schemas';

/** Some records by primary key, or all of them. */
export type PrimaryKeySpec<PK = PrimaryKey> =
  { readonly indexName: 'primaryKey'; readonly primaryKeys: readonly PK[] } | { readonly indexName: 'primaryKey'; readonly all: true };

/** Options of {@link PrimaryKeyIndexes}. */
export interface PrimaryKeyIndexesOptions<R, PK, D> {
  /** The record's primary key. */
  primaryKey: (record: R) => PK;
  /** The backend fetch of every record. */
  dbRecordsSpecForAll: () => D;
  /** The backend fetch of the records with these keys (also used by `CachedTable.invalidateKeys`). */
  dbRecordsSpecForKeys: (keys: PK[]) => D;
}

/** The adjustment of a {@link PrimaryKeyIndexes}: which keys storage will hold. */
export class PrimaryKeyAdjustment<R, D> extends Adjustment<R, D> {
  /** `'all'`, or the keys (by their `keyToString`) held once committed. */
  readonly held: 'all' | ReadonlyMap<string, PrimaryKey>;

  constructor(expireSpec: StorageRecordsSpec<R> | null, loadSpec: D | null, held: 'all' | ReadonlyMap<string, PrimaryKey>) {
    super(expireSpec, loadSpec);
    this.held = held;
  }
}

/**
 * A 53-bit hash of a key (cyrb53), the score of a key that is not a finite
 * number; finite numbers score themselves. Collisions are harmless: reads
 * recheck the key.
 */
function hashKey(key: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * Caches a chosen set of records by primary key, or all of them. Spec
 * `{ indexName: 'primaryKey', primaryKeys: [...] }` or
 * `{ indexName: 'primaryKey', all: true }`. An adjust loads only the keys not
 * yet held and expires only the keys no longer wanted.
 */
export class PrimaryKeyIndexes<R, PK extends PrimaryKey = PrimaryKey, D = unknown> implements Indexes<R, PK, PrimaryKeySpec<PK>, D> {
  readonly indexNames = ['primaryKey'] as const;
  /** Parses `{ indexName: 'primaryKey', primaryKeys: [...] }` or `{ indexName: 'primaryKey', all: true }`. */
  readonly specSchema: z.ZodType<PrimaryKeySpec<PK>> = z.union(
    [
      z.object({ indexName: z.literal('primaryKey'), primaryKeys: z.array(primaryKeySchema) }),
      z.object({ indexName: z.literal('primaryKey'), all: z.literal(true) }),
    ],
    {
      error: () =>
        "expected { indexName: 'primaryKey', primaryKeys: [keys…] } (each key a number, string, Date, binary or array of those) or { indexName: 'primaryKey', all: true }",
    },
  ) as z.ZodType<PrimaryKeySpec<PK>>;
  private readonly options: PrimaryKeyIndexesOptions<R, PK, D>;
  private held: 'all' | ReadonlyMap<string, PK> = new Map();

  constructor(options: PrimaryKeyIndexesOptions<R, PK, D>) {
    this.options = options;
  }

  score(indexName: string, record: R): number {
    checkIndexName(indexName, 'primaryKey');
    return this.keyScore(this.primaryKey(record));
  }

  primaryKey(record: R): PK {
    const key = this.options.primaryKey(record);
    if (!isValidKey(key)) throw new TableCacheError(`Primary key ${describeKey(key)} is not a valid IndexedDB key.`);
    return key;
  }

  storageRecordsSpec(spec: PrimaryKeySpec<PK>): StorageRecordsSpec<R> {
    const keys = this.keys(spec);
    if (keys === 'all') return new StorageRecordsSpec('primaryKey', [Interval.everything()]);
    return this.keysSpec(keys);
  }

  dbRecordsSpec(spec: PrimaryKeySpec<PK>): D {
    const keys = this.keys(spec);
    return keys === 'all' ? this.options.dbRecordsSpecForAll() : this.options.dbRecordsSpecForKeys([...keys.values()]);
  }

  prepareAdjustment(spec: PrimaryKeySpec<PK>): PrimaryKeyAdjustment<R, D> {
    const wanted = this.keys(spec);
    if (wanted === 'all') {
      return new PrimaryKeyAdjustment<R, D>(null, this.held === 'all' ? null : this.options.dbRecordsSpecForAll(), 'all');
    }
    const held = this.held;
    if (held === 'all') {
      const expire = new StorageRecordsSpec<R>('primaryKey', [Interval.everything()], (record) => {
        return !wanted.has(keyToString(this.primaryKey(record)));
      });
      return new PrimaryKeyAdjustment<R, D>(expire, null, wanted);
    }
    const expired = new Map([...held].filter(([text]) => !wanted.has(text)));
    const missing = [...wanted].filter(([text]) => !held.has(text)).map(([, key]) => key);
    return new PrimaryKeyAdjustment<R, D>(
      expired.size ? this.keysSpec(expired) : null,
      missing.length ? this.options.dbRecordsSpecForKeys(missing) : null,
      wanted,
    );
  }

  commitAdjustment(adjustment: Adjustment<R, D>): void {
    if (!(adjustment instanceof PrimaryKeyAdjustment)) {
      throw new TableCacheError("Index 'primaryKey' can only commit its own adjustments.");
    }
    this.held = adjustment.held as 'all' | ReadonlyMap<string, PK>;
  }

  covers(spec: PrimaryKeySpec<PK>): boolean {
    const keys = this.keys(spec);
    const held = this.held;
    if (held === 'all') return true;
    if (keys === 'all') return false;
    for (const text of keys.keys()) if (!held.has(text)) return false;
    return true;
  }

  /** The backend fetch of the records with these keys (the `dbRecordsSpecForKeys` option). */
  dbRecordsSpecForKeys(keys: readonly PK[]): D {
    return this.options.dbRecordsSpecForKeys([...keys]);
  }

  /** Whether the record's key is held (or every record is). */
  coversRecord(record: R): boolean {
    const held = this.held;
    return held === 'all' || held.has(keyToString(this.primaryKey(record)));
  }

  /** The held keys that `spec` asks for, and the others; `all: true` splits only when everything is held. */
  splitCoverage(spec: PrimaryKeySpec<PK>): { covered: PrimaryKeySpec<PK>[]; missing: PrimaryKeySpec<PK>[] } {
    const keys = this.keys(spec);
    const held = this.held;
    if (held === 'all') return { covered: [spec], missing: [] };
    if (keys === 'all') return { covered: [], missing: [spec] };
    const covered: PK[] = [];
    const missing: PK[] = [];
    for (const [text, key] of keys) (held.has(text) ? covered : missing).push(key);
    const toSpec = (primaryKeys: PK[]): PrimaryKeySpec<PK>[] => (primaryKeys.length ? [{ indexName: 'primaryKey', primaryKeys }] : []);
    return { covered: toSpec(covered), missing: toSpec(missing) };
  }

  /** `{ all: true }` or `{ keys }`: what is held. */
  snapshotState(): { all: true } | { keys: PK[] } {
    return this.held === 'all' ? { all: true } : { keys: [...this.held.values()] };
  }

  /** @throws {TableCacheError} when `state` is not one `snapshotState` returns. */
  restoreState(state: unknown): void {
    const parsed = z.union([z.object({ all: z.literal(true) }), z.object({ keys: z.array(primaryKeySchema) })]).safeParse(state);
    if (!parsed.success) throw new TableCacheError(`Index 'primaryKey' cannot restore state ${describeSpec(state)}.`);
    this.held = 'all' in parsed.data ? 'all' : new Map(parsed.data.keys.map((key) => [keyToString(key), key as PK]));
  }

  /** The score of a key in index `primaryKey`; equal keys must score equally, different keys may. */
  protected keyScore(key: PrimaryKey): number {
    return typeof key === 'number' && Number.isFinite(key) ? key : hashKey(keyToString(key));
  }

  /** The spec's keys by their `keyToString`, or `'all'`. */
  private keys(spec: PrimaryKeySpec<PK>): 'all' | Map<string, PK> {
    checkIndexName(spec.indexName, 'primaryKey');
    const parsed = parseSpec(this.specSchema, spec, "Index 'primaryKey'");
    if ('all' in parsed) return 'all';
    return new Map(parsed.primaryKeys.map((key) => [keyToString(key), key]));
  }

  /** The records with these keys: one single-score interval per distinct score, rechecked by key. */
  private keysSpec(keys: ReadonlyMap<string, PK>): StorageRecordsSpec<R> {
    const scores = new Set<number>();
    for (const key of keys.values()) scores.add(this.keyScore(key));
    const intervals = [...scores].sort((a, b) => a - b).map((score) => Interval.onlyContaining(score));
    return new StorageRecordsSpec<R>('primaryKey', intervals, (record) => keys.has(keyToString(this.primaryKey(record))));
  }
}
