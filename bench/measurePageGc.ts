// Measures the garbage collection a page pays later for the messages it receives, per batch size: the page reads
// 1,000 records at a time from a worker, without pause, for 5 s (as `mainThread.longTasksDuringAdjust`'s page does),
// each read in messages of `batch` records, while Chromium traces its main thread. Blink's sweeping (cppgc) grows with
// the number of messages, not with their size, and comes due in lumps (see docs/worker-boundary.md#batch-size).
//
// Run: npx tsx bench/measurePageGc.ts [batch sizes, default 250,500,1000] [rounds, default 2]
// Not a test: it asserts nothing and prints a table, one row per batch size and round.
import { chromium } from 'playwright-core';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs, chromiumPath } from '../chromium';

const batchSizes = (process.argv[2] ?? '250,500,1000').split(',').map(Number);
const rounds = Number(process.argv[3] ?? 2);
const readRecords = 1000;
const readMs = 5000;

/** Runs in the worker: demo-shaped readings, posted `n` from `from` on request. */
const workerSource = `
const notes = ['calibrated on site by the maintenance team', 'reading within the expected band for this hour'];
const records = Array.from({ length: 20000 }, (_, id) => ({
  id, sensor: 'sensor-' + String(id % 48).padStart(2, '0'), ts: 1764547200000 + id * 1000,
  value: Math.round(Math.sin(id / 100) * 1000) / 10, unit: 'celsius', quality: id % 5, note: notes[id % 2] + ' (#' + id + ')',
}));
onmessage = (event) => {
  const { id, from, n } = event.data;
  postMessage({ id, records: records.slice(from, from + n) });
};
`;

/** Runs on the page: reads of `readRecords` records in batches of `batch`, back to back, for `ms`. */
const pageSource = `
const worker = new Worker(URL.createObjectURL(new Blob([${JSON.stringify(workerSource)}], { type: 'text/javascript' })));
const waiting = new Map();
let nextId = 0;
worker.onmessage = (event) => { waiting.get(event.data.id)(event.data.records); waiting.delete(event.data.id); };
const ask = (from, n) => new Promise((resolve) => { const id = nextId++; waiting.set(id, resolve); worker.postMessage({ id, from, n }); });
window.readFor = async (batch, ms) => {
  const longTasks = [];
  const observer = new PerformanceObserver((list) => longTasks.push(...list.getEntries()));
  observer.observe({ type: 'longtask' });
  const started = performance.now();
  let reads = 0, messages = 0;
  while (performance.now() - started < ms) {
    const first = (reads * 37) % 15000;
    for (let got = 0; got < ${readRecords}; messages++) got += (await ask(first + got, Math.min(batch, ${readRecords} - got))).length;
    reads++;
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  return { reads, messages, longTasks: longTasks.map((task) => Math.round(task.duration)) };
};
`;

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  args?: { name?: string };
}

/** Blink's sweeping on the page's main thread: total and longest, in ms. */
function sweeping(path: string): { total: number; longest: number } {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: TraceEvent[] };
  const main = new Set(
    parsed.traceEvents
      .filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map((e) => `${e.pid}:${e.tid}`),
  );
  let total = 0;
  let longest = 0;
  for (const event of parsed.traceEvents) {
    if (event.name !== 'CppGC.IncrementalSweep' || event.dur === undefined || !main.has(`${event.pid}:${event.tid}`)) continue;
    total += event.dur / 1000;
    longest = Math.max(longest, event.dur / 1000);
  }
  return { total, longest };
}

const browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs], headless: true });
const tracePath = join(tmpdir(), `measure-page-gc-${process.pid}.json`);
try {
  const page = await browser.newPage();
  await page.setContent(`<script>${pageSource}</script>`);
  await page.evaluate(`readFor(${batchSizes[0]}, 500)`);
  console.log('batch  reads in 5 s  messages  Blink sweep: total  per 1,000 messages  longest  long tasks (ms)');
  for (let round = 0; round < rounds; round++) {
    for (const batch of batchSizes) {
      await browser.startTracing(page, { path: tracePath, categories: ['cppgc', 'disabled-by-default-cppgc'] });
      const result = (await page.evaluate(`readFor(${batch}, ${readMs})`)) as { reads: number; messages: number; longTasks: number[] };
      await browser.stopTracing();
      const sweep = sweeping(tracePath);
      console.log(
        [
          String(batch).padStart(5),
          String(result.reads).padStart(13),
          String(result.messages).padStart(9),
          `${sweep.total.toFixed(0)} ms`.padStart(19),
          `${((sweep.total / result.messages) * 1000).toFixed(0)} ms`.padStart(19),
          `${sweep.longest.toFixed(0)} ms`.padStart(8),
          `  ${result.longTasks.join(', ') || 'none'}`,
        ].join('  '),
      );
    }
  }
} finally {
  rmSync(tracePath, { force: true });
  await browser.close();
}
