import { startServer } from './startServer';

/**
 * `npm run server`: the reference backend.
 *
 * Environment: `PORT` (default 8787), `HOST` (default 127.0.0.1),
 * `DATABASE_URL` (a Postgres server; otherwise embedded PGlite),
 * `PGLITE_DATA_DIR` (persist PGlite there; otherwise in memory),
 * `SEED_READINGS` (readings seeded into an empty table, default 200000),
 * `CORS_ORIGINS` (comma-separated origins allowed besides localhost).
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
const server = await startServer({
  port: envInteger('PORT', 8787),
  hostname: process.env.HOST || '127.0.0.1',
  database: databaseUrl ? { url: databaseUrl } : dataDir ? { dataDir } : undefined,
  seedReadings: envInteger('SEED_READINGS', 200_000),
  corsOrigins: (process.env.CORS_ORIGINS ?? '').split(',').map((origin) => origin.trim()).filter(Boolean),
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
