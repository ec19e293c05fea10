import { startServer } from './startServer';

/**
 * `npm run server`: the reference backend.
 *
 * Environment: `PORT` (default 8787), `HOST` (default 127.0.0.1),
 * `DATABASE_URL` (a Postgres server; otherwise embedded PGlite),
 * `PGLITE_DATA_DIR` (persist PGlite there; otherwise in memory),
 * `SEED_READINGS` (readings seeded into an empty table, default 200000),
 * `CORS_ORIGINS` (comma-separated origins allowed besides localhost),
 * `ALLOWED_HOSTS` (comma-separated host names served besides the loopback ones).
 */
function envInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${name} must be a non-negative integer, not '${text}'.`);
    process.exit(2);
  }
  return value;
}

const started = performance.now();
const databaseUrl = process.env.DATABASE_URL;
const dataDir = process.env.PGLITE_DATA_DIR;
const list = (name: string) =>
  (process.env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
const port = envInteger('PORT', 8787);
const server = await startServer({
  port,
  hostname: process.env.HOST || '127.0.0.1',
  database: databaseUrl ? { url: databaseUrl } : dataDir ? { dataDir } : undefined,
  seedReadings: envInteger('SEED_READINGS', 200_000),
  corsOrigins: list('CORS_ORIGINS'),
  allowedHosts: list('ALLOWED_HOSTS'),
}).catch((error: unknown) => {
  if ((error as { code?: unknown }).code !== 'EADDRINUSE') throw error;
  console.error(`Port ${port} is in use (another server running?): stop it, or start with PORT=<another port> (PORT=0 picks a free one).`);
  process.exit(1);
});
const where = databaseUrl ? 'Postgres (DATABASE_URL)' : dataDir ? `PGlite in ${dataDir}` : 'PGlite in memory';
console.log(`Readings API on ${server.url}/api (${where}, ready in ${Math.round(performance.now() - started)} ms)`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
