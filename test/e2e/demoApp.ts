import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, preview, type PluginOption, type PreviewServer } from 'vite';
import { startServer, type RunningServer } from '../../demo/server/startServer';
import { captureErrors } from '../engines/captureErrors';
import { launch, type Driver, type DriverPage } from '../engines/driver';
import { e2eEngine } from '../engines/pageOps';
import { outputDir, sharedBuild } from '../engines/sharedBuild';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export { outputDir };

/** The demo's production build, one per test run shared by every engine; resolves with its folder. */
export function buildDemo(): Promise<string> {
  return sharedBuild('demo-dist', (dir) =>
    build({ root, logLevel: 'error', plugins: [captureErrors()], build: { outDir: dir, emptyOutDir: true } }),
  );
}

/** The demo's production build served by `vite preview`, with `plugins` (e.g. a middleware) if given. */
export async function serveDemo(plugins: PluginOption[] = []): Promise<PreviewServer> {
  const outDir = await buildDemo();
  return preview({ root, logLevel: 'error', plugins, build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
}

export function backend(seedReadings = 20_000): Promise<RunningServer> {
  return startServer({ port: 0, seedReadings });
}

/** The browser of this project's engine (`E2E_ENGINE`). */
export function launchEngine(): Promise<Driver> {
  return launch(e2eEngine());
}

/** A page of a fresh context, opened on `url`. */
export async function openPage(driver: Driver, url: string): Promise<DriverPage> {
  const context = await driver.newContext();
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

/** A screenshot into `test-results/<name>-<engine>.png`. */
export async function screenshot(page: DriverPage, name: string): Promise<string> {
  mkdirSync(outputDir, { recursive: true });
  const path = `${outputDir}/${name}-${e2eEngine()}.png`;
  await page.screenshot(path);
  return path;
}
