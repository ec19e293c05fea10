import type { Database } from './database';

/** The channel the `readings` trigger notifies on commit. */
export const CHANGES_CHANNEL = 'readings_changes';

/** One entry of the change log, as on the wire (the cursor as a decimal string: it is a Postgres `bigint`). */
export interface ChangeRow {
  cursor: string;
  key: number;
  op: 'upsert' | 'delete';
}

/** How much of the change log is kept. Older entries are pruned; a client behind them is told to reset. */
export interface ChangeRetention {
  /** The most recent changes kept. Default 10 000. */
  maxChanges?: number | undefined;
  /** Changes older than this are pruned, in ms. Default 3 600 000 (1 hour). */
  maxAgeMs?: number | undefined;
}

export const defaultRetention = { maxChanges: 10_000, maxAgeMs: 3_600_000 } as const;

/**
 * Creates the change log unless it exists: the table `changes` (cursor
 * `bigserial`, key, op, committed_at), the one-row `changes_horizon`
 * (the highest cursor pruned), and a trigger on `readings` that logs every
 * insert, update and delete in the writing transaction and notifies
 * {@link CHANGES_CHANNEL} on commit. Being a trigger, it also logs changes
 * made by other processes, scripts and migrations.
 *
 * The trigger takes a transaction-scoped advisory lock before drawing a
 * cursor, so writers of `readings` draw cursors one at a time up to their
 * commit: cursors become visible in increasing order, and a reader that
 * saw cursor N can never later find a committed N-1 it missed.
 */
export async function createChangeLog(db: Database): Promise<void> {
  await db.exec(`
    create table if not exists changes (
      cursor bigserial primary key,
      key integer not null,
      op text not null check (op in ('upsert', 'delete')),
      committed_at timestamptz not null default now()
    );
    create table if not exists changes_horizon (
      id boolean primary key default true check (id),
      pruned_through bigint not null default 0
    );
    insert into changes_horizon default values on conflict do nothing;
    create or replace function readings_log_change() returns trigger language plpgsql as $$
    begin
      perform pg_advisory_xact_lock(73460210);
      if tg_op = 'DELETE' or (tg_op = 'UPDATE' and old.id <> new.id) then
        insert into changes (key, op) values (old.id, 'delete');
      end if;
      if tg_op <> 'DELETE' then
        insert into changes (key, op) values (new.id, 'upsert');
      end if;
      perform pg_notify('${CHANGES_CHANNEL}', '');
      return null;
    end
    $$;
    create or replace trigger readings_log_change after insert or update or delete on readings
      for each row execute function readings_log_change();
  `);
}

/** The newest cursor (the highest logged or pruned; `'0'` for an empty log) and the highest pruned one. */
export async function changeLogBounds(db: Database): Promise<{ current: string; prunedThrough: string }> {
  const [row] = await db.query<{ current: string; pruned_through: string }>(
    `select greatest(coalesce((select max(cursor) from changes), 0), h.pruned_through)::text as current,
            h.pruned_through::text as pruned_through
     from changes_horizon h`,
  );
  return { current: row?.current ?? '0', prunedThrough: row?.pruned_through ?? '0' };
}

/** Up to `limit` changes after `cursor`, in cursor order. */
export async function changesAfter(db: Database, cursor: string, limit: number): Promise<ChangeRow[]> {
  return db.query<ChangeRow>(`select cursor::text as cursor, key, op from changes where cursor > $1::bigint order by cursor limit $2`, [
    cursor,
    limit,
  ]);
}

/** Deletes the changes beyond `retention` (the oldest past `maxChanges`, and those older than `maxAgeMs`) and raises the horizon over them. */
export async function pruneChanges(db: Database, retention: Required<ChangeRetention>): Promise<void> {
  await db.query(
    `with bound as (
       select greatest(
         coalesce((select cursor from changes order by cursor desc offset $1 limit 1), 0),
         coalesce((select max(cursor) from changes where committed_at < now() - $2::float8 * interval '1 millisecond'), 0)
       ) as through
     ), gone as (
       delete from changes where cursor <= (select through from bound) returning cursor
     )
     update changes_horizon set pruned_through = greatest(pruned_through, (select through from bound))`,
    [retention.maxChanges, retention.maxAgeMs],
  );
}
