import BTreeModule from 'sorted-btree';
import { StorageError, TableCacheError } from '../core/errors';
import type { Interval } from '../core/Interval';
import { compareKeys, type PrimaryKey } from '../core/keys';
import type { StorageRecordsSpec } from '../core/StorageRecordsSpec';
import type { ReadOptions, RecordScorer, RecordSource, StorageTable } from '../core/types';
import { eachRecord } from './recordSource';
import { scoreRecord } from './scoreRecord';

// sorted-btree is CommonJS: bundlers hand over the class as the default export, Node's ESM loader the module object.
const BTree = ((BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule) as typeof BTreeModule;
type BTree<K, V> = BTreeModule<K, V>;

/** Below every primary key: the start of a score's entries in an index tree. */
const LOWEST = Symbol('lowest key');
type IndexKey = readonly [score: number, key: PrimaryKey | typeof LOWEST];

function compareScores(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIndexKeys(a: IndexKey, b: IndexKey): number {
  const byScore = compareScores(a[0], b[0]);
  if (byScore !== 0) return byScore;
  if (a[1] === LOWEST) return b[1] === LOWEST ? 0 : -1;
  if (b[1] === LOWEST) return 1;
  return compareKeys(a[1], b[1]);
}

/** A record with its primary key and its score in each index (in the order of `indexNames`), already checked. */
export interface ScoredRecord<R> {
  readonly record: R;
  readonly key: PrimaryKey;
  readonly scores: readonly number[];
}

type Row<R> = ScoredRecord<R>;

/** One state of the table. Trees are cloned in O(1) and copy on write, so a reader keeps the state it started with. */
interface Version<R> {
  readonly byKey: BTree<PrimaryKey, Row<R>>;
  readonly byIndex: readonly BTree<IndexKey, Row<R>>[];
}

interface Scratch<R> {
  readonly version: Version<R>;
  readonly staged: BTree<PrimaryKey, true>;
}

/** Options of {@link MemoryStorageTable}. */
export interface MemoryStorageTableOptions {
  /** Informational; used in error messages. Default `'memory'`. */
  name?: string;
}

/**
 * A `StorageTable` in memory: one B+tree by primary key and one per index,
 * ordered by score. Works in Node and browsers; nothing persists.
 *
 * Reads work on an O(1) copy-on-write clone of the trees, so a read in
 * progress is unaffected by later writes and merges.
 */
export class MemoryStorageTable<R, PK extends PrimaryKey = PrimaryKey> implements StorageTable<R> {
  readonly name: string;
  private readonly scorer: RecordScorer<R, PK>;
  private committed: Version<R>;
  private scratch: Scratch<R> | null = null;
  private state: unknown = undefined;

  constructor(scorer: RecordScorer<R, PK>, options: MemoryStorageTableOptions = {}) {
    if (scorer.indexNames.length === 0) throw new TableCacheError('A storage table needs at least one index.');
    this.scorer = scorer;
    this.name = options.name ?? 'memory';
    this.committed = this.emptyVersion();
  }

  /** The number of committed records. */
  get size(): number {
    return this.committed.byKey.size;
  }

  /** The number of records the table will hold after `scratchMerge()` (`size` when nothing is staged). */
  get scratchSize(): number {
    return (this.scratch?.version ?? this.committed).byKey.size;
  }

  async clear(): Promise<void> {
    this.committed = this.emptyVersion();
    this.scratch = null;
    this.state = undefined;
  }

  /**
   * Inserts or replaces the records, visible at once. While a scratch space
   * is open, the write is carried into it too (replacing a staged record of
   * the same key), so the merge keeps it, as `IdbStorageTable` does.
   */
  async putRecords(records: RecordSource<R>): Promise<void> {
    await eachRecord(records, (record) => {
      const row = this.toRow(record, 'putRecords');
      this.insert(this.committed, row);
      const scratch = this.scratch;
      if (scratch) {
        this.insert(scratch.version, row);
        scratch.staged.delete(row.key);
      }
    });
  }

  /**
   * Records whose key and scores the caller has computed and checked (as
   * `IdbStorageTable` does for the copy it keeps here), stored as given:
   * `putRecords` without scoring them again.
   */
  putScored(rows: Iterable<ScoredRecord<R>>): void {
    for (const row of rows) this.insert(this.committed, row);
  }

  /** `scratchPutRecords` of records already scored, as `putScored`. */
  scratchPutScored(rows: Iterable<ScoredRecord<R>>): void {
    const scratch = this.openScratch();
    for (const row of rows) this.stage(scratch, row);
  }

  /** The committed records matching `spec`, as stored (not copies, whatever `options.shared` says). */
  getRecords(spec: StorageRecordsSpec<R>, _options?: ReadOptions): AsyncIterable<R> {
    const records = this.getRecordsSync(spec);
    return (async function* () {
      yield* records;
    })();
  }

  /**
   * `getRecords`, synchronously: the committed records matching `spec` when
   * it is called, yielded as stored (not copies). Throws `StorageError` for
   * an unknown index when iterated.
   */
  getRecordsSync(spec: StorageRecordsSpec<R>): Iterable<R> {
    const position = this.scorer.indexNames.indexOf(spec.indexName);
    const tree = this.committed.byIndex[position]?.clone();
    return this.iterate(tree, spec);
  }

  private *iterate(tree: BTree<IndexKey, Row<R>> | undefined, spec: StorageRecordsSpec<R>): Generator<R> {
    if (!tree) throw this.unknownIndex(spec.indexName, 'getRecords');
    for (const row of matchingRows(tree, spec)) yield row.record;
  }

  /** The committed records with these primary keys, as stored (not copies, whatever `options.shared` says). */
  async getRecordsByKeys(keys: readonly PrimaryKey[], _options?: ReadOptions): Promise<R[]> {
    const byKey = this.committed.byKey;
    const found = new Set<R>();
    for (const key of keys) {
      const row = byKey.get(key);
      if (row) found.add(row.record);
    }
    return [...found];
  }

  /**
   * Deletes the committed records matching `spec`. While a scratch space is
   * open, they are deleted from it too unless it stages a replacement of
   * them, so the merge does not bring them back, as with `IdbStorageTable`.
   */
  async deleteRecords(spec: StorageRecordsSpec<R>, onDeleted?: (record: R) => void): Promise<number> {
    const rows = [...matchingRows(this.indexTree(this.committed, spec.indexName, 'deleteRecords'), spec)];
    const scratch = this.scratch;
    for (const row of rows) {
      this.remove(this.committed, row);
      if (scratch && scratch.version.byKey.get(row.key) === row) this.remove(scratch.version, row);
      onDeleted?.(row.record);
    }
    return rows.length;
  }

  async scratchPutRecords(records: RecordSource<R>): Promise<void> {
    const scratch = this.openScratch();
    await eachRecord(records, (record) => this.stage(scratch, this.toRow(record, 'scratchPutRecords')));
  }

  async scratchDiscardRecords(spec: StorageRecordsSpec<R>, onDiscarded?: (record: R) => void): Promise<number> {
    const scratch = this.openScratch();
    const tree = this.indexTree(scratch.version, spec.indexName, 'scratchDiscardRecords');
    let discarded = 0;
    for (const row of [...matchingRows(tree, spec)]) {
      this.remove(scratch.version, row);
      if (scratch.staged.delete(row.key)) continue;
      discarded++;
      onDiscarded?.(row.record);
    }
    return discarded;
  }

  async scratchMerge(state?: unknown): Promise<void> {
    if (this.scratch) this.committed = this.scratch.version;
    this.scratch = null;
    if (state !== undefined) this.state = state;
  }

  async scratchAbort(): Promise<void> {
    this.scratch = null;
  }

  async committedState(): Promise<unknown> {
    return this.state;
  }

  private emptyVersion(): Version<R> {
    return {
      byKey: new BTree<PrimaryKey, Row<R>>(undefined, compareKeys),
      byIndex: this.scorer.indexNames.map(() => new BTree<IndexKey, Row<R>>(undefined, compareIndexKeys)),
    };
  }

  private openScratch(): Scratch<R> {
    this.scratch ??= {
      version: { byKey: this.committed.byKey.clone(), byIndex: this.committed.byIndex.map((tree) => tree.clone()) },
      staged: new BTree<PrimaryKey, true>(undefined, compareKeys),
    };
    return this.scratch;
  }

  private toRow(record: R, operation: string): Row<R> {
    const { key, scores } = scoreRecord(
      this.scorer,
      record,
      (message) => new StorageError(`${operation} on table '${this.name}': ${message}`, { table: this.name, operation }),
    );
    return { record, key, scores };
  }

  private stage(scratch: Scratch<R>, row: Row<R>): void {
    this.insert(scratch.version, row);
    scratch.staged.set(row.key, true);
  }

  private insert(version: Version<R>, row: Row<R>): void {
    const previous = version.byKey.get(row.key);
    if (previous) this.remove(version, previous);
    version.byKey.set(row.key, row);
    version.byIndex.forEach((tree, i) => tree.set([row.scores[i] as number, row.key], row));
  }

  private remove(version: Version<R>, row: Row<R>): void {
    version.byKey.delete(row.key);
    version.byIndex.forEach((tree, i) => tree.delete([row.scores[i] as number, row.key]));
  }

  private indexTree(version: Version<R>, indexName: string, operation: string): BTree<IndexKey, Row<R>> {
    const tree = version.byIndex[this.scorer.indexNames.indexOf(indexName)];
    if (!tree) throw this.unknownIndex(indexName, operation);
    return tree;
  }

  private unknownIndex(indexName: string, operation: string): StorageError {
    return new StorageError(`${operation} on table '${this.name}': there is no index '${indexName}'.`, {
      table: this.name,
      operation,
    });
  }
}

/** The rows of `tree` whose score lies in one of the spec's intervals and that pass its recheck. */
function* matchingRows<R>(tree: BTree<IndexKey, Row<R>>, spec: StorageRecordsSpec<R>): Generator<Row<R>> {
  for (const interval of spec.intervals) {
    for (const row of rowsIn(tree, interval)) {
      if (!spec.recheck || spec.recheck(row.record)) yield row;
    }
  }
}

function* rowsIn<R>(tree: BTree<IndexKey, Row<R>>, interval: Interval): Generator<Row<R>> {
  if (interval.isEmpty) return;
  for (const [[score], row] of tree.entries([interval.ge, LOWEST])) {
    if (!interval.contains(score)) return;
    yield row;
  }
}
