import type { Interval } from '../../core/Interval';
import type { StorageRecordsSpec } from '../../core/StorageRecordsSpec';
import { BatchIterator } from '../../core/asyncIterators';
import { EventLoopTurns } from '../../core/yieldWhenBusy';
import type { PageInfo } from './pages';
import type { FetchedPage, PageStore } from './PageStore';

/** How one read fetches its pages. */
export interface PageRead {
  readonly store: PageStore<unknown>;
  /** The position of the spec's index in `indexNames`. */
  readonly position: number;
  /** The generation whose state is read. */
  readonly generation: number;
  /** Records of the first batch of pages fetched together; later batches grow fourfold, up to 16 times this. */
  readonly batchRecords: number;
  /** The caller will not change the records: records of the in-memory copy are handed out as they are, and pages read from IndexedDB join the copy. */
  readonly shared: boolean;
  /** Told when each IndexedDB transaction of the read starts and ends (writes step aside meanwhile). */
  readonly track: { started(): void; ended(): void };
  readonly operation: string;
}

/** Pages of the interval in batches: the pages of each batch fetched together, the next fetched while this one is consumed. */
function batches(pages: readonly PageInfo[], first: number): PageInfo[][] {
  const result: PageInfo[][] = [];
  let size = first;
  let batch: PageInfo[] = [];
  let records = 0;
  for (const page of pages) {
    batch.push(page);
    records += page.n;
    if (records >= size) {
      result.push(batch);
      batch = [];
      records = 0;
      size = Math.min(size * 4, first * 16);
    }
  }
  if (batch.length > 0) result.push(batch);
  return result;
}

/** The page's records whose score lies in one of the intervals and that pass the recheck. */
function matching<R>(
  fetched: FetchedPage<R>,
  position: number,
  intervals: readonly Interval[],
  recheck: ((record: R) => boolean) | undefined,
): R[] {
  const { r: records, s } = fetched.page;
  const scores = s[position] as Float64Array;
  const found: R[] = [];
  const single = intervals.length === 1 ? intervals[0] : undefined;
  for (let j = 0; j < records.length; j++) {
    const score = scores[j] as number;
    const inside = single ? single.ge <= score && score < single.lt : intervals.some((interval) => interval.contains(score));
    if (inside && (!recheck || recheck(records[j] as R))) found.push(records[j] as R);
  }
  return found;
}

/** Reads step aside by their own probe: the background work's, queued behind a read's message, must not delay the read. */
const turns = new EventLoopTurns();

/**
 * The records of `spec` in the state of `read.generation`, one array per
 * page: the pages whose bounds meet the intervals, from the in-memory copy
 * when it holds them (copied, one `structuredClone` per page, unless
 * `shared`), otherwise from IndexedDB in batches of pages, each batch one
 * short read-only transaction. Steps aside for the event loop when a read
 * from memory holds it too long.
 */
export async function* readPages<R>(spec: StorageRecordsSpec<R>, read: PageRead): AsyncGenerator<R[]> {
  const store = read.store as PageStore<R>;
  const intervals = spec.intervals.filter((interval) => !interval.isEmpty);
  const pages = store.dir.overlapping(read.position, intervals, read.generation);
  const start = turns.yieldWhenBusy(0);
  if (start) await start;
  const fetchBatch = (batch: PageInfo[]) => {
    const promise = store.fetch(
      batch.map((page) => page.id),
      read.operation,
      read.shared,
      read.track,
    );
    // A batch fetched ahead that the caller never asks for must not become an unhandled rejection.
    promise.catch(() => undefined);
    return promise;
  };
  const planned = batches(pages, read.batchRecords);
  let pending = planned.length > 0 ? fetchBatch(planned[0] as PageInfo[]) : null;
  for (let i = 0; pending; i++) {
    const fetched = await pending;
    const next = planned[i + 1];
    pending = next ? fetchBatch(next) : null;
    for (const page of planned[i] as PageInfo[]) {
      const found = fetched.get(page.id);
      if (!found) continue;
      const records = matching(found, read.position, intervals, spec.recheck);
      if (records.length === 0) continue;
      yield found.cached && !read.shared ? structuredClone(records) : records;
      const pause = turns.yieldWhenBusy();
      if (pause) await pause;
    }
  }
}

/**
 * The records of the pages `open()` yields, one by one (a hand-written
 * iterator, see `BatchIterator`): opened on the first `next()`, and `end`
 * called once when the iteration ends — done, failed or left early.
 */
export function recordsOfPages<R>(open: () => AsyncGenerator<R[]>, end: () => void): AsyncIterableIterator<R, undefined> {
  let pages: AsyncGenerator<R[]> | null = null;
  let ended = false;
  const once = () => {
    if (ended) return;
    ended = true;
    end();
  };
  return new BatchIterator<R>([], false, {
    next: async () => {
      try {
        pages ??= open();
        const step = await pages.next();
        if (step.done) once();
        return step.done ? { records: [], done: true } : { records: step.value, done: false };
      } catch (error) {
        once();
        throw error;
      }
    },
    close: async () => {
      try {
        await pages?.return(undefined);
      } finally {
        once();
      }
    },
  });
}
