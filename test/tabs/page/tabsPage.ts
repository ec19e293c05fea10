// The tabs test page: one tab of the app, driven by the test through `window.tabsTest`.
import type { CachedTableStats } from '../../../src/core/CachedTableOptions';
import { connectSharedCachedTable } from '../../../src/tabs/connectSharedCachedTable';
import type { SharedCachedTableClient } from '../../../src/tabs/SharedCachedTableClient';
import { upgradeDatabase } from '../../support/idbPromises';
import { eventsChannel, type Reading, type TabsWorkerConfig, type TimeSpec } from './tabsConfig';

/** A subscription's result as the test sees it. */
export type SeenUpdate = { records: Reading[]; from: string; stale: boolean } | { error: string; name: string };

/** What the test calls in the page (`page.evaluate`). */
export interface TabsTestApi {
  /** Table-opening events seen by this page (`by`: the tab whose worker opened it, or `'shared-worker'`). */
  readonly opened: string[];
  readonly mode: string | null;
  connect(mode: 'auto' | 'shared-worker' | 'web-locks'): string;
  resumeOrLoad(spec: TimeSpec): Promise<'resumed' | 'loaded'>;
  read(spec: TimeSpec): Promise<{ from: string; stale: boolean; records: Reading[] }>;
  stats(): Promise<CachedTableStats>;
  adjust(spec: TimeSpec): Promise<void>;
  invalidate(spec: TimeSpec): Promise<void>;
  subscribe(spec: TimeSpec): number;
  updates(subscription: number): SeenUpdate[];
  /** Calls `method` and says how it failed (or `null`). */
  failure(method: 'stats' | 'read', spec?: TimeSpec): Promise<{ name: string; message: string } | null>;
  /** Opens the database `dbName` at its next version, as a newer app would; resolves with that version. */
  upgradeDatabase(dbName: string): Promise<number>;
}

const params = new URLSearchParams(location.search);
const api = params.get('api') ?? '';
const tab = params.get('tab') ?? 'observer';
const opened: string[] = [];
new BroadcastChannel(eventsChannel).onmessage = (event) => opened.push((event.data as { by: string }).by);

let client: SharedCachedTableClient<Reading, TimeSpec> | null = null;
const updates = new Map<number, SeenUpdate[]>();
let nextSubscription = 1;

function connected(): SharedCachedTableClient<Reading, TimeSpec> {
  if (!client) throw new Error('not connected');
  return client;
}

async function readAll(spec: TimeSpec) {
  const read = await connected().readRecords(spec);
  const records: Reading[] = [];
  for await (const record of read.records) records.push(record);
  return { from: read.from, stale: read.stale, records };
}

const testApi: TabsTestApi = {
  opened,
  get mode() {
    return client?.mode ?? null;
  },
  connect(mode) {
    const shared: TabsWorkerConfig = { api };
    const own: TabsWorkerConfig = { api, tab };
    client = connectSharedCachedTable<Reading, TimeSpec>({
      mode,
      sharedWorker: () => new SharedWorker(new URL('./tabs.worker.ts', import.meta.url), { type: 'module', name: JSON.stringify(shared) }),
      worker: () => new Worker(new URL('./tabs.worker.ts', import.meta.url), { type: 'module', name: JSON.stringify(own) }),
    });
    return client.mode;
  },
  async resumeOrLoad(spec) {
    try {
      await connected().resume();
      return 'resumed';
    } catch {
      await connected().load(spec);
      return 'loaded';
    }
  },
  read: readAll,
  stats: () => connected().stats(),
  adjust: (spec) => connected().adjust(spec),
  invalidate: (spec) => connected().invalidateRecords([spec], [spec]),
  subscribe(spec) {
    const id = nextSubscription++;
    const seen: SeenUpdate[] = [];
    updates.set(id, seen);
    connected().subscribe(spec, (update) => {
      if (update.error) seen.push({ error: update.error.message, name: update.error.name });
      else seen.push({ records: update.records, from: update.from, stale: update.stale });
    });
    return id;
  },
  updates: (subscription) => updates.get(subscription) ?? [],
  async failure(method, spec) {
    try {
      if (method === 'stats') await connected().stats();
      else await readAll(spec as TimeSpec);
      return null;
    } catch (error) {
      return { name: (error as Error).name, message: (error as Error).message };
    }
  },
  upgradeDatabase,
};

(window as unknown as { tabsTest: TabsTestApi }).tabsTest = testApi;
document.title = `tabs test: ${tab}`;
