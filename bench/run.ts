/**
 * `npm run bench [-- --quick] [--json PATH] [--only rangeRead,readStall,…] [--trace PATH] [--profile PATH] [--compare-batch N] [--big-runs N]`: builds the bench page,
 * starts the reference backend, runs every figure in Debian's headless
 * Chromium, prints a table and writes the figures as JSON
 * (default `bench/results.json`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { chromiumArgs, chromiumPath } from '../chromium';
import { startServer } from '../demo/server/startServer';
import type { Figure } from './stats';
import { watchWorkerHeaps } from './workerHeap';
import { profileWorkers } from './workerProfiles';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? (args[onlyIndex + 1] ?? '').split(',').filter(Boolean) : undefined;
const jsonIndex = args.indexOf('--json');
const traceIndex = args.indexOf('--trace');
/** `--trace PATH`: a Chromium trace of the whole run (renderer and workers, GC included), for bench/longTaskTrace.ts. */
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
const jsonPath = resolve(jsonIndex >= 0 && args[jsonIndex + 1] ? (args[jsonIndex + 1] as string) : resolve(here, 'results.json'));

function formatRatio(figure: Figure): string {
  const { median, min, max } = figure.ratio;
  return figure.name === 'mainThread.longTasksDuringAdjust'
    ? String(median)
    : `${median.toFixed(2)} (${min.toFixed(2)}–${max.toFixed(2)})`;
}

function printTable(figures: Figure[]): void {
  const rows = figures.map((figure) => [
    figure.case ? `${figure.name} [${figure.case}]` : figure.name,
    formatRatio(figure),
    `≤ ${figure.goal}`,
    figure.pass ? 'met' : 'MISSED',
    Object.entries(figure.absolute)
      .map(([name, value]) => `${name} ${value}`)
      .join(', '),
  ]);
  const header = ['figure', 'ratio: median (min–max)', 'goal', '', 'absolute, this machine'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ').trimEnd();
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(line(row));
  const missed = figures.filter((figure) => !figure.pass);
  console.log(
    missed.length
      ? `\n${missed.length} goal(s) missed: ${missed.map((f) => f.name + (f.case ? ` [${f.case}]` : '')).join(', ')}`
      : '\nEvery goal met.',
  );
}

async function main(): Promise<void> {
  console.log(`Building the bench page${quick ? ' (quick run)' : ''}…`);
  await build({ configFile: resolve(here, 'vite.config.ts'), logLevel: 'warn' });
  const server = await startServer({ port: 0, seedReadings: quick ? 20_000 : 200_000 });
  const site = await preview({ configFile: resolve(here, 'vite.config.ts'), preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const siteUrl = site.resolvedUrls?.local[0];
  if (!siteUrl) throw new Error('vite preview did not say where it listens');
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
    await page.exposeFunction('benchChangeReadings', async (salt: number) => {
      const rows = await server.db.query(`update readings set value = value + 0.5 where id % 100 = $1 returning id`, [salt % 100]);
      // The first scan after an update pays Postgres's clean-up of the old row versions (hint bits, dead index entries):
      // done here, so that neither side of the figure (whichever runs first) measures the backend's housekeeping.
      await server.db.exec('vacuum readings');
      return rows.length;
    });
    await page.goto(siteUrl);
    // Scripts as strings: tsx would wrap functions in helpers the page does not have.
    await page.waitForFunction("typeof window.runBenchmarks === 'function'");
    const started = Date.now();
    const profiler = profilePath ? await page.context().newCDPSession(page) : undefined;
    if (profiler) {
      await profiler.send('Profiler.enable');
      await profiler.send('Profiler.setSamplingInterval', { interval: 500 });
      await profiler.send('Profiler.start');
    }
    if (tracePath) {
      await browser.startTracing(page, {
        path: tracePath,
        categories: ['toplevel', 'devtools.timeline', 'v8', 'v8.execute', 'blink_gc', 'cppgc', 'disabled-by-default-cppgc', 'disabled-by-default-v8.gc'],
      });
    }
    const figures = (await page.evaluate(
      `window.runBenchmarks({ quick: ${quick}, apiUrl: ${JSON.stringify(server.url)}, only: ${JSON.stringify(only)}, compareBatch: ${JSON.stringify(compareBatch)}, bigRuns: ${JSON.stringify(bigRuns)}, log: (line) => window.benchLog(line), workerHeap: (name) => window.benchWorkerHeap(name), changeReadings: (salt) => window.benchChangeReadings(salt) })`,
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
    const userAgent = (await page.evaluate('navigator.userAgent')) as string;
    printTable(figures);
    const report = {
      date: new Date().toISOString(),
      quick,
      browser: userAgent,
      machine: `${process.platform} ${process.arch}, node ${process.version}`,
      seconds: Math.round((Date.now() - started) / 1000),
      figures,
    };
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`Figures written to ${jsonPath}. Absolute times are this machine's; the ratios are the point.`);
  } finally {
    await browser.close();
    await new Promise<void>((done) => site.httpServer.close(() => done()));
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
