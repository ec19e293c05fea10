/// <reference lib="webworker" />
// The demo's worker: a CachedTable of readings by time, in IndexedDB, over the reference backend,
// shared by every tab of the demo (run as one SharedWorker, or as each tab's own worker).
import { CachedTable, RangeIndexes, RestChangeFeed, RestDbAccess, type RestRecordsSpec } from 'tablecache-web';
import { z } from 'zod';
import { IdbStorageTable } from 'tablecache-web/idb';
import { exposeSharedCachedTable } from 'tablecache-web/worker';
import { readingSchema, type WorkerConfig } from './shared';
import type { Reading } from './ui/types';

const config = JSON.parse(self.name) as WorkerConfig;

async function openTable() {
  const indexes = new RangeIndexes<Reading, number, RestRecordsSpec, 'ts'>({
    indexName: 'ts',
    primaryKey: (reading) => reading.id,
    score: (reading) => reading.ts,
    dbRecordsSpecForRange: (ge, lt) => ({ path: '/api/readings', query: { ge, lt } }),
    // For invalidateKeys (the page's edits): the backend's `ids=` fetch, at most 1,000 ids a request (the table's default keysPerFetch).
    dbRecordsSpecForKeys: (ids) => ({ path: '/api/readings', query: { ids } }),
  });
  const storage = await IdbStorageTable.open(indexes, { name: 'readings', dbName: 'tablecache-demo' });
  // A stopped backend is known at once (a refused connection is offline without waiting); the timeout is for a backend
  // that accepts and says nothing, and must not fail a busy one (the first load's count and scan can take seconds).
  const db = new RestDbAccess({ baseUrl: config.api, schema: readingSchema, connectTimeoutMs: 10_000 });
  // A reload paints the view from IndexedDB at once (stale) and refreshes it in the background.
  const table = new CachedTable(indexes, db, storage, { name: 'readings', staleWhileRevalidate: true });
  // Live: every change on the backend (by anyone) refetches the readings this cache holds. Before resume(), so that
  // a reload catches up from the stored cursor rather than treating everything as stale.
  table.followChanges((after) => new RestChangeFeed({ baseUrl: config.api, path: '/api/changes', after, keySchema: z.number().int() }));
  return table;
}

// Listen at once; connections wait until a worker owns the table and has opened IndexedDB.
exposeSharedCachedTable(openTable, { name: 'readings' });
