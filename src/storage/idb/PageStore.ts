import type { StorageError } from '../../core/errors';
import { describeKey, type PrimaryKey } from '../../core/keys';
import type { RecordScorer } from '../../core/types';
import { blobHint } from './blobHint';
import { abortQuietly, requestResult } from './idbRequests';
import { keyId, type KeyDirectory, type KeyId } from './KeyDirectory';
import type { PageCache } from './PageCache';
import type { PageDirectory } from './PageDirectory';
import { metaOf, storedForms, type PageContent, type StoredPage, type StoredPageMeta } from './pages';
import { DIR, KEYS, PAGE_STORES, PAGES } from './schema';

/** Pages whose keys one transaction of the key directory's load reads (16,384 keys at 512 records a page). */
const KEY_PAGES_PER_STEP = 32;

/** What a `PageStore` works with: the table's connection and its ways of reporting errors. */
export interface PageStoreContext {
  /** Starts a transaction; throws `StorageError` when the connection is closed. */
  transaction(stores: string[], mode: IDBTransactionMode, operation: string): IDBTransaction;
  /** Resolves when the transaction commits; rejects with `StorageError` (its `DOMException` as `cause`). */
  completion(transaction: IDBTransaction, operation: string): Promise<void>;
  error(operation: string, message: string, cause?: unknown): StorageError;
}

/** A page fetched for a read or a write, and whether it came from the in-memory copy (then it must not be changed). */
export interface FetchedPage<R> {
  readonly page: StoredPage<R>;
  readonly cached: boolean;
}

/** The changes of one write transaction, applied to the directories once it has committed. */
export class PagePlan<R> {
  /** New and rewritten pages (with content) and pages whose generations change (without). */
  readonly puts = new Map<number, { meta: StoredPageMeta; content?: PageContent<R> }>();
  readonly deletes = new Set<number>();
  /** Where keys move: `staged` ones in the scratch space, the others in the committed state. */
  readonly keys: { key: KeyId; page: number | undefined }[] = [];

  constructor(readonly staged: boolean) {}

  get isEmpty(): boolean {
    return this.puts.size === 0 && this.deletes.size === 0 && this.keys.length === 0;
  }
}

/**
 * Reads and writes pages: fetches them (from the in-memory copy when it
 * holds them, otherwise in one IndexedDB transaction), and writes a
 * `PagePlan` in one transaction over the `pages`, `dir` and `keys` stores,
 * updating the directories and the in-memory copy once it has committed.
 */
export class PageStore<R> {
  constructor(
    private readonly context: PageStoreContext,
    private readonly scorer: RecordScorer<R, unknown>,
    readonly dir: PageDirectory,
    readonly keys: KeyDirectory,
    readonly cache: PageCache<R>,
  ) {}

  /**
   * The pages with these ids that exist, from memory or IndexedDB. With
   * `cache`, pages read from IndexedDB are added to the in-memory copy (when
   * they fit and were not rewritten meanwhile); only callers that do not
   * change or hand out the records may ask for it.
   */
  async fetch(
    ids: readonly number[],
    operation: string,
    cache = false,
    track?: { started(): void; ended(): void },
  ): Promise<Map<number, FetchedPage<R>>> {
    const found = new Map<number, FetchedPage<R>>();
    const missing: number[] = [];
    for (const id of ids) {
      const page = this.cache.get(id);
      if (page) found.set(id, { page, cached: true });
      else if (!found.has(id)) missing.push(id);
    }
    if (missing.length === 0) return found;
    const versions = missing.map((id) => this.dir.get(id));
    const before = versions.map((info) => info?.v);
    const transaction = this.context.transaction([PAGES], 'readonly', operation);
    const store = transaction.objectStore(PAGES);
    const requests = missing.map((id) => store.get(id) as IDBRequest<StoredPage<R> | undefined>);
    track?.started();
    try {
      await this.context.completion(transaction, operation);
    } finally {
      track?.ended();
    }
    missing.forEach((id, i) => {
      const page = (requests[i] as IDBRequest<StoredPage<R> | undefined>).result;
      if (!page) return;
      const info = this.dir.get(id);
      const current = info !== undefined && info === versions[i] && info.v === before[i];
      found.set(id, { page, cached: cache && current && this.cache.add(id, page) });
    });
    return found;
  }

  /** A page's content, for a write to change (records shared with the fetched page, which stay unchanged). */
  contentOf(page: StoredPage<R>): PageContent<R> {
    return {
      records: [...page.r],
      keys: page.r.map((record) => this.scorer.primaryKey(record) as PrimaryKey),
      scores: page.s.map((scores) => Array.from(scores)),
    };
  }

  /**
   * Writes the plan in one transaction and, once it has committed, applies
   * it to the directories and drops rewritten pages from the in-memory copy.
   * Rejects with `StorageError` (a record that cannot be cloned is named).
   *
   * Pages with content are put one at a time: each after the previous
   * page's put has succeeded, in that request's callback (the transaction
   * is active again there). IndexedDB clones a page on the calling thread
   * when it is put, a millisecond or more for a full page; putting them all
   * in one task would keep the worker from answering reads for the sum of
   * those clones, while this way a read waits for one clone at most.
   */
  async write(plan: PagePlan<R>, operation: string): Promise<void> {
    if (plan.isEmpty) return;
    const transaction = this.context.transaction(PAGE_STORES, 'readwrite', operation);
    const pages = transaction.objectStore(PAGES);
    const dir = transaction.objectStore(DIR);
    const keys = transaction.objectStore(KEYS);
    const done = this.context.completion(transaction, operation);
    const written: [number, StoredPageMeta, boolean][] = [];
    const entries = [...plan.puts];
    let lastContent = entries.length - 1;
    while (lastContent >= 0 && !(entries[lastContent] as (typeof entries)[number])[1].content) lastContent--;
    // What a request refused at once (a record IndexedDB cannot clone, the quota), and the page being put then.
    let refused: { error: unknown; content: PageContent<R> | undefined } | undefined;
    const putFrom = (start: number): void => {
      let current: PageContent<R> | undefined;
      try {
        for (let i = start; i < entries.length; i++) {
          const [id, { meta: given, content }] = entries[i] as (typeof entries)[number];
          let meta = metaOf(given);
          let request: IDBRequest | undefined;
          if (content) {
            current = content;
            const forms = storedForms(content, given);
            meta = forms.meta;
            request = pages.put(forms.page, id);
            current = undefined;
            keys.put(storedKeys(content.keys), id);
          }
          dir.put(meta, id);
          written.push([id, meta, content !== undefined]);
          if (request && i < lastContent) {
            request.addEventListener('success', () => putFrom(i + 1));
            return;
          }
        }
        for (const id of plan.deletes) {
          pages.delete(id);
          dir.delete(id);
          keys.delete(id);
        }
      } catch (error) {
        // Nothing of the plan is written.
        refused = { error, content: current };
        abortQuietly(transaction);
      }
    };
    putFrom(0);
    try {
      await done;
    } catch (error) {
      if (refused) {
        const { error: cause, content } = refused;
        if (content && cause instanceof DOMException && cause.name === 'DataCloneError') throw this.cloneError(content, operation, cause);
        throw this.context.error(operation, `cannot write pages: ${String(cause)}`, cause);
      }
      const hint = blobHint(recordsOf(plan));
      if (!hint) throw error;
      const cause = (error as StorageError).cause;
      throw this.context.error(operation, `the IndexedDB transaction failed: ${String(cause)}${hint}`, cause);
    }
    this.apply(plan, written);
  }

  /** Deletes pages in one transaction (rollback, cleanup), then from the directory and the in-memory copy. */
  async deletePages(ids: readonly number[], operation: string): Promise<void> {
    const plan = new PagePlan<R>(false);
    for (const id of ids) plan.deletes.add(id);
    await this.write(plan, operation);
  }

  private apply(plan: PagePlan<R>, written: readonly [number, StoredPageMeta, boolean][]): void {
    for (const [id, meta, rewritten] of written) {
      const previous = this.dir.get(id);
      this.dir.set({ ...meta, id, v: (previous?.v ?? 0) + (rewritten ? 1 : 0) });
      if (rewritten) this.cache.delete(id);
    }
    for (const id of plan.deletes) {
      this.dir.delete(id);
      this.cache.delete(id);
    }
    for (const { key, page } of plan.keys) {
      if (plan.staged) this.keys.setStaged(key, page);
      else this.keys.setCommitted(key, page);
    }
  }

  /** The error for a page IndexedDB could not clone, naming the first record that cannot be cloned. */
  private cloneError(content: PageContent<R>, operation: string, cause: unknown): StorageError {
    const index = content.records.findIndex((record) => {
      try {
        structuredClone(record);
        return false;
      } catch {
        return true;
      }
    });
    const key = index >= 0 ? describeKey(content.keys[index]) : 'unknown';
    return this.context.error(operation, `the record with primary key ${key} cannot be stored: ${String(cause)}`, cause);
  }

  /**
   * Loads the key directory of the pages visible at `generation`, a few
   * pages per read-only transaction, awaiting `between()` before each but
   * the first (to let reads go first: one big transaction would hold up the
   * first read after opening, which IndexedDB serves after it).
   */
  async loadKeys(generation: number, operation: string, between: () => Promise<void> = async () => undefined): Promise<void> {
    this.keys.clear();
    const ids = [...this.dir.visibleAt(generation)].map((page) => page.id);
    for (let start = 0; start < ids.length; start += KEY_PAGES_PER_STEP) {
      if (start > 0) await between();
      const chunk = ids.slice(start, start + KEY_PAGES_PER_STEP);
      const transaction = this.context.transaction([KEYS], 'readonly', operation);
      const store = transaction.objectStore(KEYS);
      const requests = chunk.map((id) => store.get(id));
      await this.context.completion(transaction, operation);
      chunk.forEach((id, i) => {
        const list = requests[i]?.result as Float64Array | PrimaryKey[] | undefined;
        if (list instanceof Float64Array) for (const key of list) this.keys.setCommitted(key, id);
        else if (list) for (const key of list) this.keys.setCommitted(keyId(key), id);
      });
    }
  }

  /** The stored descriptions of every page, by id. */
  static async loadDirectory(transaction: IDBTransaction): Promise<[number, StoredPageMeta][]> {
    const store = transaction.objectStore(DIR);
    const [ids, metas] = await Promise.all([requestResult(store.getAllKeys()), requestResult(store.getAll())]);
    return (ids as number[]).map((id, i) => [id, metas[i] as StoredPageMeta]);
  }
}

/** The records a plan writes. */
function* recordsOf<R>(plan: PagePlan<R>): Iterable<R> {
  for (const { content } of plan.puts.values()) if (content) yield* content.records;
}

/**
 * A page's keys as the `keys` store holds them: numbers as one
 * `Float64Array` (cloned and read back as one block, several times faster
 * to load than an array of numbers), other keys as an array.
 */
function storedKeys(keys: readonly PrimaryKey[]): Float64Array | readonly PrimaryKey[] {
  return keys.every((key) => typeof key === 'number') ? Float64Array.from(keys as number[]) : keys;
}
