import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Answers one request; may keep the response open (the server ends every open response on close). */
export type HostileHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * A misbehaving HTTP server on loopback (port 0) for the hostile suites:
 * each path answers as the test says (redirect loops, endless bodies,
 * trickled whitespace, cut streams), and every request is recorded with
 * its headers. Timers a handler starts should be registered with
 * `every`, so that `close()` stops them.
 */
export class HostileServer {
  /** Every request received, in order. */
  readonly requests: IncomingMessage[] = [];
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:40123`. */
  url = '';
  private readonly routes = new Map<string, HostileHandler>();
  private readonly timers = new Set<ReturnType<typeof setInterval>>();
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor() {
    this.server = createServer((request, response) => {
      this.requests.push(request);
      // No keep-alive: a connection dropped by reset() must not be reused by the next test's request.
      response.shouldKeepAlive = false;
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      const handler = this.routes.get(path);
      if (handler) handler(request, response);
      else response.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"no such path"}');
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts a server on a free loopback port. */
  static async start(): Promise<HostileServer> {
    const hostile = new HostileServer();
    await new Promise<void>((resolve) => hostile.server.listen(0, '127.0.0.1', resolve));
    hostile.url = `http://127.0.0.1:${(hostile.server.address() as AddressInfo).port}`;
    return hostile;
  }

  /** Answers requests for `path` (without query) with `handler`. */
  route(path: string, handler: HostileHandler): this {
    this.routes.set(path, handler);
    return this;
  }

  /** Runs `tick` every `ms` until it returns false or the server closes. */
  every(ms: number, tick: () => boolean | void): void {
    const timer = setInterval(() => {
      if (tick() === false) {
        clearInterval(timer);
        this.timers.delete(timer);
      }
    }, ms);
    this.timers.add(timer);
  }

  /** The requests received for `path`. */
  requestsFor(path: string): IncomingMessage[] {
    return this.requests.filter((request) => new URL(request.url ?? '/', 'http://x').pathname === path);
  }

  /** Forgets routes and requests, stops timers, and drops open connections; resolves once they are closed. */
  async reset(): Promise<void> {
    this.routes.clear();
    this.requests.length = 0;
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    await Promise.all(
      [...this.sockets].map(
        (socket) =>
          new Promise<void>((resolve) => {
            socket.once('close', () => resolve());
            socket.destroy();
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await this.reset();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A response of NDJSON lines, `record(i)` for i < count, closed without a length or chunking (so a cut looks clean). */
export function ndjsonLinesResponse(response: ServerResponse, lines: readonly string[], headers: Record<string, string> = {}): void {
  response.useChunkedEncodingByDefault = false;
  response.writeHead(200, { 'Content-Type': 'application/x-ndjson', Connection: 'close', ...headers });
  response.end(lines.map((line) => `${line}\n`).join(''));
}
