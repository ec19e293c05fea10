import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { connectCachedTable } from '../../src/worker/connectCachedTable';
import { WorkerConnectionError } from '../../src/worker/WorkerConnectionError';
import type { Reading } from '../support/records';
import { describeTableClient } from './describeTableClient';
import { postMalformedConnects } from './fixtures/malformedConnectMessages';
import { connectFixtureControl, type TsSpec } from './fixtures/tableFixture';

/**
 * Starts `node.worker.ts` in a worker thread. Node 20 does not apply
 * `--import tsx` to a worker's entry module, so a small script registers tsx
 * first and then imports the fixture.
 */
function startFixtureWorker(): Worker {
  const url = new URL('./fixtures/node.worker.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url)}); });`, {
    eval: true,
  });
}

describeTableClient('a worker_threads Worker', async () => {
  const worker = startFixtureWorker();
  const failure = new Promise<never>((_, reject) => worker.once('error', reject));
  failure.catch(() => {});
  const { control, close } = connectFixtureControl(worker);
  // The first answer proves the worker runs; a failure to start rejects instead of timing out.
  await Promise.race([control.counts(), failure]);
  return {
    endpoint: worker,
    control,
    dispose: async () => {
      close();
      await worker.terminate();
    },
  };
});

describe('exposeCachedTable in a worker_threads Worker', () => {
  it('should survive malformed connect messages, opening no session for them', async () => {
    const worker = startFixtureWorker();
    const exits: number[] = [];
    worker.on('exit', (code) => exits.push(code));
    const { control, close } = connectFixtureControl(worker);
    try {
      await control.counts();
      postMalformedConnects(worker);
      const client = connectCachedTable<Reading, TsSpec>(worker);
      await client.load({ indexName: 'ts', ge: 0, lt: 10 });
      expect((await control.counts()).connections).toBe(1);
      await client.close();
      expect(exits).toEqual([]);
    } finally {
      close();
      await worker.terminate();
    }
  }, 30_000);
});

describe('connectCachedTable to a worker_threads Worker', () => {
  const ts = { indexName: 'ts', ge: 0, lt: 10 } as const;

  it('should reject pending and later calls with a WorkerConnectionError when the worker throws at start-up', async () => {
    const worker = new Worker(`throw new Error('the worker failed at start-up');`, { eval: true });
    const client = connectCachedTable<Reading, TsSpec>(worker, { connectTimeoutMs: 0 });
    const error = await client.stats().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(WorkerConnectionError);
    expect(error).toMatchObject({ reason: 'worker-error' });
    expect(((error as Error).cause as Error).message).toBe('the worker failed at start-up');
    await expect(client.load(ts)).rejects.toBe(error);
    await worker.terminate();
  });

  it('should reject with a WorkerConnectionError after connectTimeoutMs when the worker never exposes a table', async () => {
    const worker = new Worker(`setInterval(() => {}, 1000);`, { eval: true });
    try {
      const client = connectCachedTable<Reading, TsSpec>(worker, { connectTimeoutMs: 200 });
      await expect(client.stats()).rejects.toMatchObject({ name: 'WorkerConnectionError', reason: 'timeout', timeoutMs: 200 });
    } finally {
      await worker.terminate();
    }
  });

  it('should reject later calls with a WorkerConnectionError once the worker exits', async () => {
    const worker = startFixtureWorker();
    const { control, close } = connectFixtureControl(worker);
    try {
      await control.counts();
      const client = connectCachedTable<Reading, TsSpec>(worker);
      await client.load(ts);
      await worker.terminate();
      await expect(client.stats()).rejects.toMatchObject({ name: 'WorkerConnectionError', reason: 'worker-exit' });
      expect(client.isClosed).toBe(true);
    } finally {
      close();
    }
  }, 30_000);
});
