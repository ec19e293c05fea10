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
}

/**
 * Opens an embedded PGlite database: in memory when `dataDir` is undefined,
 * otherwise persisted in that directory.
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  const db = await PGlite.create(dataDir);
  return {
    kind: 'pglite',
    async query<T extends object>(sql: string, params: readonly unknown[] = []) {
      return (await db.query<T>(sql, [...params])).rows;
    },
    async exec(sql) {
      await db.exec(sql);
    },
    close: () => db.close(),
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
  };
}
