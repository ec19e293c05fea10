import type { PrimaryKey } from '../../core/keys';
import type { StorageRecordsSpec } from '../../core/StorageRecordsSpec';
import type { RecordScorer } from '../../core/types';
import { scoreRecord } from '../scoreRecord';
import type { IdbConnection } from './IdbConnection';
import { keyId, type KeyId } from './KeyDirectory';
import type { PageContent, PageInfo, StoredPageMeta } from './pages';
import { PagePlan, type FetchedPage, type PageStore } from './PageStore';

/** A record with its key and scores, checked (see `scoreRecord`). */
export interface ScoredRow<R> {
  readonly record: R;
  readonly key: PrimaryKey;
  readonly id: KeyId;
  readonly scores: readonly number[];
}

/**
 * The rows of one write's records: each record's key and scores, checked.
 * The error makers are made once per write, not per record.
 * @throws {StorageError} when the key is invalid (the `DataError` as `cause`) or a score is not a number or NaN.
 */
export function rowsOf<R>(scorer: RecordScorer<R, unknown>, connection: IdbConnection, operation: string): (record: R) => ScoredRow<R> {
  const fail = (message: string, cause?: unknown) => connection.error(operation, message, cause);
  const keyCause = (invalid: unknown) => connection.keyError(invalid);
  return (record) => {
    const { key, scores } = scoreRecord(scorer, record, fail, keyCause);
    return { record, key, id: keyId(key), scores };
  };
}

/**
 * Where a write goes: `staged` writes build the scratch space (generation
 * `committed + 1`) by copy-on-write of committed pages; direct writes
 * change committed pages in place.
 */
export interface WriteTarget {
  readonly staged: boolean;
  readonly committed: number;
}

/** A page being built or changed by one write transaction. */
interface Working<R> {
  meta: StoredPageMeta;
  content: PageContent<R>;
}

/**
 * Turns records and deletions into page writes (`PagePlan`s), one
 * transaction each.
 *
 * A staged change never touches a committed page: the page is marked as
 * ending at the next generation and a *carried* copy without the changed
 * records is staged (`c`), so reads of the committed state keep the page
 * and the merge stays a single write of the generation number. Pages of
 * the scratch space itself are rewritten in place. New records go to the
 * open *tail* page of the write until it is full, then to new pages, each
 * batch ordered by its score in the first index first, so that pages hold
 * neighbouring scores.
 */
export class PageWriter<R> {
  /** The page new records go to while it has room (a page of this table's own making). */
  private tail: { id: number; staged: boolean } | null = null;

  constructor(
    private readonly store: PageStore<R>,
    private readonly recordsPerPage: number,
  ) {}

  /** Forgets the tail page (after a merge, an abort or `clear()`). */
  reset(): void {
    this.tail = null;
  }

  /**
   * Writes a batch of records (the last of several with one key wins),
   * replacing the records with their keys.
   */
  async put(rows: readonly ScoredRow<R>[], target: WriteTarget, operation: string): Promise<void> {
    const { staged } = target;
    const next = staged ? target.committed + 1 : target.committed;
    const { dir, keys } = this.store;
    const latest = new Map<KeyId, ScoredRow<R>>();
    for (const row of rows) latest.set(row.id, row);
    const removals = new Map<number, Set<KeyId>>();
    for (const id of latest.keys()) {
      const page = staged ? keys.staged(id) : keys.committed(id);
      if (page === undefined) continue;
      let removed = removals.get(page);
      if (!removed) removals.set(page, (removed = new Set()));
      removed.add(id);
    }
    const tail = this.openTail(staged, next);
    const fetched = await this.store.fetch(tail === null ? [...removals.keys()] : [...removals.keys(), tail], operation);
    const plan = new PagePlan<R>(staged);
    const working = new Map<number, Working<R>>();
    for (const [id, removed] of removals) {
      const info = dir.get(id) as PageInfo;
      const content = this.without(fetched, id, (key) => removed.has(key));
      this.change(plan, working, info, content, target);
    }
    const fresh = [...latest.values()];
    if (fresh.length > 1) fresh.sort((a, b) => (a.scores[0] as number) - (b.scores[0] as number));
    let placed = 0;
    if (tail !== null) {
      const page = working.get(tail) ?? { meta: dir.get(tail) as PageInfo, content: this.store.contentOf(this.pageOf(fetched, tail)) };
      placed = Math.min(fresh.length, this.recordsPerPage - page.content.records.length);
      this.append(page.content, fresh, 0, placed, plan, tail);
      working.set(tail, page);
    }
    while (placed < fresh.length) {
      const id = dir.newId();
      const content: PageContent<R> = { records: [], keys: [], scores: fresh[0]?.scores.map(() => []) ?? [] };
      const end = Math.min(fresh.length, placed + this.recordsPerPage);
      this.append(content, fresh, placed, end, plan, id);
      placed = end;
      working.set(id, { meta: { g: next, n: 0, lo: [], hi: [] }, content });
      this.tail = content.records.length < this.recordsPerPage ? { id, staged } : null;
    }
    for (const [id, page] of working) {
      if (page.content.records.length > 0) plan.puts.set(id, { meta: page.meta, content: page.content });
      else if (dir.get(id)) plan.deletes.add(id);
      if (page.content.records.length === 0 && this.tail?.id === id) this.tail = null;
    }
    await this.store.write(plan, operation);
  }

  /**
   * Removes the records of `spec` from the state the target writes (the
   * committed state, or the scratch space), in transactions of about
   * `batchRecords()` records of pages each. `onRemoved` gets, after each
   * transaction, the committed records it removed (copies nobody else
   * holds); staged records removed are not reported. Resolves with their
   * number.
   */
  async remove(
    spec: StorageRecordsSpec<R>,
    position: number,
    target: WriteTarget,
    batchRecords: () => number,
    operation: string,
    onRemoved?: (record: R) => void,
  ): Promise<number> {
    const { staged } = target;
    const next = staged ? target.committed + 1 : target.committed;
    const pages = this.store.dir.overlapping(position, spec.intervals, next);
    const matches = (fetched: FetchedPage<R>, j: number): boolean => {
      const score = fetched.page.s[position]?.[j] as number;
      return spec.intervals.some((interval) => interval.contains(score)) && (!spec.recheck || spec.recheck(fetched.page.r[j] as R));
    };
    let removedCount = 0;
    for (let start = 0; start < pages.length;) {
      const group: PageInfo[] = [];
      let records = 0;
      const limit = batchRecords();
      while (start < pages.length && (group.length === 0 || records + (pages[start] as PageInfo).n <= limit)) {
        const page = pages[start++] as PageInfo;
        group.push(page);
        records += page.n;
      }
      const fetched = await this.store.fetch(
        group.map((page) => page.id),
        operation,
      );
      const plan = new PagePlan<R>(staged);
      const working = new Map<number, Working<R>>();
      let reported: R[] = [];
      let reportedFromMemory = false;
      for (const info of group) {
        const page = fetched.get(info.id);
        if (!page) continue;
        const matched = new Set<number>();
        page.page.r.forEach((_, j) => {
          if (matches(page, j)) matched.add(j);
        });
        if (matched.size === 0) continue;
        // Staged records (of non-carried pages of the scratch space) were never committed: not reported.
        if (!staged || info.g !== next || info.c) {
          for (const j of matched) reported.push(page.page.r[j] as R);
          reportedFromMemory ||= page.cached;
        }
        const content = this.store.contentOf(page.page);
        const removedKeys = content.keys.filter((_, j) => matched.has(j));
        const kept = this.keep(content, (j) => !matched.has(j));
        for (const key of removedKeys) plan.keys.push({ key: this.idOf(key), page: undefined });
        this.change(plan, working, info, kept, target);
      }
      for (const [id, page] of working) {
        if (page.content.records.length > 0) plan.puts.set(id, { meta: page.meta, content: page.content });
        else if (this.store.dir.get(id)) plan.deletes.add(id);
        if (page.content.records.length === 0 && this.tail?.id === id) this.tail = null;
      }
      await this.store.write(plan, operation);
      if (reportedFromMemory) reported = structuredClone(reported);
      removedCount += reported.length;
      if (onRemoved) reported.forEach(onRemoved);
    }
    return removedCount;
  }

  /**
   * Records in the plan that page `info` now holds `content`: in place for a
   * page of the state being written, by copy-on-write for a committed page
   * under a staged write.
   */
  private change(plan: PagePlan<R>, working: Map<number, Working<R>>, info: PageInfo, content: PageContent<R>, target: WriteTarget): void {
    const next = target.committed + 1;
    if (!target.staged || info.g === next) {
      working.set(info.id, { meta: info, content });
      return;
    }
    // Reads of the committed state keep the page until the merge; the scratch space gets the carried copy.
    plan.puts.set(info.id, { meta: { ...info, e: next } });
    if (content.records.length === 0) return;
    const carried = this.store.dir.newId();
    working.set(carried, { meta: { g: next, c: true, n: 0, lo: [], hi: [] }, content });
    for (const key of content.keys) plan.keys.push({ key: this.idOf(key), page: carried });
  }

  /** The id of the tail page new records of this write may go to, when it has room. */
  private openTail(staged: boolean, next: number): number | null {
    const tail = this.tail;
    if (!tail || tail.staged !== staged) return null;
    const info = this.store.dir.get(tail.id);
    const usable = info !== undefined && info.n < this.recordsPerPage && (staged ? info.g === next && !info.c : info.e === undefined);
    return usable ? tail.id : null;
  }

  private pageOf(fetched: Map<number, FetchedPage<R>>, id: number): FetchedPage<R>['page'] {
    const page = fetched.get(id);
    if (!page) throw new Error(`page ${id} of the directory is missing from IndexedDB`);
    return page.page;
  }

  /** The page's content without the records whose keys `removed` says. */
  private without(fetched: Map<number, FetchedPage<R>>, id: number, removed: (key: KeyId) => boolean): PageContent<R> {
    const content = this.store.contentOf(this.pageOf(fetched, id));
    const ids = content.keys.map((key) => this.idOf(key));
    return this.keep(content, (j) => !removed(ids[j] as KeyId));
  }

  private keep(content: PageContent<R>, keep: (j: number) => boolean): PageContent<R> {
    const indices = content.records.map((_, j) => j).filter(keep);
    if (indices.length === content.records.length) return content;
    return {
      records: indices.map((j) => content.records[j] as R),
      keys: indices.map((j) => content.keys[j] as PrimaryKey),
      scores: content.scores.map((scores) => indices.map((j) => scores[j] as number)),
    };
  }

  private append(content: PageContent<R>, rows: readonly ScoredRow<R>[], from: number, to: number, plan: PagePlan<R>, page: number): void {
    for (let i = from; i < to; i++) {
      const row = rows[i] as ScoredRow<R>;
      content.records.push(row.record);
      content.keys.push(row.key);
      row.scores.forEach((score, index) => (content.scores[index] as number[]).push(score));
      plan.keys.push({ key: row.id, page });
    }
  }

  private idOf(key: PrimaryKey): KeyId {
    return keyId(key);
  }
}
