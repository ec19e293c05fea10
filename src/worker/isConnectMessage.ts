import type { SharedConnectMessage } from '../tabs/broadcastProtocol';

// Duck-typed rather than `instanceof MessagePort`: the ports may come from another realm's implementation (Node's
// `worker_threads` ports under a DOM shim such as happy-dom). A message cannot forge one: structured clones carry no
// functions, so only a transferred port has these methods.
function isMessagePort(value: unknown): value is MessagePort {
  if (typeof value !== 'object' || value === null) return false;
  const port = value as Partial<MessagePort>;
  return typeof port.postMessage === 'function' && typeof port.close === 'function' && typeof port.start === 'function';
}

/**
 * Whether `data` is a request to open a connection, as `connectCachedTable`
 * and `connectSharedCachedTable` send it: the connect `type`, two distinct
 * `MessagePort`s, and a `pageLock` that is a string when present. Anything
 * else arriving on an exposed endpoint is ignored, so that a stray or
 * hostile message can neither throw in the exposing thread nor open a
 * session. `protocol` is not checked here: a client of another version is
 * answered, saying so.
 */
export function isConnectMessage(data: unknown): data is SharedConnectMessage {
  if (typeof data !== 'object' || data === null) return false;
  const { type, sessionPort, updatesPort, pageLock } = data as Partial<Record<keyof SharedConnectMessage, unknown>>;
  return (
    type === 'tablecache-web:connect' &&
    isMessagePort(sessionPort) &&
    isMessagePort(updatesPort) &&
    sessionPort !== updatesPort &&
    (pageLock === undefined || typeof pageLock === 'string')
  );
}
