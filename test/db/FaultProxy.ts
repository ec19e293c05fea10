import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to one request instead of passing it through untouched. */
export type Fault =
  /** Answer with this status (and headers/body) without asking the server. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Close the connection before answering anything (a network error for the client). */
  | { kind: 'hangUp' }
  /** Wait this long before passing the server's answer on. */
  | { kind: 'delay'; ms: number }
  /** Pass on the headers and the first `afterBytes` bytes of the body, then destroy the connection. */
  | { kind: 'drop'; afterBytes: number }
  /** Pass on the headers and the first `afterBytes` bytes of the body, then send nothing more (the connection stays open). */
  | { kind: 'stall'; afterBytes: number };

/** A request as the proxy saw it. */
export interface ProxiedRequest {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly fault: Fault | null;
}

/**
 * A loopback HTTP proxy in front of the real server that injects failures
 * on demand: faults queued with `inject()` apply to the next requests, one
 * each, in order; other requests pass through. It asks the server for
 * uncompressed bodies, so that `afterBytes` counts bytes of NDJSON.
 */
export class FaultProxy {
  /** Every request received, in order. */
  readonly requests: ProxiedRequest[] = [];
  private readonly faults: Fault[] = [];

  private readonly server: Server;
  /** The proxy's base URL, e.g. `http://127.0.0.1:40123`; set once started. */
  url = '';

  private constructor(target: string) {
    const targetUrl = new URL(target);
    this.server = createServer((req, res) => {
      const fault = this.faults.shift() ?? null;
      this.requests.push({ url: req.url ?? '', headers: req.headers, fault });
      if (fault?.kind === 'status') {
        res.writeHead(fault.status, { 'Content-Type': 'application/json', ...fault.headers });
        res.end(fault.body ?? JSON.stringify({ error: `injected ${fault.status}` }));
        return;
      }
      if (fault?.kind === 'hangUp') {
        req.socket.destroy();
        return;
      }
      const upstream = request(
        {
          host: targetUrl.hostname,
          port: targetUrl.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: targetUrl.host, 'accept-encoding': 'identity' },
        },
        (upstreamRes) => {
          const forward = () => {
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            if (fault?.kind !== 'drop' && fault?.kind !== 'stall') {
              upstreamRes.pipe(res);
              return;
            }
            if (fault.afterBytes === 0) {
              res.flushHeaders();
              upstreamRes.destroy();
              if (fault.kind === 'drop') setImmediate(() => res.socket?.destroy());
              return;
            }
            let sent = 0;
            upstreamRes.on('data', (chunk: Buffer) => {
              if (sent >= fault.afterBytes) return;
              const part = chunk.subarray(0, fault.afterBytes - sent);
              sent += part.byteLength;
              if (sent < fault.afterBytes) {
                res.write(part);
                return;
              }
              upstreamRes.destroy();
              res.write(part, () => {
                if (fault.kind === 'drop') res.socket?.destroy();
              });
            });
          };
          if (fault?.kind === 'delay') setTimeout(forward, fault.ms);
          else forward();
        },
      );
      upstream.on('error', () => res.socket?.destroy());
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    });
  }

  /** Starts a proxy to `target` (a base URL such as `http://127.0.0.1:8787`) on a free loopback port. */
  static async start(target: string): Promise<FaultProxy> {
    const proxy = new FaultProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.server.address() as AddressInfo;
    proxy.url = `http://127.0.0.1:${port}`;
    return proxy;
  }

  /** Queues faults for the next requests, one per request. */
  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Forgets the recorded requests and queued faults. */
  reset(): void {
    this.requests.length = 0;
    this.faults.length = 0;
  }

  /** Stops listening and drops every open connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
