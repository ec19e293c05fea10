// vite.config.ts — pre-bundle the library up front, so that the first dev visit does not stop to re-optimize and reload.
import { defineConfig } from 'vite';

export default defineConfig({
  worker: { format: 'es' },
  optimizeDeps: { include: ['tablecache-web', 'tablecache-web/idb', 'tablecache-web/worker'] },
});
