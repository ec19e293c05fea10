import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, DriverPage } from '../engines/driver';
import { attribute, count, e2eEngine, fillAndChange, text } from '../engines/pageOps';
import { launchEngine, openPage, serveDemo } from './demoApp';

/** The backends a live suite's two users reach: one for both, or one each. */
export interface LiveBackends {
  /** The base URL of the backend the page "mine" reads and follows. */
  readonly mine: string;
  /** The base URL of the backend the page "theirs" reads, follows and writes to, and that the tests write to as another service would. */
  readonly theirs: string;
  /** Stops the backend of "mine". */
  stopMine(): Promise<void>;
  /** Stops every backend (those already stopped too). */
  close(): Promise<void>;
}

const feedState = (page: DriverPage) => attribute(page, '.feed-status', 'data-state');
const row = (id: string | number) => `.records tbody tr[data-id="${id}"]`;
const shownValue = (page: DriverPage, id: string | number) => attribute(page, `${row(id)} input`, 'value');

/**
 * Two users of the demo: each browser has its own context (its own IndexedDB and SharedWorker, as separate profiles
 * have), so what one sees of the other's changes can only come through the change feed of the backend it follows.
 * `start` gives the backends (`setup` says which, for the suite's title); without it the suite is skipped.
 */
export function describeLive(setup: string, start: (() => Promise<LiveBackends>) | undefined): void {
  describe.skipIf(!start)(`demo app, live (end to end, headless ${e2eEngine()}): ${setup}`, () => {
    let api: LiveBackends;
    let site: PreviewServer;
    let browser: Driver;
    let mine: DriverPage;
    let theirs: DriverPage;

    beforeAll(async () => {
      [api, site, browser] = await Promise.all([start!(), serveDemo(), launchEngine()]);
      const page = (backend: string) => `${site.resolvedUrls!.local[0]}?api=${encodeURIComponent(backend)}`;
      mine = await openPage(browser, page(api.mine));
      theirs = await openPage(browser, page(api.theirs));
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise<void>((resolve) => (site ? site.httpServer.close(() => resolve()) : resolve()));
      await api?.close();
    });

    function write(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<Response> {
      return fetch(`${api.theirs}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    }

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
      const response = await write('POST', '/api/readings', { sensor: 'sensor-live', ts: new Date().toISOString(), value: 777.25 });
      expect(response.status).toBe(201);
      const { id } = (await response.json()) as { id: number };
      for (const page of [mine, theirs]) await expect.poll(() => shownValue(page, id), { timeout: 45_000 }).toBe('777.25');
    });

    it('should drop a reading deleted on the backend from both views', async () => {
      const id = (await attribute(mine, '.records tbody tr', 'data-id'))!;
      const response = await write('DELETE', `/api/readings/${id}`);
      expect(response.status).toBe(204);
      for (const page of [mine, theirs]) await expect.poll(() => count(page, row(id)), { timeout: 45_000 }).toBe(0);
    });

    it('should report no console errors while the backend is up', async () => {
      expect(await mine.errors()).toEqual([]);
      expect(await theirs.errors()).toEqual([]);
    });

    it('should say live updates are paused when the backend stops', async () => {
      await api.stopMine();
      await expect.poll(() => feedState(mine), { timeout: 30_000 }).toBe('offline');
      expect(await text(mine, '.feed-status')).toBe('Live updates paused (offline)');
    });
  });
}
