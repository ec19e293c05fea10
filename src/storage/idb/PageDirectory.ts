import type { Interval } from '../../core/Interval';
import { isVisibleAt, type PageInfo, type StoredPageMeta } from './pages';

/**
 * Every page of the table, described in memory: which generations see it
 * and its score bounds per index. Loaded once on open (one `getAll` of the
 * small `dir` store) and kept up to date by the table's writes, which are
 * the only writes (one writer per database), each applied once its
 * transaction has committed. Reads choose their pages here.
 */
export class PageDirectory {
  private readonly pages = new Map<number, PageInfo>();
  private lastId = 0;

  /** A directory of the stored descriptions, by page id. */
  constructor(entries: Iterable<readonly [number, StoredPageMeta]> = []) {
    for (const [id, meta] of entries) this.set({ ...meta, id, v: 0 });
  }

  /** A fresh page id. */
  newId(): number {
    return ++this.lastId;
  }

  get(id: number): PageInfo | undefined {
    return this.pages.get(id);
  }

  /** Adds or replaces a page's description. */
  set(info: PageInfo): void {
    this.pages.set(info.id, info);
    if (info.id > this.lastId) this.lastId = info.id;
  }

  delete(id: number): void {
    this.pages.delete(id);
  }

  clear(): void {
    this.pages.clear();
  }

  /** Every page. */
  all(): IterableIterator<PageInfo> {
    return this.pages.values();
  }

  /** The pages of the state of `generation`. */
  *visibleAt(generation: number): Generator<PageInfo> {
    for (const page of this.pages.values()) if (isVisibleAt(page, generation)) yield page;
  }

  /**
   * The pages of the state of `generation` whose bounds in index `position`
   * meet one of the intervals, lowest bound first.
   */
  overlapping(position: number, intervals: readonly Interval[], generation: number): PageInfo[] {
    const wanted = intervals.filter((interval) => !interval.isEmpty);
    const found: PageInfo[] = [];
    if (wanted.length === 0) return found;
    for (const page of this.pages.values()) {
      if (!isVisibleAt(page, generation)) continue;
      const lo = page.lo[position] as number;
      const hi = page.hi[position] as number;
      if (wanted.some((interval) => lo < interval.lt && hi >= interval.ge)) found.push(page);
    }
    return found.sort((a, b) => (a.lo[position] as number) - (b.lo[position] as number));
  }

  /** The number of records in the state of `generation`. */
  recordsAt(generation: number): number {
    let count = 0;
    for (const page of this.visibleAt(generation)) count += page.n;
    return count;
  }
}
