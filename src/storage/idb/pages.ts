import type { PrimaryKey } from '../../core/keys';

/**
 * One page as the `pages` store holds it: up to `recordsPerPage` records and,
 * per index (in the order of `indexNames`), their scores (`s[i][j]` is the
 * score of `r[j]` in index `i`).
 */
export interface StoredPage<R> {
  r: R[];
  s: Float64Array[];
}

/**
 * A page's description as the `dir` store holds it. The page belongs to the
 * states of generations `g ≤ G < e` (`e` absent: forever); `c` marks a
 * *carried* page of the scratch space: a copy of a committed page, minus the
 * records the scratch space replaced or discarded, whose records are
 * therefore committed ones. `lo[i]`/`hi[i]` bound the page's scores in
 * index `i`.
 */
export interface StoredPageMeta {
  g: number;
  e?: number;
  c?: true;
  n: number;
  lo: number[];
  hi: number[];
}

/** A page's description in memory: `StoredPageMeta` with its id and a version bumped at each rewrite. */
export interface PageInfo extends StoredPageMeta {
  readonly id: number;
  /** Bumped whenever the page's records are rewritten in place (a page read before then must not be cached). */
  v: number;
}

/** A page's records, scores and keys, as a write builds or changes it. */
export interface PageContent<R> {
  readonly records: R[];
  readonly keys: PrimaryKey[];
  /** `scores[i][j]`: the score of `records[j]` in index `i`. */
  readonly scores: number[][];
}

/** Whether the page belongs to the state of `generation`. */
export function isVisibleAt(page: StoredPageMeta, generation: number): boolean {
  return page.g <= generation && (page.e === undefined || page.e > generation);
}

/** The stored forms of a page built from `content`, with its generations. */
export function storedForms<R>(
  content: PageContent<R>,
  generations: { g: number; e?: number | undefined; c?: boolean | undefined },
): { page: StoredPage<R>; meta: StoredPageMeta } {
  const lo: number[] = [];
  const hi: number[] = [];
  const s = content.scores.map((scores, i) => {
    let low = Infinity;
    let high = -Infinity;
    for (const score of scores) {
      if (score < low) low = score;
      if (score > high) high = score;
    }
    lo[i] = low;
    hi[i] = high;
    return Float64Array.from(scores);
  });
  const meta: StoredPageMeta = { g: generations.g, n: content.records.length, lo, hi };
  if (generations.e !== undefined) meta.e = generations.e;
  if (generations.c) meta.c = true;
  return { page: { r: content.records, s }, meta };
}

/** The description to store for `info` (without its in-memory fields). */
export function metaOf(info: StoredPageMeta): StoredPageMeta {
  const meta: StoredPageMeta = { g: info.g, n: info.n, lo: info.lo, hi: info.hi };
  if (info.e !== undefined) meta.e = info.e;
  if (info.c) meta.c = true;
  return meta;
}
