import type { Browser, Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../demo/server/startServer';
import { backend, launch, openPage, screenshot, serveDemo } from './demoApp';

/** The text of the newest entry of the read log. */
const latestRead = (page: Page) => page.locator('.read-latest');

describe('demo app (end to end, headless Chromium)', () => {
  let api: RunningServer;
  let site: PreviewServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    [api, site, browser] = await Promise.all([backend(), serveDemo('demo'), launch()]);
    const url = `${site.resolvedUrls!.local[0]}?api=${encodeURIComponent(api.url)}`;
    ({ page, errors } = await openPage(browser, url));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.httpServer.close(() => resolve()) : resolve()));
    await api?.close();
  });

  it('should load the cached window and serve the initial view from storage', async () => {
    await expect.poll(() => page.locator('.window-message').textContent(), { timeout: 30_000 }).toMatch(/Holding the last 3 days/);
    await expect.poll(() => latestRead(page).getAttribute('data-origin'), { timeout: 10_000 }).toBe('storage');
    expect(await latestRead(page).textContent()).toMatch(/^[\d,]+ records from storage in \d+/);
    expect(await page.locator('.records tbody tr').count()).toBeGreaterThan(10);
    expect(await page.locator('.chart-host canvas').count()).toBeGreaterThan(0);
  });

  it('should go to the backend for a view outside the cached window', async () => {
    for (let i = 0; i < 10; i++) await page.getByRole('button', { name: 'Pan earlier' }).click();
    await expect.poll(() => latestRead(page).getAttribute('data-origin'), { timeout: 10_000 }).toBe('backend');
    expect(Number((await latestRead(page).textContent())!.replace(/,/g, '').split(' ')[0])).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Show the latest day' }).click();
    await expect.poll(() => latestRead(page).getAttribute('data-origin')).toBe('storage');
  });

  it('should show an edited value after saving it and invalidating the reading', async () => {
    const row = page.locator('.records tbody tr').first();
    const id = await row.getAttribute('data-id');
    const input = row.locator('input');
    // The edited row's own status element: the live update re-renders the table (about 100 ms after "Saved"), and a poll can miss that window.
    const status = await row.locator('.edit-status').elementHandle();
    await input.fill('1234.5');
    await input.dispatchEvent('change');
    await expect.poll(() => status?.textContent()).toBe('Saved');
    // A re-rendered row carries the value in its attribute; a typed value lives only in the property.
    await expect
      .poll(() => page.locator(`.records tbody tr[data-id="${id}"] input`).getAttribute('value'), { timeout: 10_000 })
      .toBe('1234.5');
    expect(await latestRead(page).textContent()).toMatch(/records from storage after refresh \(live update\)$/);
    const response = await fetch(`${api.url}/api/readings?ids=${id}`, { headers: { accept: 'application/json' } });
    expect(((await response.json()) as { value: number }[])[0]?.value).toBe(1234.5);
  });

  it('should report no console errors while the backend is up', () => {
    expect(errors).toEqual([]);
  });

  it('should keep serving covered views when the backend stops', async () => {
    await screenshot(page, 'demo-online');
    await api.close();
    await expect.poll(() => page.locator('.backend-status').textContent(), { timeout: 10_000 }).toBe('Backend: unreachable');
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await expect.poll(() => latestRead(page).getAttribute('data-origin')).toBe('storage');
    for (let i = 0; i < 12; i++) await page.getByRole('button', { name: 'Pan earlier' }).click();
    await expect.poll(() => page.locator('[role=alert]').textContent(), { timeout: 5_000 }).toMatch(/^Offline: this range is not cached/);
    await screenshot(page, 'demo-offline');
    expect(errors.filter((error) => !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(error))).toEqual([]);
  });
});
