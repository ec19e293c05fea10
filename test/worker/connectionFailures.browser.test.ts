import { describe, expect, it } from 'vitest';
import { connectCachedTable } from '../../src/worker/connectCachedTable';
import { connectSharedCachedTable } from '../../src/tabs/connectSharedCachedTable';
import { WorkerConnectionError } from '../../src/worker/WorkerConnectionError';
import type { Reading } from '../support/records';
import type { TsSpec } from './fixtures/tableFixture';

// Built from a variable, so that Vite does not try to bundle a worker that does not exist.
const missingScript = new URL(`./fixtures/${'no-such'}.worker.js`, import.meta.url);
/** A shared worker of its own: one of the same URL and name would be the one made before, whose error has fired already. */
const uniqueName = () => `missing-${Math.random().toString(36).slice(2)}`;

describe('connectCachedTable in Chromium', () => {
  describe('a worker that cannot serve a table', () => {
    it('should reject pending and later calls with a WorkerConnectionError when the worker throws at start-up', async () => {
      const worker = new Worker(new URL('./fixtures/throwing.worker.ts', import.meta.url), { type: 'module' });
      try {
        const client = connectCachedTable<Reading, TsSpec>(worker, { connectTimeoutMs: 0 });
        const error = await client.stats().catch((thrown: unknown) => thrown);
        expect(error).toBeInstanceOf(WorkerConnectionError);
        expect(error).toMatchObject({ reason: 'worker-error' });
        expect((error as Error).message).toContain('the worker failed at start-up');
        await expect(client.load({ indexName: 'ts', ge: 0, lt: 10 })).rejects.toBe(error);
        await expect(client.close()).resolves.toBeUndefined();
      } finally {
        worker.terminate();
      }
    });

    it('should reject with a WorkerConnectionError when the worker script is not found', async () => {
      const worker = new Worker(missingScript, { type: 'module' });
      try {
        const client = connectCachedTable<Reading, TsSpec>(worker, { connectTimeoutMs: 0 });
        await expect(client.stats()).rejects.toMatchObject({ name: 'WorkerConnectionError', reason: 'worker-error' });
        expect(client.isClosed).toBe(true);
      } finally {
        worker.terminate();
      }
    });

    it('should reject with a WorkerConnectionError after connectTimeoutMs when the worker never exposes a table', async () => {
      const worker = new Worker(new URL('./fixtures/silent.worker.ts', import.meta.url), { type: 'module' });
      try {
        const client = connectCachedTable<Reading, TsSpec>(worker, { connectTimeoutMs: 300 });
        const updates: unknown[] = [];
        client.subscribe({ indexName: 'ts', ge: 0, lt: 10 }, (update) => updates.push(update));
        await expect(client.stats()).rejects.toMatchObject({ name: 'WorkerConnectionError', reason: 'timeout', timeoutMs: 300 });
        expect(updates).toHaveLength(1);
        expect((updates[0] as { error?: unknown }).error).toBeInstanceOf(WorkerConnectionError);
      } finally {
        worker.terminate();
      }
    });

    it("should reject with a WorkerConnectionError on a SharedWorker's error event", async () => {
      const client = connectCachedTable<Reading, TsSpec>(new SharedWorker(missingScript, { type: 'module', name: uniqueName() }), {
        connectTimeoutMs: 0,
      });
      await expect(client.stats()).rejects.toMatchObject({ name: 'WorkerConnectionError', reason: 'worker-error' });
    });
  });
});

describe('connectSharedCachedTable in Chromium', () => {
  describe('a worker that cannot serve a table', () => {
    it("should reject with a WorkerConnectionError on the shared worker's error event", async () => {
      const client = connectSharedCachedTable<Reading, TsSpec>({
        mode: 'shared-worker',
        sharedWorker: () => new SharedWorker(missingScript, { type: 'module', name: uniqueName() }),
        connectTimeoutMs: 0,
      });
      await expect(client.stats()).rejects.toMatchObject({ name: 'WorkerConnectionError', reason: 'worker-error' });
    });

    it("should reject with a WorkerConnectionError when this tab's worker throws at start-up", async () => {
      let worker: Worker | undefined;
      const client = connectSharedCachedTable<Reading, TsSpec>({
        mode: 'web-locks',
        worker: () => (worker = new Worker(new URL('./fixtures/throwing.worker.ts', import.meta.url), { type: 'module' })),
        connectTimeoutMs: 0,
      });
      try {
        await expect(client.stats()).rejects.toMatchObject({ name: 'WorkerConnectionError', reason: 'worker-error' });
      } finally {
        worker?.terminate();
      }
    });
  });
});
