import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { chromiumArgs, chromiumPath } from '../../chromium';
import { startServer, type RunningServer } from '../../demo/server/startServer';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const outputDir = fileURLToPath(new URL('../../test-results', import.meta.url));


/** The demo's production build, served by `vite preview`, built once per test file (into its own folder: files run in parallel). */
export async function serveDemo(name: string): Promise<PreviewServer> {
  const outDir = `${outputDir}/demo-dist-${name}`;
  await build({ root, logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return preview({ root, logLevel: 'error', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
}

export function backend(seedReadings = 20_000): Promise<RunningServer> {
  return startServer({ port: 0, seedReadings });
}

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs] });
}

/** A page that records its console errors and uncaught errors. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const errors: string[] = [];
  const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  await page.goto(url);
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(outputDir, { recursive: true });
  const path = `${outputDir}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
