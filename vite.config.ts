import { playwright } from '@vitest/browser-playwright';
import { availableEngines } from './browsers';
import { chromiumArgs, chromiumPath } from './chromium';
import { engineProvider } from './test/engines/vitestProvider';
import { defaultClientConditions, defaultServerConditions } from 'vite';
import { configDefaults, defineConfig } from 'vitest/config';
import type { TestProjectInlineConfiguration } from 'vitest/config';

/**
 * The real-browser projects over every engine that is here (see `browsers.ts`): the Vitest browser-mode suites,
 * one instance per engine (`browser (engine)`), and the end-to-end suites driven from Node, one project per
 * engine (`e2e (engine)`; the suites read `E2E_ENGINE`). Engines run side by side, as any two projects do.
 */
function browserProjects(): TestProjectInlineConfiguration[] {
  const engines = availableEngines();
  if (!engines.length) return [];
  // One id per run: the engines' end-to-end suites share one build of each page (test/engines/sharedBuild.ts).
  const runId = `${process.pid}-${Date.now()}`;
  const e2e = engines.map((engine): TestProjectInlineConfiguration => ({
    extends: true,
    test: {
      name: `e2e (${engine})`,
      include: ['test/e2e/**/*.e2e.test.ts', 'test/tabs/**/*.e2e.test.ts'],
      // The live suite over two backend processes on PostgreSQL adds only server-side behaviour: Chromium's run is enough.
      exclude: engine === 'chromium' ? configDefaults.exclude : [...configDefaults.exclude, 'test/e2e/livePostgres.e2e.test.ts'],
      environment: 'node',
      env: { E2E_ENGINE: engine, E2E_RUN_ID: runId },
      testTimeout: 60_000,
      hookTimeout: 180_000,
    },
  }));
  const browser: TestProjectInlineConfiguration = {
    extends: true,
    test: {
      name: 'browser',
      include: ['test/**/*.browser.test.ts'],
      // Three engines share the cores: a test that takes 2 s alone can take 15 s when they all run.
      testTimeout: 30_000,
      browser: {
        enabled: true,
        headless: true,
        screenshotFailures: false,
        instances: engines.map((engine) => ({
          browser: engine,
          provider:
            engine === 'chromium'
              ? playwright({ launchOptions: { executablePath: chromiumPath, args: [...chromiumArgs] } })
              : engineProvider(engine),
        })),
      },
    },
  };
  return [...e2e, browser];
}

export default defineConfig({
  // The demo's production build (`npm run demo:build`); `npm run demo:preview` serves it.
  build: { outDir: 'demo-dist', target: 'es2022' },
  preview: { port: 5173 },
  worker: { format: 'es' },
  // Pre-bundled up front, so the first page load does not stop to re-optimize and reload.
  optimizeDeps: { include: ['comlink', 'sorted-btree', 'uplot', 'zod'] },
  // The demo imports the library by its package name; the `source` condition of the exports map serves it from src/.
  resolve: { conditions: ['source', ...defaultClientConditions] },
  // The same for Node-side tests that import it by name (the README's examples), rather than a stale dist/.
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.browser.test.ts', 'test/**/*.dom.test.ts', 'test/**/*.e2e.test.ts', 'test/e2e/**'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'dom',
          include: ['test/**/*.dom.test.ts'],
          environment: 'happy-dom',
        },
      },
      // Only where Vitest plans the run: a Vite build that loads this file (the e2e suites build the demo) needs no browsers.
      ...(process.env.VITEST && !process.env.VITEST_WORKER_ID ? browserProjects() : []),
    ],
  },
});
