import type { SharedConnectMessage } from '../tabs/broadcastProtocol';
import type { TabElection } from '../tabs/TabElection';

/**
 * Calls `onGone` once, when the client of a connection has gone away
 * without closing it — its page navigated or was closed, its context
 * crashed — so that the worker can close its session and, with it, the
 * storage iterations and backend fetches of its open reads. Two signs, each
 * where the platform gives it:
 *
 * - a port of the connection fires `close` (Node's `worker_threads` ports
 *   always; browsers that ship the MessagePort `close` event — Chromium
 *   implements it but, as of version 156, does not fire it by default);
 * - the page's lifetime Web Lock, named in the connect request
 *   (`pageLock`), is released: every browser with Web Locks, given
 *   `election` to watch it with.
 *
 * No heartbeat: a background tab's timers are throttled to about once a
 * minute, so a heartbeat would either end the connections of healthy
 * background tabs or notice a dead one late. A client collected without
 * `close()` is covered by Comlink's finalizer, and a dedicated worker dies
 * with its page anyway.
 *
 * Returns a function that stops watching.
 */
export function watchClient(message: SharedConnectMessage, onGone: () => void, election?: TabElection): () => void {
  const { sessionPort, updatesPort, pageLock } = message;
  let watching = true;
  const gone = () => {
    if (!watching) return;
    stop();
    onGone();
  };
  const stopWatchingLock = pageLock !== undefined && election ? election.watch(pageLock, gone) : () => {};
  const stop = () => {
    watching = false;
    sessionPort.removeEventListener('close', gone);
    updatesPort.removeEventListener('close', gone);
    stopWatchingLock();
  };
  sessionPort.addEventListener('close', gone);
  updatesPort.addEventListener('close', gone);
  return stop;
}
