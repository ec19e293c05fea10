import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../demo/server/startServer';
import type { Driver, DriverPage } from '../engines/driver';
import { attribute, clickButton, count, e2eEngine, failedRequest, fillAndChange, heldText, hold, text } from '../engines/pageOps';
import { backend, launchEngine, openPage, screenshot, serveDemo } from './demoApp';

/** The origin of the newest entry of the read log. */
const latestOrigin = (page: DriverPage) => attribute(page, '.read-latest', 'data-origin');

describe(`demo app (end to end, headless ${e2eEngine()})`, () => {
  let api: RunningServer;
  let site: PreviewServer;
  let browser: Driver;
  let page: DriverPage;

  beforeAll(async () => {
    [api, site, browser] = await Promise.all([backend(), serveDemo(), launchEngine()]);
    page = await openPage(browser, `${site.resolvedUrls!.local[0]}?api=${encodeURIComponent(api.url)}`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.httpServer.close(() => resolve()) : resolve()));
    await api?.close();
  });

  it('should load the cached window and serve the initial view from storage', async () => {
    await expect.poll(() => text(page, '.window-message'), { timeout: 30_000 }).toMatch(/Holding the last 3 days/);
    await expect.poll(() => latestOrigin(page), { timeout: 10_000 }).toBe('storage');
    expect(await text(page, '.read-latest')).toMatch(/^[\d,]+ records from storage in \d+/);
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

  it('should show an edited value after saving it and invalidating the reading', async () => {
    const id = await attribute(page, '.records tbody tr', 'data-id');
    // The edited row's own status element: the live update re-renders the table (about 100 ms after "Saved"), and a poll can miss that window.
    await hold(page, 'status', `.records tbody tr[data-id="${id}"] .edit-status`);
    await fillAndChange(page, `.records tbody tr[data-id="${id}"] input`, '1234.5');
    await expect.poll(() => heldText(page, 'status'), { timeout: 10_000 }).toBe('Saved');
    // A re-rendered row carries the value in its attribute; a typed value lives only in the property.
    await expect.poll(() => attribute(page, `.records tbody tr[data-id="${id}"] input`, 'value'), { timeout: 10_000 }).toBe('1234.5');
    expect(await text(page, '.read-latest')).toMatch(/records from storage after refresh \(live update\)$/);
    const response = await fetch(`${api.url}/api/readings?ids=${id}`, { headers: { accept: 'application/json' } });
    expect(((await response.json()) as { value: number }[])[0]?.value).toBe(1234.5);
  });

  it('should report no console errors while the backend is up', async () => {
    expect(await page.errors()).toEqual([]);
  });

  it('should keep serving covered views when the backend stops', async () => {
    await screenshot(page, 'demo-online');
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
