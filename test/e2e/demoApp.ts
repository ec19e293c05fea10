import { spawn } from 'node:child_process';
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

/** The reference backend in this process, on a free port: over PGlite in memory, or over `database`. */
export function backend(seedReadings = 20_000, database?: { url: string }): Promise<RunningServer> {
  return startServer({ port: 0, seedReadings, database });
}

/** A backend running as an OS process of its own. */
export interface BackendProcess {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  readonly url: string;
  /** Stops it (SIGTERM, as Ctrl-C does; SIGKILL if it has not exited 10 s later) and resolves once it has exited. */
  close(): Promise<void>;
}

/**
 * The reference backend as its own OS process, as `npm run server` runs it (`demo/server/main.ts` under tsx; its
 * own connection pool, its own LISTEN), on a free port, over the Postgres at `databaseUrl`. Resolves once it listens.
 */
export async function backendProcess(databaseUrl: string, seedReadings = 20_000): Promise<BackendProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/server/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, SEED_READINGS: String(seedReadings) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Not left running when this test process exits without closing it.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /Readings API on (http:\/\/\S+)\/api /.exec(output);
      if (listening) resolve(listening[1]!);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('error', reject);
    void exited.then(() =>
      reject(new Error(`The backend process exited (${child.exitCode ?? child.signalCode}) before listening:\n${output}`)),
    );
  });
  return {
    url,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', kill);
    },
  };
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
