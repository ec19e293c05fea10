import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite, type Database } from '../../demo/server/database';
import { startServer, type RunningServer } from '../../demo/server/startServer';
import type { Driver, DriverPage } from '../engines/driver';
import { itInEngines } from '../engines/knownEngineDifferences';
import { attribute, clickButton, count, e2eEngine, isVisible, text } from '../engines/pageOps';
import { launchEngine, openPage, screenshot, serveDemo } from './demoApp';

const latestOrigin = (page: DriverPage) => attribute(page, '.read-latest', 'data-origin');

describe(`demo app offline (end to end, headless ${e2eEngine()})`, () => {
  let db: Database;
  let api: RunningServer;
  let site: PreviewServer;
  let browser: Driver;
  let page: DriverPage;
  let port: number;

  beforeAll(async () => {
    db = await openPglite();
    [api, site, browser] = await Promise.all([startServer({ port: 0, database: db, seedReadings: 20_000 }), serveDemo(), launchEngine()]);
    port = api.port;
    page = await openPage(browser, `${site.resolvedUrls!.local[0]}?api=${encodeURIComponent(api.url)}`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.httpServer.close(() => resolve()) : resolve()));
    await api?.close();
    await db?.close();
  });

  it('should show the cached window at once after a reload with the backend stopped, marked stale', async () => {
    await expect.poll(() => text(page, '.window-message'), { timeout: 30_000 }).toMatch(/Holding the last 3 days/);
    await expect.poll(() => latestOrigin(page)).toBe('storage');
    await api.close();
    await page.reload();
    await expect.poll(() => text(page, '.window-message'), { timeout: 10_000 }).toMatch(/Resumed the cached window/);
    await expect.poll(() => latestOrigin(page), { timeout: 10_000 }).toBe('stale storage');
    expect(await isVisible(page, '.stale-badge')).toBe(true);
    expect(await count(page, '.records tbody tr')).toBeGreaterThan(10);
    await screenshot(page, 'demo-reloaded-offline');
  });

  it('should show the offline error for an uncached range within 2 seconds', async () => {
    for (let i = 0; i < 12; i++) await clickButton(page, 'Pan earlier');
    await expect.poll(() => text(page, '[role=alert]'), { timeout: 2_000 }).toMatch(/^Offline:/);
  });

  itInEngines('should refresh the stale records in the background on the next read once the backend is back', async () => {
    api = await startServer({ port, database: db });
    await clickButton(page, 'Show the latest day');
    // The demo's table serves stale records at once (staleWhileRevalidate); the refresh's commit re-reads the view.
    await expect.poll(() => latestOrigin(page), { timeout: 10_000 }).toBe('storage');
    expect(await text(page, '.read-latest')).toMatch(/records from storage \(live update\)$/);
    expect(await isVisible(page, '.stale-badge')).toBe(false);
    expect(await isVisible(page, '[role=alert]')).toBe(false);
  });
});
