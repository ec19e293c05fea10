import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

/**
 * Builds the bench page; the library is imported by its package name, from source. `BENCH_OUT_DIR` builds elsewhere
 * than `bench/dist` (two runs at once must not overwrite each other's page); `BENCH_MINIFY=0` keeps the code unminified,
 * for readable names in `--profile` output.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: { conditions: ['source', ...defaultClientConditions] },
  logLevel: 'warn',
  build: {
    outDir: process.env.BENCH_OUT_DIR ?? 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    minify: process.env.BENCH_MINIFY === '0' ? false : 'oxc',
  },
  worker: { format: 'es' },
});
