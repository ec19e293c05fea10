import { defineConfig } from 'vite';

/** The library build: one ES module per entry of the `exports` map; dependencies stay external. */
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    minify: false,
    lib: {
      entry: { index: 'src/index.ts', idb: 'src/idb.ts', worker: 'src/worker.ts' },
      formats: ['es'],
    },
    rolldownOptions: {
      external: [/^comlink(\/.*)?$/, /^zod(\/.*)?$/, /^sorted-btree$/, /^node:/],
    },
  },
});
