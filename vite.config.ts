import { existsSync } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import { chromiumArgs, chromiumPath } from './chromium';
import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import type { TestProjectInlineConfiguration } from 'vitest/config';


function browserProject(): TestProjectInlineConfiguration[] {
  if (!existsSync(chromiumPath)) {
    if (process.env.CI) throw new Error(`CI is set but Chromium is missing at ${chromiumPath}: the browser suites must run.`);
    console.warn(
      `\n${'!'.repeat(78)}\n!! Chromium not found at ${chromiumPath}: SKIPPING the real-browser test suites.\n` +
        `!! Install it (apt-get install -y chromium) or set CHROMIUM_PATH to run them.\n${'!'.repeat(78)}\n`,
    );
    return [];
  }
  return [
    {
      extends: true,
      test: {
        name: 'e2e',
        include: ['test/e2e/**/*.e2e.test.ts', 'test/tabs/**/*.e2e.test.ts'],
        environment: 'node',
        testTimeout: 60_000,
        hookTimeout: 120_000,
      },
    },
    {
      extends: true,
      test: {
        name: 'browser',
        include: ['test/**/*.browser.test.ts'],
        browser: {
          enabled: true,
          headless: true,
          screenshotFailures: false,
          provider: playwright({ launchOptions: { executablePath: chromiumPath, args: [...chromiumArgs] } }),
          instances: [{ browser: 'chromium' }],
        },
      },
    },
  ];
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
      ...browserProject(),
    ],
  },
});
