import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../demo/server/startServer';
import type { Driver, DriverPage } from '../engines/driver';
import {
  attribute,
  clickButton,
  count,
  e2eEngine,
  failedRequest,
  fillAndChange,
  heldText,
  hold,
  isVisible,
  text,
} from '../engines/pageOps';
import { itInEngines } from '../engines/knownEngineDifferences';
import { backend, launchEngine, openPage, screenshot, serveDemo } from './demoApp';
import { startHoldingProxy, type HoldingProxy } from './holdingProxy';

/** The origin of the newest entry of the read log. */
const latestOrigin = (page: DriverPage) => attribute(page, '.read-latest', 'data-origin');
/** Readings the backend starts with: ids 1 to 20,000 in time order, the newest a few minutes old. */
const SEEDED_READINGS = 20_000;

describe(`demo app (end to end, headless ${e2eEngine()})`, () => {
  let api: RunningServer;
  /** The page's way to the backend, which can hold back the backend's answers to reads of readings. */
  let proxy: HoldingProxy;
  let site: PreviewServer;
  let browser: Driver;
  let page: DriverPage;

  beforeAll(async () => {
    [api, site, browser] = await Promise.all([backend(SEEDED_READINGS), serveDemo(), launchEngine()]);
    proxy = await startHoldingProxy(api.url, /^\/api\/readings/);
    page = await openPage(browser, `${site.resolvedUrls!.local[0]}?api=${encodeURIComponent(proxy.url)}`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.httpServer.close(() => resolve()) : resolve()));
    await proxy?.close();
    await api?.close();
  });

  it('should load the cached window and serve the initial view from storage', async () => {
    await expect.poll(() => text(page, '.window-message'), { timeout: 30_000 }).toMatch(/Holding the last 3 days/);
    await expect.poll(() => latestOrigin(page), { timeout: 10_000 }).toBe('storage');
    // The first read, or the view read again once the change feed is live (a load made before that marks what it holds stale once).
    expect(await text(page, '.read-latest')).toMatch(/^[\d,]+ records from storage (in \d+|\(live update\))/);
    expect(await count(page, '.records tbody tr')).toBeGreaterThan(10);
    expect(await count(page, '.chart-host canvas')).toBeGreaterThan(0);
  });

  it('should go to the backend for a view outside the cached window', async () => {
    for (let i = 0; i < 10; i++) await clickButton(page, 'Pan earlier');
    await expect.poll(() => latestOrigin(page), { timeout: 10_000 }).toBe('backend');
    expect(Number((await text(page, '.read-latest'))!.replace(/,/g, '').split(' ')[0])).toBeGreaterThan(0);
    await clickButton(page, 'Show the latest day');
    await expect.poll(() => latestOrigin(page)).toBe('storage');
  });

  it('should show an edited value after saving it and invalidating the reading by its id', async () => {
    const id = await attribute(page, '.records tbody tr', 'data-id');
    // The edited row's own status element: the live update re-renders the table (about 100 ms after "Saved"), and a poll can miss that window.
    await hold(page, 'status', `.records tbody tr[data-id="${id}"] .edit-status`);
    await fillAndChange(page, `.records tbody tr[data-id="${id}"] input`, '1234.5');
    await expect.poll(() => heldText(page, 'status'), { timeout: 10_000 }).toBe('Saved');
    // A re-rendered row carries the value in its attribute; a typed value lives only in the property.
    await expect.poll(() => attribute(page, `.records tbody tr[data-id="${id}"] input`, 'value'), { timeout: 10_000 }).toBe('1234.5');
    // invalidateKeys refetched the reading before it resolved: the view's next read finds it in storage. (When the first
    // load could not wait for the feed to be live, the feed's anchoring left the window stale once, and that read refreshes it.)
    expect(await text(page, '.read-latest')).toMatch(/records from storage( after refresh)? \(live update\)$/);
    const response = await fetch(`${api.url}/api/readings?ids=${id}`, { headers: { accept: 'application/json' } });
    expect(((await response.json()) as { value: number }[])[0]?.value).toBe(1234.5);
  });

  it('should report no console errors while the backend is up', async () => {
    expect(await page.errors()).toEqual([]);
  });

  it('should hold the last 30 days once the window is switched to 30 days', async () => {
    await clickButton(page, '30 days');
    await expect.poll(() => text(page, '.window-message'), { timeout: 120_000 }).toMatch(/^Holding the last 30 days/);
    // Twenty days back: outside the 3 days held before, inside the 30 held now. The read log said 'storage' before the
    // pan too, so wait for the new view's rows: ids run in time order, about 670 a day, below 10,000 twenty days back.
    for (let i = 0; i < 40; i++) await clickButton(page, 'Pan earlier');
    await expect.poll(async () => Number(await attribute(page, '.records tbody tr', 'data-id')), { timeout: 10_000 }).toBeLessThan(10_000);
    expect(await latestOrigin(page)).toBe('storage');
    await clickButton(page, 'Show the latest day');
    // The newest reading first (the next test takes the first row for one the return must paint).
    await expect.poll(() => attribute(page, '.records tbody tr', 'data-id'), { timeout: 10_000 }).toBe(String(SEEDED_READINGS));
    expect(await latestOrigin(page)).toBe('storage');
  });

  itInEngines(
    'should paint the view from storage on coming back before the backend answers, then show what changed meanwhile',
    async () => {
      const id = (await attribute(page, '.records tbody tr', 'data-id'))!;
      const before = await attribute(page, `.records tbody tr[data-id="${id}"] input`, 'value');
      const url = await page.evaluate(() => location.href);
      // The user leaves (the cache's worker ends with its last page); meanwhile someone changes a reading in view.
      await page.goto('about:blank');
      const changed = await fetch(`${api.url}/api/readings/${id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: 9876.5 }),
      });
      expect(changed.status).toBe(200);
      proxy.hold();
      try {
        await page.goto(url);
        await expect
          .poll(() => text(page, '.window-message'), { timeout: 30_000 })
          .toMatch(/^Resumed the cached window \(the last 30 days/);
        // Painted from IndexedDB with no record from the backend: the reading still shows its old value. Stale (a
        // background refresh is under way) unless the table stored the feed's cursor, which then brings the change.
        await expect.poll(() => attribute(page, `.records tbody tr[data-id="${id}"] input`, 'value'), { timeout: 30_000 }).toBe(before);
        expect(['stale storage', 'storage']).toContain(await latestOrigin(page));
        expect(proxy.answered).toBe(0);
        expect(await count(page, '.records tbody tr')).toBeGreaterThan(10);
        // The refresh (the stale view's, or the feed's refetch of the changed reading) has asked and waits for the answer.
        await expect.poll(() => proxy.held, { timeout: 30_000 }).toBeGreaterThan(0);
      } finally {
        // Also when the above fails: the tests that follow need the backend's answers.
        proxy.release();
      }
      await expect.poll(() => attribute(page, `.records tbody tr[data-id="${id}"] input`, 'value'), { timeout: 30_000 }).toBe('9876.5');
      expect(proxy.answered).toBeGreaterThan(0);
      expect(await latestOrigin(page)).toBe('storage');
      expect(await text(page, '.read-latest')).toMatch(/records from storage \(live update\)$/);
      await expect.poll(() => isVisible(page, '.stale-badge')).toBe(false);
    },
  );

  // The adjust takes about a second; under load, a progress report that reached the page after the adjust's answer
  // once put 'Loading…' back for good (every report now comes first), hence the diagnosis below should it recur.
  it('should shrink the resumed 30 days back to 3 days', { timeout: 90_000 }, async () => {
    // The page remembered 30 days across the return; the offline test below needs uncovered ranges where 3 days leave them.
    expect(await attribute(page, '[data-days="30"]', 'aria-pressed')).toBe('true');
    await clickButton(page, '3 days');
    try {
      await expect.poll(() => text(page, '.window-message'), { timeout: 60_000 }).toMatch(/^Holding the last 3 days/);
    } catch (error) {
      // What the backend and the page were at, for the diagnosis of an adjust that does not end.
      const page$ = await page.evaluate(() => document.body.innerText.replace(/\s+/g, ' ').slice(0, 3000));
      throw new Error(`${String(error)}\nRequests open: ${proxy.inFlight().join('; ') || 'none'}\nThe page: ${page$}`, { cause: error });
    }
  });

  it('should keep serving covered views when the backend stops', async () => {
    await screenshot(page, 'demo-online');
    await proxy.close();
    await api.close();
    await expect.poll(() => text(page, '.backend-status'), { timeout: 10_000 }).toBe('Backend: unreachable');
    await clickButton(page, 'Zoom in');
    await expect.poll(() => latestOrigin(page)).toBe('storage');
    for (let i = 0; i < 12; i++) await clickButton(page, 'Pan earlier');
    await expect.poll(() => text(page, '[role=alert]'), { timeout: 5_000 }).toMatch(/^Offline: this range is not cached/);
    await screenshot(page, 'demo-offline');
    expect((await page.errors()).filter((error) => !failedRequest.test(error))).toEqual([]);
  });
});
