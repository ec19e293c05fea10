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

  it('should show the cached window at once after a reload with the backend stopped, and say live updates are paused', async () => {
    await expect.poll(() => text(page, '.window-message'), { timeout: 30_000 }).toMatch(/Holding the last 3 days/);
    await expect.poll(() => latestOrigin(page)).toBe('storage');
    await api.close();
    await page.reload();
    await expect.poll(() => text(page, '.window-message'), { timeout: 10_000 }).toMatch(/Resumed the cached window/);
    // Fresh as of the feed cursor stored with the records (the demo loads once the feed is live); stale when the
    // load could not wait for the feed (then nothing vouches for the records until they are refreshed).
    await expect.poll(() => latestOrigin(page), { timeout: 10_000 }).toMatch(/^(stale )?storage$/);
    expect(await isVisible(page, '.stale-badge')).toBe((await latestOrigin(page)) === 'stale storage');
    expect(await count(page, '.records tbody tr')).toBeGreaterThan(10);
    await expect.poll(() => attribute(page, '.feed-status', 'data-state'), { timeout: 30_000 }).toBe('offline');
    await screenshot(page, 'demo-reloaded-offline');
  });

  it('should show the offline error for an uncached range within 2 seconds', async () => {
    for (let i = 0; i < 12; i++) await clickButton(page, 'Pan earlier');
    await expect.poll(() => text(page, '[role=alert]'), { timeout: 2_000 }).toMatch(/^Offline:/);
  });

  itInEngines('should be live again once the backend is back, serving the view fresh from storage', async () => {
    api = await startServer({ port, database: db });
    await clickButton(page, 'Show the latest day');
    await expect.poll(() => attribute(page, '.feed-status', 'data-state'), { timeout: 30_000 }).toBe('live');
    // Stale records, if any, are served at once (staleWhileRevalidate) and the refresh's commit re-reads the view.
    await expect.poll(() => latestOrigin(page), { timeout: 10_000 }).toBe('storage');
    expect(await isVisible(page, '.stale-badge')).toBe(false);
    expect(await isVisible(page, '[role=alert]')).toBe(false);
  });
});
