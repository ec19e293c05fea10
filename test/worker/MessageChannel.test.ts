import { releaseProxy, wrap } from 'comlink';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { StorageError, TableCacheError } from '../../src/core/errors';
import { RangeIndexes } from '../../src/indexes/RangeIndexes';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import type { CachedTableClient } from '../../src/worker/CachedTableClient';
import { connectCachedTable } from '../../src/worker/connectCachedTable';
import { installErrorTransfer } from '../../src/worker/errorTransfer';
import { exposeCachedTable, type ExposedCachedTable } from '../../src/worker/exposeCachedTable';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { idsFilter, readings, tsRange, type FilterSpec, type Reading } from '../support/records';
import { scriptedFeeds } from '../support/ScriptedFeed';
import { describeTableClient } from './describeTableClient';
import { connectFixtureControl, serveFixture, type TsSpec } from './fixtures/tableFixture';
import { makeSmallTable } from './fixtures/smallTable';

describeTableClient('a MessageChannel', async () => {
  const { port1, port2 } = new MessageChannel();
  serveFixture(port2, { create: (indexes) => new MemoryStorageTable(indexes, { name: 'readings' }) });
  const { control, close } = connectFixtureControl(port1);
  return {
    endpoint: port1,
    control,
    dispose: async () => {
      close();
      port1.close();
      port2.close();
    },
  };
});

describe('exposeCachedTable', () => {
  const ports: MessagePort[] = [];
  const clients: CachedTableClient<Reading, TsSpec>[] = [];
  const exposures: ExposedCachedTable[] = [];
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    await Promise.allSettled(exposures.splice(0).map((exposed) => exposed.close()));
    for (const port of ports.splice(0)) port.close();
  });

  function channel(): [MessagePort, MessagePort] {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    return [port1, port2];
  }

  function expose(table: Parameters<typeof exposeCachedTable<Reading, number, TsSpec, FilterSpec>>[0], target: MessagePort) {
    const exposed = exposeCachedTable(table, target);
    exposures.push(exposed);
    return exposed;
  }

  function connect(endpoint: MessagePort): CachedTableClient<Reading, TsSpec> {
    const client = connectCachedTable<Reading, TsSpec>(endpoint);
    clients.push(client);
    return client;
  }

  it('should serve connections made while the table is still being made', async () => {
    const [page, worker] = channel();
    let resolveTable!: (table: CachedTable<Reading, number, TsSpec, FilterSpec>) => void;
    expose(new Promise((resolve) => (resolveTable = resolve)), worker);
    const client = connect(page);
    const loading = client.load({ indexName: 'ts', ge: 0, lt: 10 });
    resolveTable(makeSmallTable());
    await loading;
    expect((await client.stats()).loaded).toBe(10);
  });

  it('should tell the client the status of the change feed the table follows: now, on each change, and none once stopped', async () => {
    const [page, worker] = channel();
    const indexes = new RangeIndexes({
      indexName: 'ts',
      primaryKey: (record: Reading) => record.id,
      score: (record: Reading) => record.ts,
      dbRecordsSpecForRange: tsRange,
      dbRecordsSpecForKeys: idsFilter,
    });
    const table = new CachedTable(indexes, new MemoryDbAccess(readings(100)), new MemoryStorageTable(indexes));
    const feeds = scriptedFeeds();
    table.followChanges(feeds.open);
    expose(table, worker);
    const client = connect(page);
    const statuses: string[] = [];
    client.onChangeFeedStatus((status) => statuses.push(status));
    await client.stats();
    await vi.waitFor(() => expect(statuses.at(-1)).toBe('catching-up'));
    feeds.current.setStatus('live', '1');
    await vi.waitFor(() => expect(statuses.at(-1)).toBe('live'));
    feeds.current.setStatus('offline');
    await vi.waitFor(() => expect(statuses.at(-1)).toBe('offline'));
    await table.close();
    await vi.waitFor(() => expect(statuses.at(-1)).toBe('none'));
    expect(statuses).toEqual(['none', 'catching-up', 'live', 'offline', 'none']);
  });

  it('should reject every call with the error of a table that could not be made', async () => {
    const [page, worker] = channel();
    const failure = new StorageError('cannot open', {
      table: 'readings',
      operation: 'open',
      cause: new DOMException('blocked', 'VersionError'),
    });
    expose(Promise.reject(failure), worker);
    const error = await connect(page)
      .stats()
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).operation).toBe('open');
  });

  it('should refuse a client that speaks another protocol version, saying so', async () => {
    const [page, worker] = channel();
    expose(makeSmallTable(), worker);
    const session = new MessageChannel();
    const updates = new MessageChannel();
    ports.push(session.port1, updates.port1);
    page.postMessage({ type: 'tablecache-web:connect', protocol: 99, sessionPort: session.port2, updatesPort: updates.port2 }, [
      session.port2,
      updates.port2,
    ]);
    installErrorTransfer();
    const remote = wrap<{ stats(): Promise<unknown> }>(session.port1);
    const error = await remote.stats().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(TableCacheError);
    expect((error as Error).message).toContain('protocol');
    remote[releaseProxy]();
  });

  it('should close every connection on close(), telling their clients and subscribers', async () => {
    const [page, worker] = channel();
    const exposed = expose(makeSmallTable(), worker);
    const client = connect(page);
    await client.load({ indexName: 'ts', ge: 0, lt: 10 });
    const updates: unknown[] = [];
    client.subscribe({ indexName: 'ts', ge: 0, lt: 5 }, (update) => updates.push(update));
    await client.loaded();
    expect(exposed.connections).toBe(1);
    await exposed.close();
    expect(exposed.connections).toBe(0);
    await expect(client.stats()).rejects.toBeInstanceOf(TableCacheError);
    expect(client.isClosed).toBe(true);
    expect(updates.some((update) => (update as { error?: unknown }).error instanceof TableCacheError)).toBe(true);
  });

  it('should throw a TableCacheError for a target that cannot receive messages', () => {
    expect(() => exposeCachedTable(makeSmallTable(), {} as MessagePort)).toThrow(TableCacheError);
    expect(() => exposeCachedTable(makeSmallTable())).toThrow(TableCacheError);
  });
});

describe('CachedTableClient', () => {
  describe('its calls', () => {
    // A full garbage collection on demand: V8's gc(), exposed at run time.
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;

    it('should not keep what a call resolved with once the caller has let go of it', async () => {
      const { port1, port2 } = new MessageChannel();
      const indexes = new RangeIndexes({
        indexName: 'ts',
        primaryKey: (record: Reading) => record.id,
        score: (record: Reading) => record.ts,
        dbRecordsSpecForRange: tsRange,
      });
      const exposed = exposeCachedTable(
        new CachedTable(indexes, new MemoryDbAccess(readings(100)), new MemoryStorageTable(indexes)),
        port2,
      );
      const client = connectCachedTable<Reading, TsSpec>(port1);
      try {
        await client.load({ indexName: 'ts', ge: 0, lt: 10 });
        // The client stays open and busy (as a page's client does): what it handed out must still be collectable.
        const handedOut = new WeakRef(await client.stats());
        const record = await firstRecordOf(client);
        await client.stats();
        await new Promise((resolve) => setTimeout(resolve, 0));
        collectGarbage();
        expect(handedOut.deref()).toBeUndefined();
        expect(record.deref()).toBeUndefined();
      } finally {
        await client.close();
        await exposed.close();
        port1.close();
        port2.close();
      }
    });

    it('should still reject a call pending when the worker closes the connection', async () => {
      const { port1, port2 } = new MessageChannel();
      const indexes = new RangeIndexes({
        indexName: 'ts',
        primaryKey: (record: Reading) => record.id,
        score: (record: Reading) => record.ts,
        dbRecordsSpecForRange: tsRange,
      });
      // A backend that never answers: the load stays pending until the connection closes.
      const silent = {
        getRecords: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Reading>>(() => {}) }) }),
      };
      const exposed = exposeCachedTable(new CachedTable(indexes, silent, new MemoryStorageTable(indexes)), port2);
      const client = connectCachedTable<Reading, TsSpec>(port1);
      await client.stats();
      const pending = client.load({ indexName: 'ts', ge: 0, lt: 10 });
      await exposed.close();
      await expect(pending).rejects.toBeInstanceOf(TableCacheError);
      port1.close();
      port2.close();
    });
  });
});

/** A weak reference to the first record of a read, which nothing else of the caller keeps. */
async function firstRecordOf(client: CachedTableClient<Reading, TsSpec>): Promise<WeakRef<Reading>> {
  let first: Reading | undefined;
  for await (const record of client.getRecords({ indexName: 'ts', ge: 0, lt: 10 })) first ??= record;
  return new WeakRef(first as Reading);
}

describe('connectCachedTable', () => {
  it('should throw a TableCacheError for a batchSize that is not a whole number of at least 1', () => {
    const { port1, port2 } = new MessageChannel();
    try {
      expect(() => connectCachedTable(port1, { batchSize: 0 })).toThrow(TableCacheError);
      expect(() => connectCachedTable(port1, { batchSize: Number.NaN })).toThrow(TableCacheError);
    } finally {
      port1.close();
      port2.close();
    }
  });
});
