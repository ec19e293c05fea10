/// <reference lib="webworker" />
// The test table, shared by every tab: run as a SharedWorker, or as each tab's dedicated worker.
import { CachedTable } from '../../../src/core/CachedTable';
import { RestDbAccess, type RestRecordsSpec } from '../../../src/db/RestDbAccess';
import { RangeIndexes } from '../../../src/indexes/RangeIndexes';
import { IdbStorageTable } from '../../../src/storage/IdbStorageTable';
import { exposeSharedCachedTable } from '../../../src/tabs/exposeSharedCachedTable';
import { eventsChannel, readingSchema, testDbName, type Reading, type TabsWorkerConfig } from './tabsConfig';

const config = JSON.parse(self.name) as TabsWorkerConfig;

exposeSharedCachedTable(
  async () => {
    new BroadcastChannel(eventsChannel).postMessage({ type: 'opened', by: config.tab ?? 'shared-worker' });
    const indexes = new RangeIndexes<Reading, number, RestRecordsSpec, 'ts'>({
      indexName: 'ts',
      primaryKey: (reading) => reading.id,
      score: (reading) => reading.ts,
      dbRecordsSpecForRange: (ge, lt) => ({ path: '/api/readings', query: { ge, lt } }),
    });
    const storage = await IdbStorageTable.open(indexes, { name: 'readings', dbName: testDbName });
    const db = new RestDbAccess({ baseUrl: config.api, schema: readingSchema, connectTimeoutMs: 1000, retry: { attempts: 1 } });
    return new CachedTable(indexes, db, storage, { name: 'readings' });
  },
  { name: 'tabs-test' },
);
