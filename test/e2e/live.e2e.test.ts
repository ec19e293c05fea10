import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../demo/server/startServer';
import type { Driver, DriverPage } from '../engines/driver';
import { attribute, count, e2eEngine, fillAndChange, text } from '../engines/pageOps';
import { backend, launchEngine, openPage, serveDemo } from './demoApp';

const feedState = (page: DriverPage) => attribute(page, '.feed-status', 'data-state');
const row = (id: string | number) => `.records tbody tr[data-id="${id}"]`;
const shownValue = (page: DriverPage, id: string | number) => attribute(page, `${row(id)} input`, 'value');

/**
 * Two users of the demo: each browser has its own context (its own IndexedDB and SharedWorker, as separate profiles
 * have), so what one sees of the other's changes can only come through the backend's change feed.
 */
describe(`demo app, live (end to end, headless ${e2eEngine()})`, () => {
  let api: RunningServer;
  let site: PreviewServer;
  let browser: Driver;
  let mine: DriverPage;
  let theirs: DriverPage;

  beforeAll(async () => {
    [api, site, browser] = await Promise.all([backend(), serveDemo(), launchEngine()]);
    const url = `${site.resolvedUrls!.local[0]}?api=${encodeURIComponent(api.url)}`;
    mine = await openPage(browser, url);
    theirs = await openPage(browser, url);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.httpServer.close(() => resolve()) : resolve()));
    await api?.close();
  });

  // Each page's first load (up to 5 s waiting for the feed, then 20,000 readings) shares two cores with the other engines' suites.
  it('should follow the backend’s changes in each browser and say Live', { timeout: 150_000 }, async () => {
    for (const page of [mine, theirs]) {
      await expect.poll(() => text(page, '.window-message'), { timeout: 60_000 }).toMatch(/Holding the last 3 days/);
      await expect.poll(() => feedState(page), { timeout: 30_000 }).toBe('live');
      expect(await text(page, '.feed-status')).toBe('Live');
    }
  });

  it('should show a value edited in another browser on its own', async () => {
    const id = (await attribute(mine, '.records tbody tr', 'data-id'))!;
    await expect.poll(() => count(theirs, row(id)), { timeout: 10_000 }).toBe(1);
    await fillAndChange(theirs, `${row(id)} input`, '4321.5');
    await expect.poll(() => shownValue(mine, id), { timeout: 45_000 }).toBe('4321.5');
    // Pushed to the page by its subscription after the feed's refetch, not read because the user did something.
    expect(await text(mine, '.read-latest')).toMatch(/records from storage \(live update\)$/);
    // The editor's own view shows it once its invalidateKeys (or its feed's refetch, whichever commits first) is read back.
    await expect.poll(() => shownValue(theirs, id), { timeout: 45_000 }).toBe('4321.5');
  });

  it('should show a reading added on the backend by another service in both browsers', async () => {
    const response = await fetch(`${api.url}/api/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sensor: 'sensor-live', ts: new Date().toISOString(), value: 777.25 }),
    });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: number };
    for (const page of [mine, theirs]) await expect.poll(() => shownValue(page, id), { timeout: 45_000 }).toBe('777.25');
  });

  it('should drop a reading deleted on the backend from both views', async () => {
    const id = (await attribute(mine, '.records tbody tr', 'data-id'))!;
    const response = await fetch(`${api.url}/api/readings/${id}`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    for (const page of [mine, theirs]) await expect.poll(() => count(page, row(id)), { timeout: 45_000 }).toBe(0);
  });

  it('should report no console errors while the backend is up', async () => {
    expect(await mine.errors()).toEqual([]);
    expect(await theirs.errors()).toEqual([]);
  });

  it('should say live updates are paused when the backend stops', async () => {
    await api.close();
    await expect.poll(() => feedState(mine), { timeout: 30_000 }).toBe('offline');
    expect(await text(mine, '.feed-status')).toBe('Live updates paused (offline)');
  });
});
