/// <reference lib="webworker" />
// The worker of freshness.changeToSubscriber (issue 15 item 6): a table of the demo's readings over the reference
// backend that follows its change feed, exposed to the page, which subscribes to a view and PATCHes readings in it.
import { expose, transfer } from 'comlink';
import { CachedTable, RangeIndexes, RestChangeFeed, RestDbAccess, type RangeSpec, type RestRecordsSpec } from 'tablecache-web';
import { IdbStorageTable } from 'tablecache-web/idb';
import { exposeCachedTable } from 'tablecache-web/worker';
import { z } from 'zod';
import { readingSchema } from '../demo/shared';
import type { Reading } from '../demo/ui/types';
import { deleteDatabase } from './idbHelpers';

const NAME = 'bench-freshness';
const READINGS_PATH = '/api/readings';

let table: CachedTable<Reading, number, RangeSpec<'ts'>, RestRecordsSpec> | null = null;
let storage: IdbStorageTable<Reading> | null = null;

async function closeTable(): Promise<void> {
  await table?.close();
  storage?.close();
  table = null;
  storage = null;
}

/** Resolves once `table`'s change feed is live. */
function live(followed: NonNullable<typeof table>): Promise<void> {
  return new Promise((resolve) => {
    const stop = followed.onChangeFeedStatus((status) => {
      if (status !== 'live') return;
      queueMicrotask(() => stop());
      resolve();
    });
  });
}

const api = {
  /**
   * A new table of the demo's readings in `window` (`ge` … now and later), loaded from the reference backend at
   * `apiUrl` and following its change feed (with `batchWindowMs` when given, else the feed's default), exposed on
   * the returned port. The feed is live before the load, so that the load stores its position and nothing held
   * is stale afterwards.
   */
  async open(apiUrl: string, window: { ge: number }, batchWindowMs?: number): Promise<MessagePort> {
    await closeTable();
    await deleteDatabase(`tablecache-web:${NAME}`);
    const indexes = new RangeIndexes<Reading, number, RestRecordsSpec, 'ts'>({
      indexName: 'ts',
      primaryKey: (reading) => reading.id,
      score: (reading) => reading.ts,
      dbRecordsSpecForRange: (ge, lt) => ({ path: READINGS_PATH, query: { ge, lt } }),
      dbRecordsSpecForKeys: (ids) => ({ path: READINGS_PATH, query: { ids } }),
    });
    storage = await IdbStorageTable.open<Reading>(indexes, { name: NAME });
    const followed = new CachedTable(indexes, new RestDbAccess({ baseUrl: apiUrl, schema: readingSchema }), storage, { name: NAME });
    table = followed;
    followed.followChanges(
      (after) =>
        new RestChangeFeed({
          baseUrl: apiUrl,
          path: '/api/changes',
          after,
          keySchema: z.number().int(),
          ...(batchWindowMs === undefined ? {} : { batchWindowMs }),
        }),
    );
    await live(followed);
    await followed.load({ indexName: 'ts', ge: window.ge, lt: Infinity });
    await storage.idle();
    const channel = new MessageChannel();
    exposeCachedTable(followed, channel.port2);
    return transfer(channel.port1, [channel.port1]);
  },

  /** Stops following and closes the table. */
  close: closeTable,
};

export type FreshnessApi = typeof api;
expose(api);
