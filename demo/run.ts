/**
 * `npm run demo` (Vite dev server) and `npm run demo:preview` (the production
 * build from `npm run demo:build`): starts the reference backend and the
 * page together, prints the URL, and stops both on Ctrl-C.
 *
 * Environment: `PORT` (backend, default 8787), `DEMO_PORT` (page, default
 * 5173), `SEED_READINGS`, `DATABASE_URL`, `PGLITE_DATA_DIR` (see the server),
 * and `DEMO_API` — the URL of a backend started separately (`npm run
 * server`), so that stopping it shows the app offline while the page stays
 * served.
 */
import { createServer, preview } from 'vite';
import { startServer } from './server/startServer';

const previewMode = process.argv.includes('--preview');

function envInteger(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer.`);
  return value;
}

const external = process.env.DEMO_API?.replace(/\/$/, '');
const backend = external
  ? { url: external, close: async () => {} }
  : await startServer({
      port: envInteger('PORT', 8787),
      // Like the page's port: a second demo (or a server already running) must not end this one with EADDRINUSE.
      strictPort: false,
      seedReadings: envInteger('SEED_READINGS', 200_000),
      database: process.env.DATABASE_URL
        ? { url: process.env.DATABASE_URL }
        : process.env.PGLITE_DATA_DIR
          ? { dataDir: process.env.PGLITE_DATA_DIR }
          : undefined,
    });
// The page asks this backend (read by the page as import.meta.env.VITE_API_URL in dev, or ?api= in preview).
process.env.VITE_API_URL = backend.url;
const port = envInteger('DEMO_PORT', 5173);
const site = previewMode
  ? await preview({ preview: { port, host: '127.0.0.1', strictPort: false } })
  : await createServer({ server: { port, host: '127.0.0.1', strictPort: false } });
if (!previewMode) await (site as Awaited<ReturnType<typeof createServer>>).listen();
const url = site.resolvedUrls?.local[0] ?? `http://127.0.0.1:${port}/`;
const pageUrl = previewMode ? `${url}?api=${encodeURIComponent(backend.url)}` : url;
const backendPort = envInteger('PORT', 8787);
const movedNote =
  !external && 'port' in backend && backendPort !== 0 && backend.port !== backendPort ? ` (port ${backendPort} was taken)` : '';
console.log(`\n  Backend (reference API): ${backend.url}/api${external ? ' (started separately)' : movedNote}`);
console.log(`  Demo:                    ${pageUrl}\n  Ctrl-C stops ${external ? 'the page server' : 'both'}.\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    void Promise.allSettled([site.close(), backend.close()]).then(() => process.exit(0));
  });
}
