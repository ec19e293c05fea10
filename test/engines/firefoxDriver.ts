import puppeteer, { type Page } from 'puppeteer-core';
import { firefoxPath } from '../../browsers';
import { defaultViewport, type Driver, type DriverPage, type LaunchOptions } from './driver';

function wrap(page: Page): DriverPage {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error instanceof Error ? error.message : String(error)}`));
  return {
    goto: async (url) => void (await page.goto(url, { timeout: 0 })),
    reload: async () => void (await page.reload({ timeout: 0 })),
    evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
    screenshot: async (path) => void (await page.screenshot({ path, fullPage: true })),
    errors: async () => [...errors],
    close: () => page.close(),
  };
}

/** Prefs for a closed network: no update checks, telemetry or first-run pages. */
const firefoxPrefs = {
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'extensions.update.enabled': false,
};

/** Debian's Firefox ESR through puppeteer-core over WebDriver BiDi (nothing downloaded: no geckodriver needed). */
export async function launchFirefox(options: LaunchOptions): Promise<Driver> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: firefoxPath,
    headless: true,
    extraPrefsFirefox: { ...firefoxPrefs, ...options.firefoxPrefs },
    protocolTimeout: 600_000,
  });
  const viewport = options.viewport ?? defaultViewport;
  return {
    engine: 'firefox',
    async newContext() {
      const context = await browser.createBrowserContext();
      return {
        async newPage() {
          const page = await context.newPage();
          await page.setViewport(viewport);
          return wrap(page);
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}
