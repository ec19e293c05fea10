import { fileURLToPath } from 'node:url';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../demo/server/startServer';
import { captureErrors } from '../engines/captureErrors';
import { launch, type Driver, type DriverContext, type DriverPage } from '../engines/driver';
import { e2eEngine, failedRequest } from '../engines/pageOps';
import { sharedBuild } from '../engines/sharedBuild';
import type { SeenUpdate, TabsTestApi } from './page/tabsPage';
import { testDbName, type Reading, type TimeSpec } from './page/tabsConfig';

const pageRoot = fileURLToPath(new URL('./page', import.meta.url));
const engine = e2eEngine();

const DAY = 86_400_000;
const HOUR = 3_600_000;
type Mode = 'auto' | 'shared-worker' | 'web-locks';
type TestWindow = { tabsTest: TabsTestApi };

/** The test page's API in one tab, driven from here. */
function tab(page: DriverPage) {
  return {
    page,
    connect: (mode: Mode) => page.evaluate((m) => (window as unknown as TestWindow).tabsTest.connect(m), mode),
    opened: () => page.evaluate(() => [...(window as unknown as TestWindow).tabsTest.opened]),
    resumeOrLoad: (spec: TimeSpec) => page.evaluate((s) => (window as unknown as TestWindow).tabsTest.resumeOrLoad(s), spec),
    read: (spec: TimeSpec) => page.evaluate((s) => (window as unknown as TestWindow).tabsTest.read(s), spec),
    stats: () => page.evaluate(() => (window as unknown as TestWindow).tabsTest.stats()),
    invalidate: (spec: TimeSpec) => page.evaluate((s) => (window as unknown as TestWindow).tabsTest.invalidate(s), spec),
    subscribe: (spec: TimeSpec) => page.evaluate((s) => (window as unknown as TestWindow).tabsTest.subscribe(s), spec),
    updates: (id: number) => page.evaluate((i) => (window as unknown as TestWindow).tabsTest.updates(i), id),
    failure: (method: 'stats' | 'read', spec?: TimeSpec) =>
      page.evaluate(([m, s]) => (window as unknown as TestWindow).tabsTest.failure(m, s), [method, spec] as const),
  };
}
type Tab = ReturnType<typeof tab>;

function lastUpdate(updates: SeenUpdate[]): SeenUpdate | undefined {
  return updates.at(-1);
}

function recordsOf(update: SeenUpdate | undefined): Reading[] {
  return update && 'records' in update ? update.records : [];
}

describe(`tabs sharing one cache (end to end, headless ${engine})`, () => {
  let site: PreviewServer;

  beforeAll(async () => {
    const outDir = await sharedBuild('tabs-dist', (dir) =>
      build({
        root: pageRoot,
        configFile: false,
        logLevel: 'error',
        plugins: [captureErrors()],
        worker: { format: 'es' },
        build: { outDir: dir, emptyOutDir: true, target: 'es2022' },
      }),
    );
    site = await preview({
      root: pageRoot,
      configFile: false,
      logLevel: 'error',
      build: { outDir },
      preview: { port: 0, host: '127.0.0.1' },
    });
  }, 120_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => (site ? site.httpServer.close(() => resolve()) : resolve()));
  });

  type Suite = {
    title: string;
    args: string[];
    mode: Mode;
    expected: 'shared-worker' | 'web-locks';
    sharedWorker: 'function' | 'undefined';
  };
  const suites: Suite[] = [
    { title: 'with a SharedWorker', args: [], mode: 'auto', expected: 'shared-worker', sharedWorker: 'function' },
    // Only Chromium can be started without SharedWorker (as Chrome for Android is): there the automatic mode
    // must fall back to the Web Locks election; the other engines run the election when it is asked for.
    engine === 'chromium'
      ? {
          title: 'with SharedWorker disabled (Web Locks election)',
          args: ['--disable-features=SharedWorker'],
          mode: 'auto',
          expected: 'web-locks',
          sharedWorker: 'undefined',
        }
      : { title: 'in Web Locks mode (election asked for)', args: [], mode: 'web-locks', expected: 'web-locks', sharedWorker: 'function' },
  ];

  describe.each(suites)('$title', ({ args, mode, expected, sharedWorker }) => {
    let api: RunningServer;
    let browser: Driver;
    let context: DriverContext;
    let observer: Tab;
    let a: Tab;
    let b: Tab;
    let c: Tab;
    const errors: string[] = [];
    const now = Date.now();
    const window3Days: TimeSpec = { indexName: 'ts', ge: now - 3 * DAY, lt: Infinity };
    const lastDay: TimeSpec = { indexName: 'ts', ge: now - DAY, lt: now + HOUR };
    let windowCount = 0;
    let subscriptionB = 0;
    let subscriptionC = 0;

    const openTabs = new Map<string, DriverPage>();
    const openTab = async (name: string): Promise<Tab> => {
      const page = await context.newPage();
      await page.goto(`${site.resolvedUrls!.local[0]}?tab=${name}&api=${encodeURIComponent(api.url)}`);
      openTabs.set(name, page);
      return tab(page);
    };
    /** Closes a tab, keeping the errors it logged. */
    const closeTab = async (name: string) => {
      const page = openTabs.get(name)!;
      errors.push(...(await page.errors()).map((error) => `${name}: ${error}`));
      openTabs.delete(name);
      await page.close();
    };

    beforeAll(async () => {
      [api, browser] = await Promise.all([startServer({ port: 0, seedReadings: 2000 }), launch(engine, { chromiumArgs: args })]);
      context = await browser.newContext();
      observer = await openTab('observer');
      a = await openTab('A');
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await api?.close();
    });

    it('should connect every tab in the expected mode', async () => {
      expect(await a.connect(mode)).toBe(expected);
      expect(await a.page.evaluate(() => typeof SharedWorker)).toBe(sharedWorker);
    });

    it('should open one table for every tab: loaded by the first tab, resumed by the others', async () => {
      expect(await a.resumeOrLoad(window3Days)).toBe('loaded');
      b = await openTab('B');
      c = await openTab('C');
      expect([await b.connect(mode), await c.connect(mode)]).toEqual([expected, expected]);
      expect(await b.resumeOrLoad(window3Days)).toBe('resumed');
      expect(await c.resumeOrLoad(window3Days)).toBe('resumed');
      expect(await observer.opened()).toEqual([expected === 'shared-worker' ? 'shared-worker' : 'A']);
    });

    it('should serve reads from every tab out of one cache, counted in one set of stats', async () => {
      const before = (await a.stats()).reads.cacheHit;
      const reads = [await a.read(lastDay), await b.read(lastDay), await c.read(lastDay)];
      expect(reads.map((read) => read.from)).toEqual(['storage', 'storage', 'storage']);
      expect(reads[0]!.records.length).toBeGreaterThan(30);
      expect(reads[1]!.records.length).toBe(reads[0]!.records.length);
      expect(reads[2]!.records.length).toBe(reads[0]!.records.length);
      const stats = [await a.stats(), await b.stats(), await c.stats()];
      expect(stats[0]!.reads.cacheHit).toBe(before + 3);
      expect(stats[1]).toEqual(stats[0]);
      expect(stats[2]).toEqual(stats[0]);
      windowCount = (await a.read(window3Days)).records.length;
      expect(windowCount).toBeGreaterThan(reads[0]!.records.length);
    });

    it("should show an edit saved and invalidated in one tab in the other tabs' subscriptions", async () => {
      subscriptionB = await b.subscribe(lastDay);
      subscriptionC = await c.subscribe(lastDay);
      await expect.poll(async () => recordsOf(lastUpdate(await b.updates(subscriptionB))).length, { timeout: 10_000 }).toBeGreaterThan(0);
      await expect.poll(async () => recordsOf(lastUpdate(await c.updates(subscriptionC))).length, { timeout: 10_000 }).toBeGreaterThan(0);
      const target = recordsOf(lastUpdate(await b.updates(subscriptionB)))[0]!;
      const response = await fetch(`${api.url}/api/readings/${target.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: 4321.5 }),
      });
      expect(response.ok).toBe(true);
      await a.invalidate({ indexName: 'ts', ge: target.ts, lt: target.ts + 1 });
      const valueIn = async (t: Tab, id: number) =>
        recordsOf(lastUpdate(await t.updates(id))).find((record) => record.id === target.id)?.value;
      await expect.poll(() => valueIn(b, subscriptionB), { timeout: 10_000 }).toBe(4321.5);
      await expect.poll(() => valueIn(c, subscriptionC), { timeout: 10_000 }).toBe(4321.5);
    });

    if (expected === 'web-locks') {
      it('should hand the table over when the owning tab closes, keeping every committed record', async () => {
        const updatesBefore = (await c.updates(subscriptionC)).length;
        // No backend from here on: whatever the next owner serves comes from what the first one committed to IndexedDB.
        await api.close();
        await closeTab('A');
        await expect.poll(() => observer.opened(), { timeout: 15_000 }).toHaveLength(2);
        const [, next] = await observer.opened();
        expect(['B', 'C']).toContain(next);
        const read = await b.read(window3Days);
        expect(read).toMatchObject({ from: 'storage', stale: true });
        expect(read.records).toHaveLength(windowCount);
        expect(read.records.some((record) => record.value === 4321.5)).toBe(true);
        // C's subscription re-attached to the next owner by itself.
        await expect.poll(async () => (await c.updates(subscriptionC)).length, { timeout: 10_000 }).toBeGreaterThan(updatesBefore);
        expect(lastUpdate(await c.updates(subscriptionC))).toMatchObject({ from: 'storage', stale: true });
        expect(await b.stats()).toEqual(await c.stats());
      });
    } else {
      it('should keep serving the other tabs from the same table when a tab closes', async () => {
        await closeTab('A');
        const read = await b.read(window3Days);
        expect(read.from).toBe('storage');
        expect(read.records).toHaveLength(windowCount);
        expect(await observer.opened()).toEqual(['shared-worker']);
        expect(await b.stats()).toEqual(await c.stats());
        await api.close();
      });
    }

    it("should close every tab's connection on a versionchange from a newer app, saying to reload", async () => {
      const upgraded = await observer.page.evaluate(
        (dbName) => (window as unknown as TestWindow).tabsTest.upgradeDatabase(dbName),
        testDbName,
      );
      expect(upgraded).toBeGreaterThan(1);
      for (const [t, id] of [
        [b, subscriptionB],
        [c, subscriptionC],
      ] as const) {
        await expect
          .poll(async () => lastUpdate(await t.updates(id)), { timeout: 10_000 })
          .toMatchObject({ error: expect.stringMatching(/Reload this page/) });
        expect(await t.failure('stats')).toMatchObject({ message: expect.stringMatching(/Reload this page/) });
      }
    });

    it('should log no errors in any tab but failed requests to the stopped backend', async () => {
      for (const [name, page] of openTabs) errors.push(...(await page.errors()).map((error) => `${name}: ${error}`));
      expect(errors.filter((error) => !failedRequest.test(error))).toEqual([]);
    });
  });
});
