import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, DriverPage } from '../engines/driver';
import { e2eEngine, isVisible, text } from '../engines/pageOps';
import { launchEngine, openPage, serveDemo } from './demoApp';

// The demo's build served with its cache worker's script missing (404): the worker fails to start, and the calls
// the start-up makes to it would wait forever.
describe(`demo app start-up failure (end to end, headless ${e2eEngine()})`, () => {
  let site: PreviewServer;
  let browser: Driver;
  let page: DriverPage;

  beforeAll(async () => {
    [site, browser] = await Promise.all([
      serveDemo([
        {
          name: 'drop-the-cache-worker',
          configurePreviewServer(server) {
            server.middlewares.use((request, response, next) => {
              if (!request.url?.includes('cache.worker')) return next();
              response.statusCode = 404;
              response.end();
            });
          },
        },
      ]),
      launchEngine(),
    ]);
    // No backend: the start-up fails before it would need one.
    page = await openPage(browser, `${site.resolvedUrls!.local[0]}?api=${encodeURIComponent('http://127.0.0.1:9')}`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.httpServer.close(() => resolve()) : resolve()));
  });

  it('should replace its loading text with an error naming the failed worker, and log it', async () => {
    await expect.poll(() => text(page, '.startup-error h2'), { timeout: 30_000 }).toBe('The dashboard could not start');
    expect(await isVisible(page, '.startup-error')).toBe(true);
    expect(await text(page, '.startup-error-message')).toMatch(/^Error: The cache worker failed/);
    expect(await text(page, '#app')).not.toMatch(/Loading the dashboard/);
    expect((await page.errors()).some((error) => error.includes('The dashboard could not start'))).toBe(true);
  });
});
