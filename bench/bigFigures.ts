// The page's side of the big-table figures (issue 14): adjust.bigVsFetch, adjust.bigVsRawPut, the 200k cases of
// readStall and mainThread, refresh.unchangedVsFetch, warmStart.firstRead, rangeRead.bigVsRawGetAll and
// memory.bytesPerRecord. The worker's side is bigTables.ts.
import { proxy, wrap, type Remote } from 'comlink';
import { connectCachedTable } from 'tablecache-web/worker';
import type { Reading } from '../demo/ui/types';
import type { TimeSpec } from './bigTables';
import type { BenchApi } from './bench.worker';
import { figure, longTasksUnavailable, ms, percentile, perSecond, unavailableFigure, type Figure } from './stats';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Sizes of the big figures in a full run and in a `--quick` one (whose backend holds 20,000 readings, not 200,000). */
export const bigSizes = {
  full: {
    days: { small: 3, big: 30, view: 1 },
    runs: 3,
    rangeTotal: 1_000_000,
    rangeSize: 10_000,
    rangeRuns: 5,
    rangeMemoryRecords: undefined,
    memory: 50_000,
    memoryRuns: 3,
    // The read stall's idle reads: from 40, their p95 moved between 1.6 and 3.6 ms from run to run.
    idleSamples: 200,
  },
  quick: {
    days: { small: 0.3, big: 3, view: 0.1 },
    runs: 1,
    rangeTotal: 5_000,
    rangeSize: 500,
    rangeRuns: 2,
    rangeMemoryRecords: 1_000,
    memory: 2_000,
    memoryRuns: 1,
    idleSamples: 10,
  },
};

export interface BigContext {
  readonly quick: boolean;
  readonly apiUrl: string;
  readonly log: (line: string) => void;
  readonly wanted: (...names: string[]) => boolean;
  /** Runs of each figure, instead of the size's own. */
  readonly bigRuns?: number | undefined;
  /** The bench worker, shared with the other figures. */
  readonly worker: Remote<BenchApi>;
  /** The used heap of the worker named `name`, in bytes, after a full garbage collection (CDP, from the runner); absent outside Chromium. */
  readonly workerHeap?: ((name: string) => Promise<number>) | undefined;
  /** Changes 1% of the backend's readings (a new value for every 100th id, shifted by `salt`); resolves with how many. */
  readonly changeReadings: (salt: number) => Promise<number>;
}

const ratios = (a: number[], b: number[]) => a.map((value, i) => value / (b[i] as number));
const medianOf = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1] as number;
const seconds = (value: number) => `${(value / 1000).toFixed(2)} s`;

function freshWorker(name: string): { api: Remote<BenchApi>; terminate: () => void } {
  const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name });
  return { api: wrap<BenchApi>(worker), terminate: () => worker.terminate() };
}

/** Counts the page's long tasks from now until `stop()` (none where the engine has no Long Tasks API: see `longTasksUnavailable`). */
function watchLongTasks(): { stop: () => Promise<PerformanceEntry[]> } {
  const tasks: PerformanceEntry[] = [];
  if (longTasksUnavailable()) return { stop: async () => tasks };
  const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries()));
  observer.observe({ type: 'longtask', buffered: false });
  return {
    async stop() {
      // Entries of a task that just ended are delivered in a later one.
      await new Promise((resolve) => setTimeout(resolve, 100));
      observer.disconnect();
      return tasks;
    },
  };
}

/** A client of the prepared big table, subscribed to `view` as the demo's page is; resolves once the first result came. */
async function subscribeView(port: MessagePort, view: TimeSpec) {
  const client = connectCachedTable<Reading, TimeSpec>(port);
  let updates = 0;
  let first!: () => void;
  const delivered = new Promise<void>((resolve) => (first = resolve));
  const unsubscribe = client.subscribe(view, (update) => {
    if (update.error) throw update.error;
    updates++;
    first();
  });
  await delivered;
  return {
    client,
    get updates() {
      return updates;
    },
    async close() {
      unsubscribe();
      await client.close();
    },
  };
}

export async function runBigFigures(context: BigContext, figures: Figure[]): Promise<void> {
  const sized = context.quick ? bigSizes.quick : bigSizes.full;
  const size = context.bigRuns ? { ...sized, runs: context.bigRuns, rangeRuns: context.bigRuns, memoryRuns: context.bigRuns } : sized;
  const { worker, apiUrl, log, wanted } = context;
  // The reference backend's readings span the 30 days before it started; the demo's windows (3 and 30 days, open-ended)
  // and its view (the last day), as it asks for them. A quick run takes a tenth of each.
  const end = Date.now();
  const { days } = size;
  const window3: TimeSpec = { indexName: 'ts', ge: Math.round(end - days.small * DAY), lt: Infinity };
  const window30: TimeSpec = { indexName: 'ts', ge: Math.round(end - days.big * DAY), lt: Infinity };
  const added = { ge: window30.ge, lt: window3.ge };
  const view: TimeSpec = { indexName: 'ts', ge: Math.round(end - days.view * DAY), lt: Math.round(end + HOUR) };
  const viewWidth = view.lt - HOUR - view.ge;

  const adjustWanted = wanted('adjust', 'adjust.bigVsFetch', 'adjust.bigVsRawPut');
  const stallWanted = wanted('readStall', 'readStall.p95DuringAdjustVsIdle', 'mainThread', 'mainThread.longTasksDuringAdjust');
  const warmWanted = wanted('warmStart', 'warmStart.firstRead', 'refresh', 'refresh.unchangedVsFetch');
  let cleanAdjustMs: number[] = [];
  if (adjustWanted || stallWanted || warmWanted) {
    log("big adjusts: fetching the backend's readings once");
    const held = await worker.bigFetchReadings(apiUrl, { ge: window30.ge, lt: Infinity });
    log(`big adjusts: ${held} readings`);
  }

  if (adjustWanted) {
    const times = { rest: [] as number[], fetch: [] as number[], memory: [] as number[], rawPut: [] as number[] };
    let records = 0;
    let fetched = 0;
    const pageLongTasks: number[] = [];
    const adjust = async (source: 'rest' | 'memory') => {
      const subscription = await subscribeView(await worker.bigPrepare(apiUrl, source, window3), view);
      const longTasks = watchLongTasks();
      const result = await worker.bigAdjust(window30);
      pageLongTasks.push((await longTasks.stop()).length);
      await subscription.close();
      await worker.bigClose();
      records = result.records;
      return result.ms;
    };
    for (let run = 0; run < size.runs; run++) {
      log(`big adjusts: run ${run + 1} of ${size.runs}`);
      const fetch = async () => {
        const result = await worker.bigFetch(apiUrl, added);
        fetched = result.records;
        return result.ms;
      };
      const rawPut = async () => (await worker.bigRawPut(added)).ms;
      // The raw put runs last in the last run, so that its database (every reading, one per row) serves the warm start.
      if (run % 2) {
        times.fetch.push(await fetch());
        times.rest.push(await adjust('rest'));
        times.memory.push(await adjust('memory'));
        times.rawPut.push(await rawPut());
      } else {
        times.rest.push(await adjust('rest'));
        times.fetch.push(await fetch());
        times.memory.push(await adjust('memory'));
        times.rawPut.push(await rawPut());
      }
      if (records !== fetched) throw new Error(`the adjust loaded ${records} readings, the fetch ${fetched}`);
    }
    cleanAdjustMs = times.rest;
    figures.push(
      figure(
        'adjust.bigVsFetch',
        `adjust of ${records} readings (${days.small} → ${days.big} days) from the reference backend, the view subscribed ÷ fetching and parsing them`,
        1.5,
        ratios(times.rest, times.fetch),
        {
          adjust: seconds(medianOf(times.rest)),
          fetch: seconds(medianOf(times.fetch)),
          throughput: perSecond(records, medianOf(times.rest)),
          'page long tasks meanwhile': longTasksUnavailable() ? 'n/a (no Long Tasks API)' : pageLongTasks.join(', '),
        },
      ),
    );
    figures.push(
      figure(
        'adjust.bigVsRawPut',
        `the same adjust from an in-memory backend ÷ raw relaxed put of the ${records} readings, 1,000 per transaction`,
        0.2,
        ratios(times.memory, times.rawPut),
        {
          adjust: seconds(medianOf(times.memory)),
          'raw put': seconds(medianOf(times.rawPut)),
        },
      ),
    );
  }

  if (stallWanted) {
    // The 200,000-record adjust under reads: the page reads ~100-record parts of the 1-day view, one a frame (16 ms
    // apart, as a UI that pans would), and stays subscribed to it, while the worker adjusts 3 → 30 days from the
    // reference backend. (Read without pause, ~1,100 reads a second, the page's own garbage collection of what it
    // received made every long task of the first runs; with only the subscription there were none.)
    // Three runs, each its own idle baseline and adjust, as the other big figures: from one, the ratio moved between
    // 1.5 and 2.7 from run to run of the same code.
    let seed = 7;
    // About 100 of the view's readings (about 10 in a quick run).
    const width = Math.round(viewWidth / (context.quick ? 6 : 66));
    const nextFrame = () => new Promise((resolve) => setTimeout(resolve, 16));
    const runs: { idle: number[]; during: number[]; adjustMs: number; records: number; tasks: PerformanceEntry[] }[] = [];
    for (let run = 0; run < size.runs; run++) {
      log(`big adjust under reads from the page: run ${run + 1} of ${size.runs}`);
      const subscription = await subscribeView(await worker.bigPrepare(apiUrl, 'rest', window3), view);
      const read = async () => {
        seed = (seed * 16807) % 2147483647;
        const ge = view.ge + (seed % (viewWidth - width));
        const started = performance.now();
        let n = 0;
        for await (const _ of subscription.client.getRecords({ indexName: 'ts', ge, lt: ge + width })) n++;
        if (n === 0) throw new Error('a read of the view found nothing');
        // In a `--trace`, each read shows as a user timing, to line up with what the worker ran meanwhile.
        performance.measure('stall-read', { start: started, end: performance.now() });
        return performance.now() - started;
      };
      for (let i = 0; i < 5; i++) await read();
      const idle: number[] = [];
      for (let i = 0; i < size.idleSamples; i++) {
        idle.push(await read());
        await nextFrame();
      }
      const longTasks = watchLongTasks();
      let adjusting = true;
      const adjust = worker.bigAdjust(window30).finally(() => (adjusting = false));
      const during: number[] = [];
      while (adjusting) {
        during.push(await read());
        await nextFrame();
      }
      const { ms: adjustMs, records } = await adjust;
      const tasks = await longTasks.stop();
      await subscription.close();
      await worker.bigClose();
      runs.push({ idle, during, adjustMs, records, tasks });
    }
    const p95 = (samples: number[]) => percentile(samples, 95);
    const records = runs[0]?.records ?? 0;
    const adjustMs = medianOf(runs.map((run) => run.adjustMs));
    const tasks = runs.flatMap((run) => run.tasks);
    const underReads = {
      adjust: seconds(adjustMs),
      ...(cleanAdjustMs.length ? { 'the same adjust with no reads (adjust.bigVsFetch)': seconds(medianOf(cleanAdjustMs)) } : {}),
    };
    figures.push(
      figure(
        'readStall.p95DuringAdjustVsIdle',
        `p95 of a page read of ~100 readings, one a frame, during a ${records}-reading adjust from the backend ÷ idle`,
        2,
        runs.map((run) => p95(run.during) / p95(run.idle)),
        {
          'p95 idle': ms(medianOf(runs.map((run) => p95(run.idle)))),
          'p95 during adjust': ms(medianOf(runs.map((run) => p95(run.during)))),
          'p90 during adjust': ms(medianOf(runs.map((run) => percentile(run.during, 90)))),
          'p99 during adjust': ms(medianOf(runs.map((run) => percentile(run.during, 99)))),
          'reads during adjust': runs.map((run) => run.during.length).join(', '),
          ...underReads,
        },
        '200k',
      ),
    );
    const what = `main-thread long tasks (≥ 50 ms) while the worker adjusts ${records} readings and the page reads, one read a frame (all runs)`;
    const noLongTasks = longTasksUnavailable();
    figures.push(
      noLongTasks
        ? unavailableFigure('mainThread.longTasksDuringAdjust', what, 0, noLongTasks, '200k')
        : figure(
            'mainThread.longTasksDuringAdjust',
            what,
            0,
            [tasks.length],
            {
              ...underReads,
              'per run': runs.map((run) => run.tasks.length).join(', '),
              'longest task': ms(Math.max(0, ...tasks.map((task) => task.duration))),
            },
            '200k',
          ),
    );
  }

  if (warmWanted) {
    // The big table's database holds the 30-day window (from the last adjust) and the raw one every reading.
    if (!adjustWanted && !stallWanted) {
      await worker.bigPrepare(apiUrl, 'rest', window3);
      await worker.bigAdjust(window30);
      await worker.bigClose();
    }
    if (!adjustWanted) await worker.bigRawPut(added);
    const warm = { library: [] as number[], raw: [] as number[] };
    let info = '';
    for (let run = 0; run < size.runs; run++) {
      log(`warm start: run ${run + 1} of ${size.runs}`);
      const library = async () => {
        const fresh = freshWorker('bench-warm-start');
        try {
          const result = await fresh.api.warmStartLibrary(apiUrl, view);
          info = `${result.records} readings, stale ${result.stale}, refreshed ${result.refreshed}; last run ${result.phases}`;
          return result;
        } finally {
          fresh.terminate();
        }
      };
      const raw = async () => {
        const fresh = freshWorker('bench-warm-start-raw');
        try {
          return await fresh.api.warmStartRaw(view);
        } finally {
          fresh.terminate();
        }
      };
      const [a, b] = run % 2 ? [await raw(), await library()] : [await library(), await raw()];
      const [libraryResult, rawResult] = run % 2 ? [b, a] : [a, b];
      if (libraryResult.records !== rawResult.records)
        throw new Error(`warm start read ${libraryResult.records} readings, raw ${rawResult.records}`);
      warm.library.push(libraryResult.ms);
      warm.raw.push(rawResult.ms);
    }
    figures.push(
      figure(
        'warmStart.firstRead',
        `fresh worker: open + resume() + first read of the view (${days.view} day) ÷ open + raw getAll of the same rows`,
        1.0,
        ratios(warm.library, warm.raw),
        {
          library: ms(medianOf(warm.library)),
          raw: ms(medianOf(warm.raw)),
          read: info,
        },
      ),
    );

    const refresh = { library: [] as number[], fetch: [] as number[], fetchedAt: [] as number[] };
    let refreshInfo = '';
    let changed = 0;
    for (let run = 0; run < size.runs; run++) {
      log(`refresh: run ${run + 1} of ${size.runs}`);
      changed = await context.changeReadings(run);
      const result = await worker.refreshRun(apiUrl, view, run % 2 === 1);
      if (!result.refreshed) throw new Error('the first read after resume() did not refresh');
      refresh.library.push(result.library);
      refresh.fetch.push(result.fetch);
      refresh.fetchedAt.push(result.fetchedAt);
      log(`refresh: library ${ms(result.library)} (its fetch done at ${ms(result.fetchedAt)}), fetch ${ms(result.fetch)}`);
      refreshInfo = `${result.records} readings`;
    }
    figures.push(
      figure(
        'refresh.unchangedVsFetch',
        `after resume(), 1% of the backend changed: first read of the view (${days.view} day), refresh included ÷ fetching it`,
        1.5,
        ratios(refresh.library, refresh.fetch),
        {
          library: ms(medianOf(refresh.library)),
          fetch: ms(medianOf(refresh.fetch)),
          "the library's own fetch done at": ms(medianOf(refresh.fetchedAt)),
          read: `${refreshInfo}, ${changed} changed in the backend`,
        },
      ),
    );
  }

  if (wanted('rangeRead', 'rangeRead.bigVsRawGetAll')) {
    log(`range read from a ${size.rangeTotal}-record table (writing it takes a while)`);
    const times = await worker.rangeBig(
      size.rangeTotal,
      size.rangeSize,
      size.rangeRuns,
      size.rangeMemoryRecords,
      proxy((line: string) => log(line)),
    );
    figures.push(
      figure(
        'rangeRead.bigVsRawGetAll',
        `IdbStorageTable.getRecords of ${size.rangeSize} from a ${size.rangeTotal}-record table over memoryRecords ÷ raw getAll, one row per record`,
        0.5,
        ratios(times.library, times.raw),
        {
          library: ms(medianOf(times.library)),
          raw: ms(medianOf(times.raw)),
          [`writing ${size.rangeTotal}`]: `${seconds(times.writeLibrary)} (raw ${seconds(times.writeRaw)})`,
        },
      ),
    );
  }

  const memoryWhat = `worker heap per record held (${size.memory} records, after GC) ÷ the record's JSON length`;
  if (wanted('memory', 'memory.bytesPerRecord') && !context.workerHeap) {
    figures.push(
      unavailableFigure(
        'memory.bytesPerRecord',
        memoryWhat,
        3,
        "a worker's heap after a full GC is asked of Chromium's DevTools protocol (HeapProfiler, Runtime.getHeapUsage); this engine's driver has no equivalent",
      ),
    );
  } else if (wanted('memory', 'memory.bytesPerRecord')) {
    const workerHeap = context.workerHeap as (name: string) => Promise<number>;
    log('memory per record');
    const name = 'bench-memory';
    const fresh = freshWorker(name);
    const perRecord: number[] = [];
    const ratiosToJson: number[] = [];
    let jsonLength = 0;
    let readsFromMemory = false;
    try {
      for (let run = 0; run < size.memoryRuns; run++) {
        await fresh.api.memoryPrepare();
        const before = await workerHeap(name);
        ({ jsonLength, readsFromMemory } = await fresh.api.memoryFill(size.memory));
        const after = await workerHeap(name);
        await fresh.api.memoryClose();
        perRecord.push((after - before) / size.memory);
        ratiosToJson.push((after - before) / size.memory / jsonLength);
      }
    } finally {
      fresh.terminate();
    }
    figures.push(
      figure('memory.bytesPerRecord', memoryWhat, 3, ratiosToJson, {
        'heap per record': `${Math.round(medianOf(perRecord))} B`,
        'JSON per record': `${Math.round(jsonLength)} B`,
        'reads from a copy in memory': String(readsFromMemory),
      }),
    );
  }
}
