import { CachedTable } from '../../src/core/CachedTable';
import type { StorageTable } from '../../src/core/types';
import { RangeIndexes, type RangeSpec } from '../../src/indexes/RangeIndexes';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import type { CachedTableClient } from '../../src/worker/CachedTableClient';
import { connectCachedTable } from '../../src/worker/connectCachedTable';
import { exposeSharedCachedTable, type ExposedSharedCachedTable } from '../../src/tabs/exposeSharedCachedTable';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { idsFilter, readings, tsRange, type FilterSpec, type Reading } from '../support/records';
import { FakeLockRegistry, type FakeLockContext } from './FakeLocks';

export type TsSpec = RangeSpec<'ts'>;
export type TsIndexes = RangeIndexes<Reading, number, FilterSpec, 'ts'>;
export type ReadingsTable = CachedTable<Reading, number, TsSpec, FilterSpec>;

export function tsIndexes(): TsIndexes {
  return new RangeIndexes({
    indexName: 'ts',
    primaryKey: (record: Reading) => record.id,
    score: (record: Reading) => record.ts,
    dbRecordsSpecForRange: tsRange,
    dbRecordsSpecForKeys: idsFilter,
  });
}

/** What one simulated tab's worker made when it opened the table. */
export interface OpenedTable {
  readonly tab: string;
  readonly table: ReadingsTable;
  readonly db: MemoryDbAccess;
  readonly storage: StorageTable<Reading>;
}

/** One simulated tab: its worker's part in the shared table, and where its clients connect. */
export interface Tab {
  readonly name: string;
  readonly exposed: ExposedSharedCachedTable;
  readonly locks: FakeLockContext;
  /** Where this tab's clients connect (`connectCachedTable(endpoint)`). */
  readonly endpoint: MessagePort;
  /** Connects a client of this tab. */
  connect(): CachedTableClient<Reading, TsSpec>;
  /** The tab goes away: its channels close, its locks are released, its storage connection is closed. */
  kill(): Promise<void>;
}

/** Options of {@link TabsWorld}. */
export interface TabsWorldOptions {
  /** Records in every tab's backend (ids 0..n-1, ts = id). Default 1000. */
  records?: number;
  /** Makes the storage a tab opens; default a fresh MemoryStorageTable. */
  storage?: (indexes: TsIndexes) => StorageTable<Reading> | Promise<StorageTable<Reading>>;
  /** Closes a tab's storage when it is killed. */
  closeStorage?: (storage: StorageTable<Reading>) => void;
  version?: number;
  /** Called with each table a tab opens, as a worker module that follows a change feed does. */
  follow?: (table: ReadingsTable, tab: string) => void;
}

let worlds = 0;

/**
 * Several simulated tabs in one Node process, each with its own worker-side
 * node of one shared table (fake Web Locks, real BroadcastChannels), and
 * every table any of them opened.
 */
export class TabsWorld {
  readonly name = `tabs-test-${process.pid}-${++worlds}`;
  readonly locks = new FakeLockRegistry();
  readonly opened: OpenedTable[] = [];
  readonly tabs: Tab[] = [];
  private readonly clients: CachedTableClient<Reading, TsSpec>[] = [];
  private readonly ports: MessagePort[] = [];

  constructor(private readonly options: TabsWorldOptions = {}) {}

  /** Starts a tab's worker; resolves once it has met the owner (or become it). */
  async open(name: string, options: { version?: number } = {}): Promise<Tab> {
    const locks = this.locks.context();
    const { port1, port2 } = new MessageChannel();
    this.ports.push(port1, port2);
    const openTable = async () => {
      const indexes = tsIndexes();
      const db = new MemoryDbAccess(readings(this.options.records ?? 1000));
      const storage = await (this.options.storage?.(indexes) ?? new MemoryStorageTable(indexes, { name: 'readings' }));
      const table = new CachedTable(indexes, db, storage, { name: 'readings' });
      this.opened.push({ tab: name, table, db, storage });
      this.options.follow?.(table, name);
      return table;
    };
    const exposed = exposeSharedCachedTable(openTable, {
      name: this.name,
      version: options.version ?? this.options.version ?? 1,
      locks,
      target: port2,
    });
    const tab: Tab = {
      name,
      exposed,
      locks,
      endpoint: port1,
      connect: () => {
        const client = connectCachedTable<Reading, TsSpec>(port1, { batchSize: 16 });
        this.clients.push(client);
        return client;
      },
      kill: async () => {
        // A tab that goes away does not wait for anything: its reads in progress are abandoned.
        exposed.close().catch(() => {});
        locks.kill();
        for (const opened of this.opened) if (opened.tab === name) this.options.closeStorage?.(opened.storage);
      },
    };
    this.tabs.push(tab);
    await until(() => exposed.role === 'owner' || exposed.role === 'follower', `${name} to meet the owner`);
    return tab;
  }

  /** The table opened by the tab that owns it now. */
  ownerTable(): OpenedTable {
    const owner = this.tabs.find((tab) => tab.exposed.role === 'owner');
    const opened = this.opened.filter((each) => each.tab === owner?.name).at(-1);
    if (!opened) throw new Error('no tab owns the table');
    return opened;
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.clients.splice(0).map((client) => client.close()));
    await Promise.allSettled(this.tabs.splice(0).map((tab) => tab.kill()));
    for (const port of this.ports.splice(0)) port.close();
  }
}

/** Waits until `condition()` holds, checking every few milliseconds; fails after `timeoutMs` (a safety net). */
export async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
