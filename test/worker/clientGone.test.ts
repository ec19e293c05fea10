import { wrap } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { CachedTable } from '../../src/core/CachedTable';
import { RangeIndexes } from '../../src/indexes/RangeIndexes';
import { MemoryStorageTable } from '../../src/storage/MemoryStorageTable';
import { newConnection } from '../../src/worker/endpoint';
import { exposeCachedTable } from '../../src/worker/exposeCachedTable';
import type { TableSessionApi } from '../../src/worker/protocol';
import { MemoryDbAccess } from '../support/MemoryDbAccess';
import { readings, tsRange, type Reading } from '../support/records';
import { until } from '../tabs/TabsWorld';

function makeTable(db: MemoryDbAccess) {
  const indexes = new RangeIndexes({
    indexName: 'ts',
    primaryKey: (record: Reading) => record.id,
    score: (record: Reading) => record.ts,
    dbRecordsSpecForRange: tsRange,
  });
  return new CachedTable(indexes, db, new MemoryStorageTable(indexes));
}

describe('exposeCachedTable', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  describe('a client that goes away without closing', () => {
    it('should close its session when its ports close, cancelling the backend fetch of its open read', async () => {
      const { port1: page, port2: worker } = new MessageChannel();
      cleanups.push(
        () => page.close(),
        () => worker.close(),
      );
      const db = new MemoryDbAccess(readings(100));
      const exposed = exposeCachedTable(makeTable(db), worker);
      cleanups.push(() => exposed.close());

      // A client as connectCachedTable makes it, whose page then goes away: its ports close, close() is never called.
      const { message, transfer, sessionPort, updatesPort } = newConnection();
      page.postMessage(message, transfer);
      const session = wrap<TableSessionApi<Reading>>(sessionPort);
      await session.load({ indexName: 'ts', ge: 0, lt: 10 });
      const opened = await session.openRead({ indexName: 'ts', ge: 50, lt: 100 }, 5);
      expect([opened.from, opened.records.length, opened.done]).toEqual(['db', 5, false]);
      expect(exposed.connections).toBe(1);
      expect(db.cancelled).toBe(0);

      sessionPort.close();
      updatesPort.close();
      await until(() => db.cancelled === 1, 'the backend fetch to be cancelled');
      await until(() => exposed.connections === 0, 'the session to close');
    });

    it('should not serve a client that went away while the table was still being made', async () => {
      const { port1: page, port2: worker } = new MessageChannel();
      cleanups.push(
        () => page.close(),
        () => worker.close(),
      );
      let resolveTable!: (table: ReturnType<typeof makeTable>) => void;
      const exposed = exposeCachedTable(new Promise<ReturnType<typeof makeTable>>((resolve) => (resolveTable = resolve)), worker);
      cleanups.push(() => exposed.close());
      const gone = newConnection();
      page.postMessage(gone.message, gone.transfer);
      // A second client, still there: once it is served, the first has had every chance to be.
      const staying = newConnection();
      page.postMessage(staying.message, staying.transfer);
      const session = wrap<TableSessionApi<Reading>>(staying.sessionPort);
      cleanups.push(() => session.close());
      gone.sessionPort.close();
      gone.updatesPort.close();
      // Lets the ports' close events reach the exposing side (they are dispatched within a few turns).
      await new Promise((resolve) => setTimeout(resolve, 50));
      resolveTable(makeTable(new MemoryDbAccess(readings(10))));
      expect((await session.stats()).loaded).toBe(0);
      expect(exposed.connections).toBe(1);
    });
  });
});
