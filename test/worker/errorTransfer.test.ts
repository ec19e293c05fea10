import { expose, transferHandlers, wrap } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { DbAccessError, StorageError, TableCacheError } from '../../src/core/errors';
import { deserializeError, installErrorTransfer, registerErrorClass, serializeError } from '../../src/worker/errorTransfer';
import { sampleErrors, type SampleErrorName } from './fixtures/sampleErrors';

/** Serializes, clones as postMessage would, and rebuilds. */
const roundTrip = (thrown: unknown) => deserializeError(structuredClone(serializeError(thrown)));

class QuotaError extends StorageError {
  override name = 'QuotaError';
  readonly bytesWanted: number;

  constructor(bytesWanted: number) {
    super('over quota', { table: 't', operation: 'putRecords' });
    this.bytesWanted = bytesWanted;
  }
}

class AppError extends Error {
  override name = 'AppError';
  readonly code = 'E_APP';
}

describe('errorTransfer', () => {
  describe('serializeError / deserializeError', () => {
    it.each(Object.keys(sampleErrors) as SampleErrorName[])('should rebuild a %s as its own class with its fields', (name) => {
      const original = sampleErrors[name]() as Error & Record<string, unknown>;
      const rebuilt = roundTrip(original) as Error & Record<string, unknown>;
      expect(rebuilt).toBeInstanceOf(original.constructor);
      expect(rebuilt).not.toBe(original);
      expect(rebuilt.name).toBe(original.name);
      expect(rebuilt.message).toBe(original.message);
      expect(rebuilt.stack).toBe(original.stack);
      expect({ ...rebuilt }).toEqual({ ...original });
      expect(Object.keys(rebuilt)).toEqual(Object.keys(original));
    });

    it('should keep a chain of causes, each as its class', () => {
      const original = new DbAccessError('outer', {
        status: 500,
        cause: new StorageError('middle', { table: 't', operation: 'getRecords', cause: new DOMException('inner', 'DataError') }),
      });
      const rebuilt = roundTrip(original) as DbAccessError;
      const middle = rebuilt.cause as StorageError;
      expect(middle).toBeInstanceOf(StorageError);
      expect(middle.operation).toBe('getRecords');
      expect(middle.cause).toBeInstanceOf(DOMException);
      expect((middle.cause as DOMException).name).toBe('DataError');
    });

    it('should stop at a cyclic cause instead of looping', () => {
      const first = new TableCacheError('first');
      const second = new TableCacheError('second', { cause: first });
      Object.defineProperty(first, 'cause', { value: second });
      let rebuilt = roundTrip(first) as Error;
      let depth = 0;
      while (rebuilt instanceof Error) {
        rebuilt = rebuilt.cause as Error;
        depth++;
      }
      expect(depth).toBeGreaterThan(2);
      expect(depth).toBeLessThan(20);
    });

    it('should carry an unregistered subclass as its nearest registered class, with its name and fields', () => {
      const rebuilt = roundTrip(new QuotaError(4096)) as StorageError & { bytesWanted?: number };
      expect(rebuilt).toBeInstanceOf(StorageError);
      expect(rebuilt.name).toBe('QuotaError');
      expect(rebuilt.bytesWanted).toBe(4096);
      expect(rebuilt.table).toBe('t');
    });

    it('should carry an application error as an Error with its name and fields', () => {
      const rebuilt = roundTrip(new AppError('app failed')) as Error & { code?: string };
      expect(rebuilt).toBeInstanceOf(Error);
      expect(rebuilt.name).toBe('AppError');
      expect(rebuilt.code).toBe('E_APP');
    });

    it('should drop fields that cannot be cloned and keep the rest', () => {
      const original = Object.assign(new Error('with a callback'), { retry: () => 1, attempt: 3 });
      const rebuilt = roundTrip(original) as Error & { retry?: unknown; attempt?: number };
      expect(rebuilt.retry).toBeUndefined();
      expect(rebuilt.attempt).toBe(3);
    });

    it('should describe a cause that cannot be cloned as text', () => {
      const rebuilt = roundTrip(new TableCacheError('outer', { cause: { toString: () => 'a socket', fn: () => 0 } })) as Error;
      expect(rebuilt.cause).toBe('a socket');
    });

    it('should pass a thrown value that is not an error as it is', () => {
      expect(roundTrip('just a string')).toBe('just a string');
      expect(roundTrip({ code: 7 })).toEqual({ code: 7 });
    });
  });

  describe('registerErrorClass', () => {
    it('should let an application class cross as itself', () => {
      registerErrorClass('AppError', AppError);
      const rebuilt = roundTrip(new AppError('registered now'));
      expect(rebuilt).toBeInstanceOf(AppError);
      expect((rebuilt as AppError).code).toBe('E_APP');
    });

    it('should refuse a name already taken by another class', () => {
      expect(() => registerErrorClass('DbAccessError', AppError)).toThrow(TableCacheError);
    });
  });

  describe('installErrorTransfer', () => {
    const ports: MessagePort[] = [];
    afterEach(() => {
      for (const port of ports.splice(0)) port.close();
    });

    it('should make errors thrown through Comlink arrive as their class, installed once', async () => {
      installErrorTransfer();
      const handler = transferHandlers.get('throw');
      installErrorTransfer();
      expect(transferHandlers.get('throw')).toBe(handler);
      const { port1, port2 } = new MessageChannel();
      ports.push(port1, port2);
      expose(
        {
          fail: () => {
            throw sampleErrors.DbAccessError();
          },
        },
        port2,
      );
      const remote = wrap<{ fail(): void }>(port1);
      const error = await Promise.resolve(remote.fail()).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(DbAccessError);
      expect((error as DbAccessError).status).toBe(503);
      expect((error as DbAccessError).cause).toBeInstanceOf(TypeError);
    });

    it("should send errors that a peer with Comlink's default handler reads as it always did", () => {
      installErrorTransfer();
      const [wire] = transferHandlers.get('throw')?.serialize({ value: sampleErrors.DbAccessError() }) ?? [];
      const comlinkDefault = (serialized: { isError: boolean; value: { message: string } }) =>
        serialized.isError ? Object.assign(new Error(serialized.value.message), serialized.value) : serialized.value;
      const error = comlinkDefault(structuredClone(wire) as never) as Error;
      expect(error.name).toBe('DbAccessError');
      expect(error.message).toBe('GET /readings failed with 503');
    });

    it("should still read errors sent in Comlink's own format", () => {
      installErrorTransfer();
      const handler = transferHandlers.get('throw');
      expect(() => handler?.deserialize({ isError: true, value: { name: 'Error', message: 'old peer' } })).toThrow('old peer');
      expect(() => handler?.deserialize({ isError: false, value: 42 })).toThrow();
    });
  });
});
