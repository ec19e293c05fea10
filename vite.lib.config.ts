import { defineConfig } from 'vite';

/**
 * The library build: one ES module per source module (`dist/` mirrors `src/`), so that an app's bundler, told by
 * `sideEffects: false`, drops whole modules a page does not use (a page that only connects to the worker gets no
 * zod and no storage code); dependencies stay external.
 */
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    minify: false,
    lib: {
      entry: { index: 'src/index.ts', idb: 'src/idb.ts', worker: 'src/worker.ts', react: 'src/react.ts' },
      formats: ['es'],
    },
    rolldownOptions: {
      external: [/^comlink(\/.*)?$/, /^zod(\/.*)?$/, /^sorted-btree$/, /^react(\/.*)?$/, /^node:/],
      output: { preserveModules: true, preserveModulesRoot: 'src', entryFileNames: '[name].js' },
    },
  },
});
