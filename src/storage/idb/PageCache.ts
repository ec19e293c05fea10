import type { StoredPage } from './pages';

/**
 * Pages kept in memory as IndexedDB returned them (fresh objects nobody
 * else holds), up to `limit` records: the table's in-memory copy. A page's
 * records are never changed in place; a page rewritten in IndexedDB is
 * dropped from here, so what is cached is always what is stored.
 */
export class PageCache<R> {
  private readonly pages = new Map<number, StoredPage<R>>();
  private held = 0;

  /** @param limit the most records held (`memoryRecords`). */
  constructor(readonly limit: number) {}

  /** Records held. */
  get records(): number {
    return this.held;
  }

  get(id: number): StoredPage<R> | undefined {
    return this.pages.get(id);
  }

  has(id: number): boolean {
    return this.pages.has(id);
  }

  /** Whether a page of `records` records would fit. */
  fits(records: number): boolean {
    return this.held + records <= this.limit;
  }

  /** Keeps a page, when it fits. Resolves with whether it is kept. */
  add(id: number, page: StoredPage<R>): boolean {
    if (this.pages.has(id)) return true;
    if (!this.fits(page.r.length)) return false;
    this.pages.set(id, page);
    this.held += page.r.length;
    return true;
  }

  delete(id: number): void {
    const page = this.pages.get(id);
    if (!page) return;
    this.pages.delete(id);
    this.held -= page.r.length;
  }

  clear(): void {
    this.pages.clear();
    this.held = 0;
  }
}
