import { transferHandlers, type TransferHandler } from 'comlink';
import * as coreErrors from '../core/errors';
import { TableCacheError } from '../core/errors';
import { RestProtocolError } from '../db/RestProtocolError';
import type { SerializedError, SerializedValue } from './protocol';
import { TableOwnerLostError } from '../tabs/TableOwnerLostError';

/** A class of errors that can be rebuilt on the other side of the boundary. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error;

const classesByName = new Map<string, ErrorClass>();
const namesByClass = new Map<ErrorClass, string>();

/**
 * Lets errors of `errorClass` (and of its unregistered subclasses) cross the
 * worker boundary as that class, with their own fields. Call it with the same
 * `name` on both sides (the UI thread and the worker). The library's own
 * classes are registered already.
 *
 * The rebuilt error is made without running the class's constructor: its
 * prototype is `errorClass.prototype`, and its fields are copied over.
 *
 * @throws {TableCacheError} when `name` is registered for another class.
 */
export function registerErrorClass(name: string, errorClass: ErrorClass): void {
  const existing = classesByName.get(name);
  if (existing && existing !== errorClass) {
    throw new TableCacheError(`Another error class is already registered as '${name}'.`);
  }
  classesByName.set(name, errorClass);
  namesByClass.set(errorClass, name);
}

// Every error class the core exports (by its export name, which is its `name`), so that a new one crosses the
// boundary without being listed here; the REST layer's own (a protocol violation is not any backend error); and the
// worker layer's own.
for (const [name, errorClass] of [
  ...Object.entries(coreErrors),
  ['RestProtocolError', RestProtocolError] as const,
  ['TableOwnerLostError', TableOwnerLostError] as const,
]) {
  registerErrorClass(name, errorClass);
}

const builtinErrors: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Own fields that every error has and that are rebuilt separately. */
const standardFields = new Set(['name', 'message', 'stack', 'cause']);

/** Deeper causes are cut, so that a cyclic or huge chain cannot stall the boundary. */
const maxDepth = 8;

function isDomException(value: unknown): value is DOMException {
  return typeof DOMException !== 'undefined' && value instanceof DOMException;
}

/** Whether `value` survives `postMessage` (checked by cloning it, as errors are rare and small). */
function isCloneable(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return typeof value !== 'symbol';
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

function encodeValue(value: unknown, depth: number): SerializedValue | undefined {
  if (value instanceof Error || isDomException(value)) return depth < maxDepth ? serializeError(value, depth + 1) : undefined;
  return isCloneable(value) ? { type: 'tablecache-web:value', value } : undefined;
}

function decodeValue(value: SerializedValue): unknown {
  return value.type === 'tablecache-web:error' ? deserializeError(value) : value.value;
}

/** The registered class `error` is an instance of, nearest first, with its registered name. */
function registeredClassOf(error: Error): [string, ErrorClass] | undefined {
  for (let proto: unknown = Object.getPrototypeOf(error); proto && proto !== Error.prototype; proto = Object.getPrototypeOf(proto)) {
    const errorClass = (proto as { constructor: ErrorClass }).constructor;
    const name = namesByClass.get(errorClass);
    if (name !== undefined) return [name, errorClass];
  }
  return undefined;
}

function builtinNameOf(error: Error): string {
  for (let proto: unknown = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    const name = (proto as { constructor: { name: string } }).constructor.name;
    if (builtinErrors[name]?.prototype === proto) return name;
  }
  return 'Error';
}

/**
 * Turns a thrown value into plain data that `postMessage` can carry: the
 * error's class (registered, built-in, or `DOMException`), name, message,
 * stack, its own cloneable fields and its `cause`, recursively. Never throws.
 */
export function serializeError(thrown: unknown, depth = 0): SerializedError {
  const base = { type: 'tablecache-web:error', fields: {} } as const;
  try {
    if (isDomException(thrown)) {
      return { ...base, kind: 'dom', className: 'DOMException', name: thrown.name, message: thrown.message, stack: stackOf(thrown) };
    }
    if (!(thrown instanceof Error)) {
      const value = isCloneable(thrown) ? thrown : String(thrown);
      return { ...base, kind: 'value', className: '', name: '', message: String(thrown), stack: undefined, value };
    }
    const registered = registeredClassOf(thrown);
    const fields: Record<string, SerializedValue> = {};
    for (const key of Object.keys(thrown)) {
      if (standardFields.has(key)) continue;
      const encoded = encodeValue((thrown as unknown as Record<string, unknown>)[key], depth);
      if (encoded) fields[key] = encoded;
    }
    const serialized: SerializedError = {
      ...base,
      kind: registered ? 'registered' : 'builtin',
      className: registered ? registered[0] : builtinNameOf(thrown),
      name: thrown.name,
      message: thrown.message,
      stack: thrown.stack,
      fields,
    };
    if (!('cause' in thrown)) return serialized;
    const cause = encodeValue(thrown.cause, depth) ?? { type: 'tablecache-web:value', value: String(thrown.cause) };
    return { ...serialized, cause };
  } catch (error) {
    // A hostile getter on the error must not break the boundary: send what can be said about it.
    return {
      ...base,
      kind: 'builtin',
      className: 'Error',
      name: 'Error',
      message: `Unserializable error: ${String(error)}`,
      stack: undefined,
    };
  }
}

function stackOf(error: { stack?: unknown }): string | undefined {
  return typeof error.stack === 'string' ? error.stack : undefined;
}

function define(target: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable, configurable: true });
}

/**
 * Rebuilds a thrown value from {@link serializeError}'s data: the same
 * registered class (so `instanceof` works), built-in class or
 * `DOMException`, with the same name, message, stack, fields and cause.
 * An unregistered class arrives as its nearest registered or built-in ancestor.
 */
export function deserializeError(serialized: SerializedError): unknown {
  if (serialized.kind === 'value') return serialized.value;
  let error: Error;
  if (serialized.kind === 'dom' && typeof DOMException !== 'undefined') {
    error = new DOMException(serialized.message, serialized.name);
  } else if (serialized.kind === 'registered') {
    // A class registered only on the sending side arrives as a plain Error with its name and fields.
    const errorClass = classesByName.get(serialized.className) ?? Error;
    error = Reflect.construct(Error, [serialized.message], errorClass) as Error;
    define(error, 'name', serialized.name, true);
  } else {
    const constructor = builtinErrors[serialized.className] ?? Error;
    error = new constructor(serialized.message);
    if (error.name !== serialized.name) define(error, 'name', serialized.name, false);
  }
  if (serialized.stack !== undefined) define(error, 'stack', serialized.stack, false);
  for (const [key, value] of Object.entries(serialized.fields)) define(error, key, decodeValue(value), true);
  if (serialized.cause) define(error, 'cause', decodeValue(serialized.cause), false);
  return error;
}

/** Whether `value` is data made by {@link serializeError}. */
export function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'tablecache-web:error';
}

const ownHandler = Symbol('tablecache-web error transfer');

/**
 * What crosses for a thrown value: Comlink's own format (`isError`,
 * `value`), which a peer with Comlink's default handler still reads, plus
 * the full {@link SerializedError} for a peer with this one.
 */
interface ThrownOnWire {
  readonly isError: boolean;
  readonly value: unknown;
  readonly tablecacheError: SerializedError;
}

function isThrownOnWire(value: unknown): value is ThrownOnWire {
  return typeof value === 'object' && value !== null && isSerializedError((value as Partial<ThrownOnWire>).tablecacheError);
}

/**
 * Replaces Comlink's handler of thrown values (which keeps only name, message
 * and stack) with one that carries errors as {@link serializeError} does.
 * Idempotent; both `exposeCachedTable` and `connectCachedTable` call it.
 * It applies to all Comlink traffic of the thread, and stays compatible
 * both ways: a peer with Comlink's default handler reads these errors as it
 * always did, and errors from such a peer arrive as Comlink makes them.
 */
export function installErrorTransfer(): void {
  const comlinkHandler = transferHandlers.get('throw');
  if (!comlinkHandler || ownHandler in comlinkHandler) return;
  const handler: TransferHandler<unknown, unknown> & { [ownHandler]: true } = {
    [ownHandler]: true,
    canHandle: (value): value is unknown => comlinkHandler.canHandle(value),
    serialize: (thrown) => {
      const tablecacheError = serializeError((thrown as { value: unknown }).value);
      const wire: ThrownOnWire =
        tablecacheError.kind === 'value'
          ? { isError: false, value: tablecacheError.value, tablecacheError }
          : {
              isError: true,
              value: { name: tablecacheError.name, message: tablecacheError.message, stack: tablecacheError.stack },
              tablecacheError,
            };
      return [wire, []];
    },
    deserialize: (serialized) => {
      if (isThrownOnWire(serialized)) throw deserializeError(serialized.tablecacheError);
      return comlinkHandler.deserialize(serialized);
    },
  };
  transferHandlers.set('throw', handler);
}
