import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';

/**
 * A database the server suites (and the live end-to-end suite over two backends) run against: the embedded PGlite,
 * or a database of a real Postgres server.
 */
export interface TestBackend {
  /** `pglite` or `postgres`, for test names. */
  readonly name: 'pglite' | 'postgres';
  /** The connection string of a fresh, empty database (Postgres only). */
  readonly url?: string | undefined;
}

const ROLE = 'tablecache_test';
const PASSWORD = 'tablecache_test';

function run(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `psql` as the `postgres` superuser over the local socket; errors of concurrent suites doing the same are the caller's to ignore. */
function psql(sql: string, port: string): void {
  run('su', ['postgres', '-c', `psql -v ON_ERROR_STOP=1 -q -p ${port} -c ${JSON.stringify(sql).replace(/\$/g, '\\$')}`]);
}

/** The first local cluster (`pg_lsclusters`), started when it is down; its port, or why there is none. */
function localCluster(): { port: string } | { reason: string } {
  if (process.getuid?.() !== 0) return { reason: 'not running as root (pg_ctlcluster needs it)' };
  if (!existsSync('/usr/bin/pg_lsclusters')) return { reason: "Debian's postgresql is not installed (apt-get install -y postgresql)" };
  const line = run('pg_lsclusters', ['-h'])
    .split('\n')
    .find((row) => row.trim() !== '');
  if (!line) return { reason: 'pg_lsclusters lists no cluster' };
  const [version = '', cluster = '', port = '', status = ''] = line.trim().split(/\s+/);
  if (status !== 'online') {
    try {
      run('pg_ctlcluster', [version, cluster, 'start']);
    } catch (error) {
      // Another suite may have started it at the same moment: what counts is whether it is online now.
      if (!run('pg_lsclusters', ['-h', version, cluster]).includes('online'))
        return { reason: `pg_ctlcluster ${version} ${cluster} start failed: ${String(error)}` };
    }
  }
  return { port };
}

let warned = false;

/**
 * The backends a server suite runs against: PGlite always, and a real
 * Postgres when one is at hand — `TEST_DATABASE_URL` (a server whose
 * role may create databases), or else the local Debian cluster, started
 * here when it is down (as root: `pg_ctlcluster`), with a role of its own.
 * Each suite gets a fresh database named after it, so suites running in
 * parallel do not meet.
 *
 * Without Postgres the Postgres variants are left out with a loud warning,
 * except when `CI` is set: then this throws, as `vite.config.ts` does for
 * a missing Chromium.
 */
export async function testBackends(suite: string): Promise<TestBackend[]> {
  const database = `tablecache_test_${suite.replace(/\W/g, '_')}`;
  const given = process.env.TEST_DATABASE_URL;
  let adminUrl: string;
  if (given) {
    adminUrl = given;
  } else {
    const cluster = localCluster();
    if ('reason' in cluster) {
      if (process.env.CI)
        throw new Error(`CI is set but no Postgres is available for the server suites and the live end-to-end suite: ${cluster.reason}.`);
      if (!warned) {
        warned = true;
        console.warn(
          `\n${'!'.repeat(78)}\n!! No Postgres (${cluster.reason}): the server suites run on PGlite ONLY,\n` +
            `!! and the live end-to-end suite on two backends over one Postgres is left out.\n` +
            `!! Run as root with Debian's postgresql installed, or set TEST_DATABASE_URL.\n${'!'.repeat(78)}\n`,
        );
      }
      return [{ name: 'pglite' }];
    }
    try {
      psql(
        `do $$ begin create role ${ROLE} login createdb password '${PASSWORD}'; exception when duplicate_object or unique_violation then null; end $$`,
        cluster.port,
      );
    } catch {
      // A concurrent suite created it.
    }
    adminUrl = `postgres://${ROLE}:${PASSWORD}@127.0.0.1:${cluster.port}/postgres`;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return [{ name: 'pglite' }, { name: 'postgres', url: url.href }];
}
