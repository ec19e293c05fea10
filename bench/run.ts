/**
 * `npm run bench [-- --engine chromium|firefox|webkit|all] [--quick] [--json PATH] [--only rangeRead,readStall,…] [--trace PATH] [--profile PATH] [--compare-batch N] [--big-runs N]`:
 * builds the bench page, starts the reference backend, runs every figure in
 * each engine asked for (default Chromium; one engine after the other, each
 * against baselines measured in itself), prints a table per engine and
 * writes the figures as JSON (default `bench/results.json`; with several
 * engines, one report per engine under `engines`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { allEngines, missingBinaries, type Engine } from '../browsers';
import { chromiumArgs, chromiumPath } from '../chromium';
import { startServer } from '../demo/server/startServer';
import type { Figure } from './stats';
import { runInDriver } from './runInDriver';
import { watchWorkerHeaps } from './workerHeap';
import { profileWorkers } from './workerProfiles';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? (args[onlyIndex + 1] ?? '').split(',').filter(Boolean) : undefined;
const jsonIndex = args.indexOf('--json');
const traceIndex = args.indexOf('--trace');
/** `--trace PATH`: a Chromium trace of the whole run (renderer and workers, GC and the workers' JavaScript samples included), for bench/longTaskTrace.ts. */
const tracePath = traceIndex >= 0 && args[traceIndex + 1] ? resolve(args[traceIndex + 1] as string) : undefined;
const profileIndex = args.indexOf('--profile');
/** `--profile PATH`: a CPU profile of the page over the whole run, as a `.cpuprofile` for DevTools, and one of each worker still running at its end (`PATH.<worker>.cpuprofile`). */
const profilePath = profileIndex >= 0 && args[profileIndex + 1] ? resolve(args[profileIndex + 1] as string) : undefined;
const compareIndex = args.indexOf('--compare-batch');
/** `--compare-batch N`: in `mainThread`, every other UI read asks for batches of N records, and the long tasks of each kind are counted apart. */
const compareBatch = compareIndex >= 0 ? Number(args[compareIndex + 1]) : undefined;
const bigRunsIndex = args.indexOf('--big-runs');
/** `--big-runs N`: runs of each big-table figure (default 3, 1 in a quick run). */
const bigRuns = bigRunsIndex >= 0 ? Number(args[bigRunsIndex + 1]) : undefined;
const engineIndex = args.indexOf('--engine');
/** `--engine chromium|firefox|webkit|all` (or a comma-separated list): where to run (default chromium). */
const engineArg = engineIndex >= 0 ? (args[engineIndex + 1] ?? '') : 'chromium';
const engines: Engine[] = engineArg === 'all' ? [...allEngines] : (engineArg.split(',') as Engine[]);
if (!engines.every((engine) => allEngines.includes(engine))) {
  throw new Error(`--engine takes ${allEngines.join(', ')} (or a list of them) or all; got "${engineArg}".`);
}
if ((tracePath || profilePath) && engines.some((engine) => engine !== 'chromium')) {
  throw new Error("--trace and --profile use Chromium's DevTools protocol: run them with --engine chromium.");
}
const jsonPath = resolve(jsonIndex >= 0 && args[jsonIndex + 1] ? (args[jsonIndex + 1] as string) : resolve(here, 'results.json'));

function formatRatio(figure: Figure): string {
  if (figure.unavailable) return 'n/a';
  const { median, min, max } = figure.ratio;
  return figure.name === 'mainThread.longTasksDuringAdjust' ? String(median) : `${median.toFixed(2)} (${min.toFixed(2)}–${max.toFixed(2)})`;
}

function printTable(figures: Figure[]): void {
  const rows = figures.map((figure) => [
    figure.case ? `${figure.name} [${figure.case}]` : figure.name,
    formatRatio(figure),
    `≤ ${figure.goal}`,
    figure.unavailable ? 'n/a' : figure.pass ? 'met' : 'MISSED',
    Object.entries(figure.absolute)
      .map(([name, value]) => `${name} ${value}`)
      .join(', '),
  ]);
  const header = ['figure', 'ratio: median (min–max)', 'goal', '', 'absolute, this machine'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(line(row));
  const missed = figures.filter((figure) => !figure.pass && !figure.unavailable);
  console.log(
    missed.length
      ? `\n${missed.length} goal(s) missed: ${missed.map((f) => f.name + (f.case ? ` [${f.case}]` : '')).join(', ')}`
      : '\nEvery goal met.',
  );
}

type Server = Awaited<ReturnType<typeof startServer>>;

/** The figures of one engine, as the JSON report holds them. */
interface EngineReport {
  engine: Engine;
  browser: string;
  seconds: number;
  figures: Figure[];
}

/** The options of `runBenchmarks` that are plain data, the same in every engine. */
const pageOptions = { quick, only, compareBatch, bigRuns };

/** Changes 1% of the backend's readings (refresh.unchangedVsFetch); resolves with how many. */
async function changeReadings(server: Server, salt: number): Promise<number> {
  const rows = await server.db.query(`update readings set value = value + 0.5 where id % 100 = $1 returning id`, [salt % 100]);
  // The first scan after an update pays Postgres's clean-up of the old row versions (hint bits, dead index entries):
  // done here, so that neither side of the figure (whichever runs first) measures the backend's housekeeping.
  await server.db.exec('vacuum readings');
  return rows.length;
}

/** Chromium through playwright-core, with its DevTools protocol for the worker heaps (and the trace and profile). */
async function runChromium(siteUrl: string, server: Server): Promise<{ figures: Figure[]; userAgent: string }> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs], headless: true });
  try {
    const page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') console.log(`[page ${message.type()}] ${message.text()}`);
    });
    page.on('pageerror', (error) => console.log(`[page error] ${error.message}`));
    await page.exposeFunction('benchLog', (line: string) => console.log(`… ${line}`));
    await page.exposeFunction('benchWorkerHeap', await watchWorkerHeaps(page));
    const workerProfiles = profilePath ? await profileWorkers(page, profilePath) : undefined;
    // refresh.unchangedVsFetch: the backend changes 1% of its readings (a new value, same time) before each run.
    await page.exposeFunction('benchChangeReadings', (salt: number) => changeReadings(server, salt));
    await page.goto(siteUrl);
    // Scripts as strings: tsx would wrap functions in helpers the page does not have.
    await page.waitForFunction("typeof window.runBenchmarks === 'function'");
    const profiler = profilePath ? await page.context().newCDPSession(page) : undefined;
    if (profiler) {
      await profiler.send('Profiler.enable');
      await profiler.send('Profiler.setSamplingInterval', { interval: 500 });
      await profiler.send('Profiler.start');
    }
    if (tracePath) {
      await browser.startTracing(page, {
        path: tracePath,
        categories: [
          'toplevel',
          'blink.user_timing',
          'devtools.timeline',
          'v8',
          'v8.execute',
          'blink_gc',
          'cppgc',
          'disabled-by-default-cppgc',
          'disabled-by-default-v8.gc',
          'disabled-by-default-v8.cpu_profiler',
        ],
      });
    }
    const figures = (await page.evaluate(
      `window.runBenchmarks({ ...${JSON.stringify(pageOptions)}, apiUrl: ${JSON.stringify(server.url)}, log: (line) => window.benchLog(line), workerHeap: (name) => window.benchWorkerHeap(name), changeReadings: (salt) => window.benchChangeReadings(salt) })`,
    )) as Figure[];
    if (profiler && profilePath) {
      const { profile } = await profiler.send('Profiler.stop');
      writeFileSync(profilePath, JSON.stringify(profile));
      console.log(`CPU profile of the page written to ${profilePath}.`);
      for (const file of (await workerProfiles?.stop()) ?? []) console.log(`CPU profile of a worker written to ${file}.`);
    }
    if (tracePath) {
      await browser.stopTracing();
      console.log(`Trace written to ${tracePath}; npx tsx bench/longTaskTrace.ts ${tracePath} lists the page's long tasks.`);
    }
    return { figures, userAgent: (await page.evaluate('navigator.userAgent')) as string };
  } finally {
    await browser.close();
  }
}

/** One engine's run: its figures (each against baselines of the same engine and run) and its table. */
async function runEngine(engine: Engine, siteUrl: string, server: Server): Promise<EngineReport> {
  const missing = missingBinaries(engine);
  if (missing.length) throw new Error(`${engine} is not installed here (${missing.join(', ')}); see browsers.ts.`);
  console.log(`\n=== ${engine} ===`);
  const started = Date.now();
  const { figures, userAgent } =
    engine === 'chromium'
      ? await runChromium(siteUrl, server)
      : await runInDriver(engine, {
          siteUrl,
          apiUrl: server.url,
          options: pageOptions,
          log: (line) => console.log(`… [${engine}] ${line}`),
          changeReadings: (salt) => changeReadings(server, salt),
        });
  // JSON carries a figure's NaN (n/a) as null.
  for (const figure of figures) if (figure.unavailable) figure.ratio = { median: NaN, min: NaN, max: NaN };
  console.log(`\n${engine}: ${userAgent}`);
  printTable(figures);
  return { engine, browser: userAgent, seconds: Math.round((Date.now() - started) / 1000), figures };
}

/** Every engine's median ratio side by side (with `--engine all`). */
function printComparison(reports: EngineReport[]): void {
  const keys = [
    ...new Set(
      reports.flatMap((report) => report.figures.map((figure) => (figure.case ? `${figure.name} [${figure.case}]` : figure.name))),
    ),
  ];
  const cell = (report: EngineReport, key: string) => {
    const figure = report.figures.find((f) => (f.case ? `${f.name} [${f.case}]` : f.name) === key);
    if (!figure) return '—';
    if (figure.unavailable) return 'n/a';
    return `${formatRatio(figure).split(' ')[0]}${figure.pass ? '' : ' MISSED'}`;
  };
  const header = ['figure', ...reports.map((report) => report.engine)];
  const rows = keys.map((key) => [key, ...reports.map((report) => cell(report, key))]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  console.log(
    `\nMedian ratios per engine (each against baselines of the same engine):\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`,
  );
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  console.log(`Building the bench page${quick ? ' (quick run)' : ''}…`);
  await build({ configFile: resolve(here, 'vite.config.ts'), logLevel: 'warn' });
  const site = await preview({ configFile: resolve(here, 'vite.config.ts'), preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const siteUrl = site.resolvedUrls?.local[0];
  if (!siteUrl) throw new Error('vite preview did not say where it listens');
  try {
    const started = Date.now();
    const reports: EngineReport[] = [];
    // One engine after the other: side by side they would share the cores and slow each other's figures. Each gets
    // a backend of its own (the big figures change 1% of it), seeded up to an hour past its start: they read
    // ~20-minute parts of the last day before *now*, which must hold readings however long the engine takes to get there.
    for (const engine of engines) {
      const seedEnd = new Date(Date.now() + 3_600_000);
      const server = await startServer({ port: 0, seedReadings: quick ? 20_000 : 200_000, seedEnd });
      try {
        reports.push(await runEngine(engine, siteUrl, server));
      } finally {
        await server.close();
      }
    }
    if (reports.length > 1) printComparison(reports);
    const machine = `${process.platform} ${process.arch}, node ${process.version}`;
    const only1 = reports[0] as EngineReport;
    const report =
      reports.length === 1
        ? {
            date: new Date().toISOString(),
            quick,
            engine: only1.engine,
            browser: only1.browser,
            machine,
            seconds: only1.seconds,
            figures: only1.figures,
          }
        : { date: new Date().toISOString(), quick, machine, seconds: Math.round((Date.now() - started) / 1000), engines: reports };
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`Figures written to ${jsonPath}. Absolute times are this machine's; the ratios are the point.`);
  } finally {
    await new Promise<void>((done) => site.httpServer.close(() => done()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
