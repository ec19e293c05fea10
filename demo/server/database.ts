import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * The little the server needs of a Postgres connection. Both the embedded
 * PGlite and a real Postgres (through `pg`) provide it, running the same SQL.
 */
export interface Database {
  /** Which engine answers: the embedded PGlite or a Postgres server. */
  readonly kind: 'pglite' | 'postgres';
  /** Runs one parameterized statement (`$1`, `$2`, …) and resolves with its rows. */
  query<T extends object>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs one or more statements without parameters. */
  exec(sql: string): Promise<void>;
  /** Closes the connection (or pool); later calls reject. */
  close(): Promise<void>;
  /**
   * Calls `onNotify` on every `NOTIFY channel` (from any connection, on
   * commit); resolves once listening, with a function that stops. Optional:
   * without it the change feed polls.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
}

/**
 * Where a freshly initialized, empty PGlite data directory is kept between
 * runs, per PGlite version: `initdb` is most of PGlite's start-up (about
 * 5 s of 6), loading this copy takes about 1 s. `null` when the version
 * cannot be told.
 */
function initdbCachePath(): string | null {
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
    return join(tmpdir(), `tablecache-web-pglite-${version}-initdb.tgz`);
  } catch {
    return null;
  }
}

async function createInMemoryPglite(): Promise<PGlite> {
  const cachePath = initdbCachePath();
  if (cachePath) {
    try {
      return await PGlite.create({ loadDataDir: new Blob([readFileSync(cachePath)]) });
    } catch {
      // No copy yet, or an unusable one: initialize afresh and (re)write it below.
    }
  }
  const db = await PGlite.create();
  if (cachePath) {
    try {
      const temporary = `${cachePath}.${process.pid}.tmp`;
      writeFileSync(temporary, new Uint8Array(await (await db.dumpDataDir('gzip')).arrayBuffer()));
      // Atomic, so that a concurrent start never reads half a file.
      renameSync(temporary, cachePath);
    } catch (error) {
      console.warn(`Could not cache PGlite's initialized data directory: ${String(error)}`);
    }
  }
  return db;
}

/**
 * Opens an embedded PGlite database: in memory when `dataDir` is undefined
 * (starting from a cached copy of an empty, initialized database when there
 * is one in the OS temp directory), otherwise persisted in that directory.
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  const db = dataDir === undefined ? await createInMemoryPglite() : await PGlite.create(dataDir);
  return {
    kind: 'pglite',
    async query<T extends object>(sql: string, params: readonly unknown[] = []) {
      return (await db.query<T>(sql, [...params])).rows;
    },
    async exec(sql) {
      await db.exec(sql);
    },
    close: () => db.close(),
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, () => onNotify());
      return async () => {
        if (!db.closed) await unlisten();
      };
    },
  };
}

/**
 * `LISTEN channel` on a connection of its own (a pooled one would be handed
 * to other queries), reconnecting after a failure; `onNotify` is also called
 * on reconnecting, since notifications sent meanwhile were lost.
 */
async function listenPostgres(connectionString: string, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString });
    next.on('notification', () => onNotify());
    next.on('error', (error) => {
      console.error(`LISTEN ${channel} connection lost:`, error.message);
      next.end().catch(() => {});
      if (!stopped) retry = setTimeout(() => void connect().catch(() => {}), 1000);
    });
    await next.connect();
    await next.query(`listen ${channel}`);
    if (stopped) return void (await next.end());
    client = next;
    onNotify();
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}

/** Connects to the Postgres server at `connectionString` (e.g. `postgres://user:pass@host:5432/db`) through a `pg` pool. */
export async function openPostgres(connectionString: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString, max: 8 });
  // An idle client losing its connection must not crash the server; the next query reconnects.
  pool.on('error', (error) => console.error('Postgres pool error:', error.message));
  await pool.query('select 1');
  return {
    kind: 'postgres',
    async query<T extends object>(sql: string, params: readonly unknown[] = []) {
      return (await pool.query(sql, [...params])).rows as T[];
    },
    async exec(sql) {
      await pool.query(sql);
    },
    close: () => pool.end(),
    listen: (channel, onNotify) => listenPostgres(connectionString, channel, onNotify),
  };
}
