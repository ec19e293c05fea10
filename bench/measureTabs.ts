// Measures what sharing one table across tabs costs in headless Chromium:
// a call's round trip and a 3-day read from the tab whose worker owns the
// table versus a tab that forwards to it (Web Locks mode), the same through
// a SharedWorker, and how long a handover takes once the owner's tab closes.
//
// Run: npx tsx bench/measureTabs.ts   (CHROMIUM_PATH to override /usr/bin/chromium)
// Not a test: it asserts nothing and prints medians. Uses the tabs test page and the reference backend (20k readings).
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, preview } from 'vite';
import { chromiumArgs, chromiumPath } from '../chromium';
import { startServer } from '../demo/server/startServer';
import type { TabsTestApi } from '../test/tabs/page/tabsPage';
import type { TimeSpec } from '../test/tabs/page/tabsConfig';

type TestWindow = { tabsTest: TabsTestApi };
const pageRoot = fileURLToPath(new URL('../test/tabs/page', import.meta.url));
const outDir = fileURLToPath(new URL('../test-results/tabs-measure-dist', import.meta.url));
const DAY = 86_400_000;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const ms = (value: number) => `${value.toFixed(1)} ms`;

await build({
  root: pageRoot,
  configFile: false,
  logLevel: 'error',
  worker: { format: 'es' },
  build: { outDir, emptyOutDir: true, target: 'es2022' },
});
const site = await preview({
  root: pageRoot,
  configFile: false,
  logLevel: 'error',
  build: { outDir },
  preview: { port: 0, host: '127.0.0.1' },
});
const api = await startServer({ port: 0, seedReadings: 20_000 });
const window3Days: TimeSpec = { indexName: 'ts', ge: Date.now() - 3 * DAY, lt: Infinity };

async function openTab(context: BrowserContext, name: string, mode: 'shared-worker' | 'web-locks'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${site.resolvedUrls!.local[0]}?tab=${name}&api=${encodeURIComponent(api.url)}`);
  await page.evaluate((m) => (window as unknown as TestWindow).tabsTest.connect(m), mode);
  await page.evaluate((spec) => (window as unknown as TestWindow).tabsTest.resumeOrLoad(spec), window3Days);
  return page;
}

/** Medians of `stats()` round trips and of full reads of the window, timed in the page. */
async function timeCalls(page: Page): Promise<{ stats: number; read: number; records: number }> {
  // No named functions inside: tsx would wrap them in a helper the page does not have.
  const times = await page.evaluate(async (spec) => {
    const api = (window as unknown as TestWindow).tabsTest;
    const stats: number[] = [];
    for (let i = 0; i < 60; i++) {
      const start = performance.now();
      await api.stats();
      stats.push(performance.now() - start);
    }
    const reads: number[] = [];
    let records = 0;
    for (let i = 0; i < 9; i++) {
      const start = performance.now();
      records = (await api.read(spec)).records.length;
      reads.push(performance.now() - start);
    }
    return { stats, reads, records };
  }, window3Days);
  return { stats: median(times.stats.slice(10)), read: median(times.reads.slice(1)), records: times.records };
}

const rows: string[] = [];
for (const mode of ['web-locks', 'shared-worker'] as const) {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs] });
  const context = await browser.newContext();
  const owner = await openTab(context, 'A', mode);
  const follower = await openTab(context, 'B', mode);
  const ownerTimes = await timeCalls(owner);
  const followerTimes = await timeCalls(follower);
  const label = mode === 'web-locks' ? ['owner tab (own worker)', 'follower tab (BroadcastChannel)'] : ['first tab', 'second tab'];
  rows.push(`${mode}: ${label[0]}: stats() ${ms(ownerTimes.stats)}, read of ${ownerTimes.records} records ${ms(ownerTimes.read)}`);
  rows.push(`${mode}: ${label[1]}: stats() ${ms(followerTimes.stats)}, read of ${followerTimes.records} records ${ms(followerTimes.read)}`);

  if (mode === 'web-locks') {
    const handovers: { firstCall: number; firstRead: number }[] = [];
    let current = owner;
    let next = follower;
    for (let round = 0; round < 5; round++) {
      const spare = await openTab(context, `spare${round}`, mode);
      const started = Date.now();
      await current.close();
      await next.evaluate(() => (window as unknown as TestWindow).tabsTest.stats());
      const callMs = Date.now() - started;
      const readStarted = Date.now();
      await next.evaluate((spec) => (window as unknown as TestWindow).tabsTest.read(spec), window3Days);
      handovers.push({ firstCall: callMs, firstRead: callMs + Date.now() - readStarted });
      [current, next] = [next, spare];
    }
    rows.push(
      `web-locks handover (owner tab closed → a follower's stats() answered by the next owner): median ${ms(median(handovers.map((h) => h.firstCall)))} (${handovers.map((h) => h.firstCall).join(', ')} ms)`,
    );
    rows.push(
      `web-locks handover → first read of the window done (resume, then refresh of the stale records from the backend): median ${ms(median(handovers.map((h) => h.firstRead)))}`,
    );
  }
  await browser.close();
}
console.log(rows.join('\n'));
await api.close();
await new Promise<void>((resolve) => site.httpServer.close(() => resolve()));
