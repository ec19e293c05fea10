import { expose } from 'comlink';
import { TableCacheError } from '../core/errors';
import { installErrorTransfer, serializeError } from './errorTransfer';
import { PROTOCOL_VERSION, type ConnectMessage, type UpdateMessage } from './protocol';

/**
 * Where `connectCachedTable` opens a connection: anything with
 * `postMessage(message, transfer)` whose other side runs
 * `exposeCachedTable` — a `Worker`, a `SharedWorker`'s `port`, a
 * `MessagePort`, or Node's `worker_threads` `Worker` or `MessagePort`.
 */
export interface TableEndpoint {
  // `never[]` is what both DOM (`Transferable[]`) and Node (`readonly Transferable[]` of its own) posters accept.
  postMessage(message: unknown, transfer: never[]): void;
}

/** A DOM-style message source: a worker's global scope, a `MessagePort`. */
export interface EventMessageSource {
  addEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
  start?: () => void;
}

/** A Node-style message source: `worker_threads`' `parentPort` or a `MessagePort`. */
export interface NodeMessageSource {
  on(type: 'message', listener: (data: unknown) => void): unknown;
  off(type: 'message', listener: (data: unknown) => void): unknown;
}

/**
 * Where `exposeCachedTable` listens for connections: a worker's global scope
 * (dedicated or shared), a `MessagePort`, or Node's `parentPort`.
 */
export type TableExposeTarget = EventMessageSource | NodeMessageSource;

function isNodeSource(target: object): target is NodeMessageSource {
  const candidate = target as Partial<NodeMessageSource>;
  return typeof candidate.on === 'function' && typeof candidate.off === 'function';
}

/**
 * Calls `onData` with the data of every message `target` receives, until the
 * returned function is called. Starts a `MessagePort`.
 *
 * @throws {TableCacheError} when `target` cannot receive messages.
 */
export function listen(target: TableExposeTarget, onData: (data: unknown) => void): () => void {
  if (typeof target === 'object' && target !== null && isNodeSource(target)) {
    const listener = (data: unknown) => onData(data);
    target.on('message', listener);
    return () => void target.off('message', listener);
  }
  if (typeof target !== 'object' || target === null || typeof target.addEventListener !== 'function') {
    throw new TableCacheError(
      'exposeCachedTable needs a target that receives messages (a worker scope, a MessagePort, or worker_threads parentPort).',
    );
  }
  const listener = (event: Event) => onData((event as MessageEvent).data);
  target.addEventListener('message', listener);
  target.start?.();
  return () => target.removeEventListener('message', listener);
}

/** A `SharedWorkerGlobalScope`: connections arrive as `connect` events, one port each. */
export function isSharedWorkerScope(target: unknown): target is EventTarget {
  return (
    typeof target === 'object' &&
    target !== null &&
    'onconnect' in target &&
    typeof (target as Partial<EventTarget>).addEventListener === 'function'
  );
}

/**
 * Calls `onData` with every message arriving for connections: on `target`
 * itself, or, in a shared worker's scope, on the port of every `connect`
 * event. Returns a function that stops listening everywhere.
 *
 * @throws {TableCacheError} when `target` cannot receive messages.
 */
export function listenForConnections(target: TableExposeTarget, onData: (data: unknown) => void): () => void {
  if (!isSharedWorkerScope(target)) return listen(target, onData);
  const stops: (() => void)[] = [];
  const onConnect = (event: Event) => {
    for (const port of (event as MessageEvent).ports) stops.push(listen(port, onData));
  };
  target.addEventListener('connect', onConnect);
  return () => {
    target.removeEventListener('connect', onConnect);
    for (const stop of stops.splice(0)) stop();
  };
}

/** A new connection, seen from the client: the message that opens it, and the client's ends of its two channels. */
export interface NewConnection {
  /** To post to the worker, transferring `transfer`. */
  readonly message: ConnectMessage;
  readonly transfer: MessagePort[];
  /** The client's end of the session (Comlink) channel. */
  readonly sessionPort: MessagePort;
  /** The client's end of the channel subscription results arrive on. */
  readonly updatesPort: MessagePort;
}

/** Opens the channels of a connection to an exposed table (and lets its errors arrive as their classes). */
export function newConnection(): NewConnection {
  installErrorTransfer();
  const session = new MessageChannel();
  const updates = new MessageChannel();
  return {
    message: { type: 'tablecache-web:connect', protocol: PROTOCOL_VERSION, sessionPort: session.port2, updatesPort: updates.port2 },
    transfer: [session.port2, updates.port2],
    sessionPort: session.port1,
    updatesPort: updates.port1,
  };
}

/** Why a connection cannot be served when its client speaks another protocol version; `undefined` when it speaks this one. */
export function protocolMismatch(protocol: unknown): TableCacheError | undefined {
  if (protocol === PROTOCOL_VERSION) return undefined;
  return new TableCacheError(
    `The worker speaks tablecache-web worker protocol ${PROTOCOL_VERSION}, the client ${String(protocol)}: build the worker and the page with the same version of the library.`,
  );
}

/** Refuses a connection, saying why: the client closes with `error`, and every call made on it rejects with it. */
export function refuseConnection({ sessionPort, updatesPort }: ConnectMessage, error: unknown): void {
  updatesPort.postMessage({ type: 'closed', error: serializeError(error) } satisfies UpdateMessage);
  updatesPort.close();
  const refuse = () => {
    throw error;
  };
  expose(new Proxy({}, { get: () => refuse }), sessionPort);
}
