import { chromium, type Page } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../../chromium';
import { defaultViewport, type Driver, type DriverPage, type LaunchOptions } from './driver';

function wrap(page: Page): DriverPage {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return {
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
    screenshot: async (path) => void (await page.screenshot({ path, fullPage: true })),
    errors: async () => [...errors],
    close: () => page.close(),
  };
}

/** Debian's Chromium through playwright-core. */
export async function launchChromium(options: LaunchOptions): Promise<Driver> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, ...(options.chromiumArgs ?? [])] });
  return {
    engine: 'chromium',
    async newContext() {
      const context = await browser.newContext({ viewport: options.viewport ?? defaultViewport });
      return { newPage: async () => wrap(await context.newPage()), close: () => context.close() };
    },
    close: () => browser.close(),
  };
}
