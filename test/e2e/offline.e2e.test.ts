import type { Browser, Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite, type Database } from '../../demo/server/database';
import { startServer, type RunningServer } from '../../demo/server/startServer';
import { launch, openPage, screenshot, serveDemo } from './demoApp';

const latestRead = (page: Page) => page.locator('.read-latest');

describe('demo app offline (end to end, headless Chromium)', () => {
  let db: Database;
  let api: RunningServer;
  let site: PreviewServer;
  let browser: Browser;
  let page: Page;
  let port: number;

  beforeAll(async () => {
    db = await openPglite();
    [api, site, browser] = await Promise.all([startServer({ port: 0, database: db, seedReadings: 20_000 }), serveDemo('offline'), launch()]);
    port = api.port;
    ({ page } = await openPage(browser, `${site.resolvedUrls!.local[0]}?api=${encodeURIComponent(api.url)}`));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.httpServer.close(() => resolve()) : resolve()));
    await api?.close();
    await db?.close();
  });

  it('should show the cached window at once after a reload with the backend stopped, marked stale', async () => {
    await expect.poll(() => page.locator('.window-message').textContent(), { timeout: 30_000 }).toMatch(/Holding the last 3 days/);
    await expect.poll(() => latestRead(page).getAttribute('data-origin')).toBe('storage');
    await api.close();
    await page.reload();
    await expect.poll(() => page.locator('.window-message').textContent(), { timeout: 10_000 }).toMatch(/Resumed the cached window/);
    await expect.poll(() => latestRead(page).getAttribute('data-origin'), { timeout: 10_000 }).toBe('stale storage');
    expect(await page.locator('.stale-badge').isVisible()).toBe(true);
    expect(await page.locator('.records tbody tr').count()).toBeGreaterThan(10);
    await screenshot(page, 'demo-reloaded-offline');
  });

  it('should show the offline error for an uncached range within 2 seconds', async () => {
    for (let i = 0; i < 12; i++) await page.getByRole('button', { name: 'Pan earlier' }).click();
    await expect.poll(() => page.locator('[role=alert]').textContent(), { timeout: 2_000 }).toMatch(/^Offline:/);
  });

  it('should refresh the stale records on the next read once the backend is back', async () => {
    api = await startServer({ port, database: db });
    await page.getByRole('button', { name: 'Show the latest day' }).click();
    await expect.poll(() => latestRead(page).getAttribute('data-origin'), { timeout: 10_000 }).toBe('storage after refresh');
    expect(await page.locator('.stale-badge').isVisible()).toBe(false);
    expect(await page.locator('[role=alert]').isVisible()).toBe(false);
  });
});
