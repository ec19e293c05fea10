import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './app';
import { ChangeFeedHub, type ChangeFeedOptions } from './changeFeed';
import { createChangeLog } from './changes';
import { openPglite, openPostgres, type Database } from './database';
import { countReadings, createReadingsIndex, createReadingsTable, seedReadings } from './readings';
import type { StreamStats } from './readingsStream';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number | undefined;
  /** When `port` is taken: reject with the `EADDRINUSE` error (true, the default) or listen on a free port instead (false). */
  strictPort?: boolean | undefined;
  /** Interface to listen on. Default `127.0.0.1` (loopback only). */
  hostname?: string | undefined;
  /**
   * Where the data lives: an open {@link Database} (not closed by `close()`),
   * `{ url }` for a Postgres server, `{ dataDir }` for a PGlite directory.
   * Default: PGlite in memory.
   */
  database?: Database | { url: string } | { dataDir: string } | undefined;
  /** Readings to seed when the table is empty, spread over the 30 days before `seedEnd`. Default 200 000. */
  seedReadings?: number | undefined;
  /** The end of the seeded 30 days. Default: now. */
  seedEnd?: Date | undefined;
  /** Rows per database round trip while streaming. Default 1000. */
  batchSize?: number | undefined;
  /** CORS origins allowed besides the local ones. */
  corsOrigins?: readonly string[] | undefined;
  /** The change feed's heartbeat, polling, retention and connection limit; see {@link ChangeFeedOptions}. */
  changeFeed?: ChangeFeedOptions | undefined;
  /** Host names served besides the loopback ones (and `hostname` when it is a name); see `AppOptions.allowedHosts`. */
  allowedHosts?: readonly string[] | undefined;
}

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8787` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly db: Database;
  /** Counters of streamed responses (started, completed, cancelled by the client, failed). */
  readonly stats: StreamStats;
  /** Stops listening, drops open connections, and closes the database unless it was passed in open. */
  close(): Promise<void>;
}

async function openDatabase(option: StartServerOptions['database']): Promise<{ db: Database; owned: boolean }> {
  if (option && 'query' in option) return { db: option, owned: false };
  if (option && 'url' in option) return { db: await openPostgres(option.url), owned: true };
  return { db: await openPglite(option?.dataDir), owned: true };
}

/** Opens (and seeds, when empty) the database and serves the API on loopback. Resolves once listening. */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const { db, owned } = await openDatabase(options.database);
  try {
    await createReadingsTable(db);
    if ((await countReadings(db)) === 0) {
      await seedReadings(db, { count: options.seedReadings ?? 200_000, end: options.seedEnd });
    }
    await createReadingsIndex(db);
    // After seeding, so that the seed is not logged as 200 000 changes.
    await createChangeLog(db);
  } catch (error) {
    if (owned) await db.close();
    throw error;
  }
  const changeFeed = await ChangeFeedHub.start(db, options.changeFeed);
  const stats: StreamStats = { started: 0, completed: 0, cancelled: 0, failed: 0 };
  const hostname = options.hostname ?? '127.0.0.1';
  const allowedHosts = [...(options.allowedHosts ?? []), ...(/^(0\.0\.0\.0|::)$/.test(hostname) ? [] : [hostname])];
  const app = createApp(db, { batchSize: options.batchSize, corsOrigins: options.corsOrigins, allowedHosts, stats, changeFeed });
  const listen = (port: number) =>
    new Promise<{ server: ReturnType<typeof serve>; address: AddressInfo }>((resolve, reject) => {
      const server = serve({ fetch: app.fetch, port, hostname }, (address) => resolve({ server, address }));
      server.once('error', reject);
    });
  let listening: Awaited<ReturnType<typeof listen>>;
  try {
    listening = await listen(options.port ?? 0).catch((error: unknown) => {
      if (options.strictPort !== false || (error as { code?: unknown }).code !== 'EADDRINUSE') throw error;
      return listen(0);
    });
  } catch (error) {
    await changeFeed.close();
    if (owned) await db.close();
    throw error;
  }
  const { server, address } = listening;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    db,
    stats,
    close() {
      closing ??= (async () => {
        await changeFeed.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          if ('closeAllConnections' in server) server.closeAllConnections();
        });
        if (owned) await db.close();
      })();
      return closing;
    },
  };
}
