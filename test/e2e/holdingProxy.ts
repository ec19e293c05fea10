/**
 * A loopback HTTP proxy in front of the reference backend that can hold back its answers: while `hold()` is on,
 * the responses to requests whose path matches send their headers but not their body (the records) until
 * `release()`. Holding the body rather than the request keeps the client within its connect timeout (a held
 * request would be abandoned by `RestDbAccess` after `connectTimeoutMs`), while no record reaches it. Everything
 * else (the health check, the change feed) passes through, streamed both ways. It counts the matching answers it
 * has let through, so that a test can tell that the page showed something before the backend answered it.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HoldingProxy {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Matching answers whose body has started to flow since the last `hold()`. */
  readonly answered: number;
  /** Matching answers waiting for `release()`. */
  readonly held: number;
  /** The requests open now, each as `METHOD path (state, age)`: for a test's failure message. */
  inFlight(): string[];
  /** Holds the bodies of matching answers from now on, and resets `answered`. */
  hold(): void;
  /** Lets the held bodies flow, and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (a base URL such as the backend's `url`) that can hold the answers to requests whose path matches `paths`. */
export async function startHoldingProxy(target: string, paths: RegExp): Promise<HoldingProxy> {
  const upstream = new URL(target);
  let holding = false;
  let answered = 0;
  const waiting: (() => void)[] = [];
  const open = new Map<object, { what: string; since: number; state: string }>();

  const server = createServer((incoming, outgoing) => {
    const matches = paths.test(new URL(incoming.url ?? '/', 'http://proxy').pathname);
    const entry = { what: `${incoming.method} ${incoming.url}`, since: Date.now(), state: 'asked' };
    open.set(entry, entry);
    outgoing.on('close', () => open.delete(entry));
    const proxied = request(
      { hostname: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        outgoing.flushHeaders();
        const flow = () => {
          if (matches) answered++;
          entry.state = 'flowing';
          answer.pipe(outgoing);
        };
        entry.state = 'answered';
        if (matches && holding) {
          entry.state = 'held';
          waiting.push(flow);
        } else flow();
      },
    );
    proxied.on('error', () => outgoing.destroy());
    outgoing.on('close', () => proxied.destroy());
    incoming.pipe(proxied);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get answered() {
      return answered;
    },
    get held() {
      return waiting.length;
    },
    inFlight: () => [...open.values()].map(({ what, since, state }) => `${what} (${state}, ${Date.now() - since} ms)`),
    hold() {
      holding = true;
      answered = 0;
    },
    release() {
      holding = false;
      for (const flow of waiting.splice(0)) flow();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
