import { wrap, type Remote } from 'comlink';
import { connectCachedTable } from 'tablecache-web/worker';
import type { BenchRecord } from './data';
import type { BenchApi } from './bench.worker';
import { runBigFigures } from './bigFigures';
import { runFreshness } from './freshness';
import { figure, longTasksUnavailable, ms, percentile, perSecond, unavailableFigure, type Figure } from './stats';

/** Sizes of a full run and of a `--quick` smoke run. */
const sizes = {
  full: {
    runs: 5,
    ranges: [10_000, 50_000],
    ingest: 50_000,
    commit: [1_000, 100_000],
    stallWindow: 20_000,
    adjust: 100_000,
    delivery: 10_000,
    samples: 40,
  },
  quick: {
    runs: 2,
    ranges: [1_000, 5_000],
    ingest: 5_000,
    commit: [100, 2_000],
    stallWindow: 2_000,
    adjust: 5_000,
    delivery: 1_000,
    samples: 10,
  },
};

async function count(records: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of records) n++;
  return n;
}

/** The page's used JS heap, in MB (Chromium's `performance.memory`, rounded by the browser). */
function pageHeap(): string {
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return memory ? `${Math.round(memory.usedJSHeapSize / 1e6)} MB` : 'unknown';
}

const ratios = (a: number[], b: number[]) => a.map((value, i) => value / (b[i] as number));
const medianOf = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1] as number;

/** Runs every figure; `log` reports progress. */
async function runBenchmarks(options: {
  quick: boolean;
  apiUrl: string;
  log: (line: string) => void;
  /** Figure groups or figure names to run (e.g. `['readStall', 'adjust.bigVsFetch']`); all when absent. */
  only?: string[];
  /** The used heap of the worker named `name` after a full garbage collection, in bytes (the runner asks CDP); absent outside Chromium. */
  workerHeap?: ((name: string) => Promise<number>) | undefined;
  /** Runs of each big-table figure, instead of the size's own (3 in a full run). */
  bigRuns?: number | undefined;
  /** For `mainThread`: every other UI read asks for batches of this many records (an A/B against the default). */
  compareBatch?: number | undefined;
  /** Changes 1% of the backend's readings (the runner updates its database); resolves with how many. */
  changeReadings: (salt: number) => Promise<number>;
}): Promise<Figure[]> {
  const size = options.quick ? sizes.quick : sizes.full;
  const worker: Remote<BenchApi> = wrap(new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' }));
  const figures: Figure[] = [];
  // Each figure is logged as it is measured too, so that a run cut short still says what it measured.
  const keep = figures.push.bind(figures);
  figures.push = (...added: Figure[]) => {
    for (const f of added)
      options.log(
        `${f.name}${f.case ? ` [${f.case}]` : ''}: ${f.ratio.median.toFixed(2)} (${f.ratio.min.toFixed(2)}–${f.ratio.max.toFixed(2)}); ${Object.entries(
          f.absolute,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    return keep(...added);
  };
  const wanted = (...names: string[]) => !options.only || names.some((name) => options.only!.includes(name));

  if (wanted('rangeRead', 'rangeRead.vsRawGetAll', 'rangeRead.vsDexie')) {
    options.log('range reads');
    const reads = await worker.rangeRead(size.ranges, size.runs);
    for (const n of size.ranges) {
      const { library, fromIdb, raw, dexie } = reads[n]!;
      const label = `${n / 1000}k`;
      const absolute = {
        library: ms(medianOf(library)),
        raw: ms(medianOf(raw)),
        dexie: ms(medianOf(dexie)),
        throughput: perSecond(n, medianOf(library)),
        // The same read with the in-memory copy off, for context: what reading IndexedDB itself costs the library.
        'memoryRecords 0': `${ms(medianOf(fromIdb))} (÷ raw ${medianOf(ratios(fromIdb, raw)).toFixed(2)}, ÷ Dexie ${medianOf(ratios(fromIdb, dexie)).toFixed(2)})`,
      };
      figures.push(
        figure('rangeRead.vsRawGetAll', 'IdbStorageTable.getRecords ÷ raw index.getAll', 1.25, ratios(library, raw), absolute, label),
      );
      figures.push(
        figure('rangeRead.vsDexie', 'IdbStorageTable.getRecords ÷ Dexie between().toArray()', 1.0, ratios(library, dexie), absolute, label),
      );
    }
  }

  if (wanted('ingest', 'ingest.vsRawPut')) {
    options.log('ingest');
    const ingest = await worker.ingest(size.ingest, size.runs);
    figures.push(
      figure('ingest.vsRawPut', `CachedTable.load of ${size.ingest} ÷ raw batched put`, 1.5, ratios(ingest.library, ingest.raw), {
        library: ms(medianOf(ingest.library)),
        raw: ms(medianOf(ingest.raw)),
        throughput: perSecond(size.ingest, medianOf(ingest.library)),
      }),
    );
  }

  if (wanted('commit', 'commit.ratio100kVs1k')) {
    options.log('commit');
    const [small, large] = size.commit as [number, number];
    const commit = await worker.commit(small, large, size.runs);
    figures.push(
      figure('commit.ratio100kVs1k', `scratchMerge with ${large} staged ÷ with ${small}`, 2, ratios(commit.large, commit.small), {
        [`merge ${small}`]: ms(medianOf(commit.small)),
        [`merge ${large}`]: ms(medianOf(commit.large)),
      }),
    );
  }

  if (wanted('readStall', 'readStall.p95DuringAdjustVsIdle')) {
    options.log('read stall');
    const stallRatios: number[] = [];
    const stallAbsolute: Record<string, string> = {};
    for (let run = 0; run < Math.max(2, size.runs - 2); run++) {
      const { idle, during } = await worker.readStall(size.stallWindow, size.adjust, size.samples);
      stallRatios.push(percentile(during, 95) / percentile(idle, 95));
      stallAbsolute['p95 idle'] = ms(percentile(idle, 95));
      stallAbsolute['p95 during adjust'] = ms(percentile(during, 95));
      stallAbsolute['reads during adjust'] = String(during.length);
    }
    figures.push(
      figure(
        'readStall.p95DuringAdjustVsIdle',
        `p95 of a covered 100-record read during a ${size.adjust}-record adjust ÷ idle`,
        2,
        stallRatios,
        stallAbsolute,
      ),
    );
  }

  if (wanted('delivery', 'delivery.vsInWorker', 'mainThread', 'mainThread.longTasksDuringAdjust')) {
    options.log('delivery');
    const port = await worker.exposeForDelivery(size.delivery);
    const client = connectCachedTable<BenchRecord, { indexName: 'ts'; ge: number; lt: number }>(port);
    await client.loaded();
    const start = Date.UTC(2026, 10, 1);
    const spec = { indexName: 'ts' as const, ge: start, lt: start + size.delivery * 1000 };
    const ui: number[] = [];
    const inWorker: number[] = [];
    // Untimed rounds of each first: the first reads on either side pay for compiling the path, which says nothing
    // about delivering records. Measured with `--only delivery`, where the page starts cold: after three rounds the
    // UI thread's reads still took 32–41 ms (ratio 1.06–2.71 over three runs), after ten 14–18 ms (1.08–1.35), as
    // in full runs. The first read's time is printed beside the figure.
    let coldRead = 0;
    for (let round = 0; round < 10; round++) {
      const started = performance.now();
      await count(client.getRecords(spec));
      if (round === 0) coldRead = performance.now() - started;
      await worker.readInWorker(size.delivery);
    }
    for (let run = 0; run < size.runs; run++) {
      const started = performance.now();
      const n = await count(client.getRecords(spec));
      ui.push(performance.now() - started);
      if (n !== size.delivery) throw new Error(`client read ${n} records`);
      inWorker.push(await worker.readInWorker(size.delivery));
    }
    figures.push(
      figure(
        'delivery.vsInWorker',
        `client read of ${size.delivery} on the UI thread ÷ the same read in the worker`,
        1.5,
        ratios(ui, inWorker),
        {
          'UI thread': ms(medianOf(ui)),
          'in worker': ms(medianOf(inWorker)),
          'first UI read, untimed': ms(coldRead),
        },
      ),
    );

    const noLongTasks = longTasksUnavailable();
    if (noLongTasks) {
      figures.push(
        unavailableFigure(
          'mainThread.longTasksDuringAdjust',
          `main-thread long tasks (≥ 50 ms) while the worker adjusts ${size.adjust} records and the UI reads`,
          0,
          noLongTasks,
        ),
      );
    } else {
      options.log('main-thread long tasks');
      const longTasks: PerformanceEntry[] = [];
      const observer = new PerformanceObserver((list) => longTasks.push(...list.getEntries()));
      observer.observe({ type: 'longtask', buffered: false });
      let adjusting = true;
      const adjust = worker.adjustDelivery(size.delivery, size.adjust).finally(() => (adjusting = false));
      let uiReads = 0;
      // With --compare-batch N, every other read asks for batches of N records: the page's long tasks are then told
      // apart by the batch size of the read they started in (an A/B of the same adjust, for item 3 of issue 14).
      const compared = options.compareBatch;
      const readWindows: { from: number; to: number; batch: 'default' | 'compared' }[] = [];
      while (adjusting) {
        const batch = compared && uiReads % 2 ? 'compared' : 'default';
        const from = performance.now();
        await count(
          client.getRecords({ indexName: 'ts', ge: start, lt: start + 1000 * 1000 }, batch === 'compared' ? { batchSize: compared } : {}),
        );
        readWindows.push({ from, to: performance.now(), batch });
        uiReads++;
      }
      const adjustMs = await adjust;
      await new Promise((resolve) => setTimeout(resolve, 100));
      observer.disconnect();
      const comparison: Record<string, string> = {};
      if (compared) {
        for (const batch of ['default', 'compared'] as const) {
          const windows = readWindows.filter((window) => window.batch === batch);
          const tasks = longTasks.filter((task) => windows.some((window) => task.startTime >= window.from && task.startTime < window.to));
          const label = batch === 'default' ? 'reads at the default batch size' : `reads at batchSize ${compared}`;
          comparison[label] =
            `${windows.length} reads, median ${ms(medianOf(windows.map((window) => window.to - window.from)))}, ${tasks.length} long tasks (${tasks.map((task) => Math.round(task.duration)).join(', ')} ms)`;
        }
      }
      figures.push(
        figure(
          'mainThread.longTasksDuringAdjust',
          `main-thread long tasks (≥ 50 ms) while the worker adjusts ${size.adjust} records and the UI reads`,
          0,
          [longTasks.length],
          {
            adjust: ms(adjustMs),
            'UI reads meanwhile': String(uiReads),
            'longest task': ms(Math.max(0, ...longTasks.map((task) => task.duration))),
            // Chromium's (coarse) figure: what the page still holds after reading meanwhile (issue 14 item 3).
            'page heap after': pageHeap(),
            ...comparison,
          },
        ),
      );
    }
    client.close();
  }

  if (wanted('hitVsMiss', 'partialRead', 'partialRead.vsMiss')) {
    options.log('backend');
    const backend = await worker.vsBackend(options.apiUrl, size.runs, options.quick);
    figures.push(
      figure(
        'hitVsMiss',
        `covered read of ${backend.hitRecords} ÷ the same read from the reference backend`,
        0.25,
        ratios(backend.hit, backend.miss),
        {
          hit: ms(medianOf(backend.hit)),
          'raw getAll of the hit': ms(medianOf(backend.rawHit)),
          miss: ms(medianOf(backend.miss)),
        },
      ),
    );
    figures.push(
      figure(
        'partialRead.vsMiss',
        `read of ${backend.partialRecords}, 90% inside the cached window ÷ the same read as a full miss`,
        0.3,
        ratios(backend.partial, backend.fullMiss),
        {
          partial: ms(medianOf(backend.partial)),
          miss: ms(medianOf(backend.fullMiss)),
        },
      ),
    );
  }
  await runFreshness({ ...options, wanted }, figures);
  await runBigFigures({ ...options, worker, wanted }, figures);
  return figures;
}

declare global {
  interface Window {
    runBenchmarks: typeof runBenchmarks;
  }
}
window.runBenchmarks = runBenchmarks;
