import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** The largest request body accepted, in bytes (a reading is about 150). */
export const MAX_BODY_BYTES = 64 * 1024;

/** Host names every server answers to: the loopback names, so that a DNS-rebound name (`attacker.example` → 127.0.0.1) is refused. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An origin of a local page (the Vite dev server, a preview): `http://localhost:*`, `http://127.0.0.1:*`, `http://[::1]:*`. */
export const localOrigin = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

function refuse(c: Context, status: 403 | 413 | 415, error: string): Response {
  // Closing the connection stops a large upload at once instead of reading the rest of it to keep the connection.
  c.header('Connection', 'close');
  return c.json({ error }, status);
}

/** The host name of a `Host` header, lower case, without its port (`[::1]` keeps its brackets). */
export function hostName(host: string): string {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * Refuses (403) a request whose `Host` is not a loopback name (`localhost`,
 * `*.localhost`, `127.0.0.1`, `[::1]`) or one of `allowedHosts` (names
 * without ports): the defence against DNS rebinding, where a page of
 * `attacker.example` resolves its own name to this server.
 */
export function hostAllowList(allowedHosts: readonly string[]): MiddlewareHandler {
  const allowed = new Set([...LOOPBACK_HOSTS, ...allowedHosts.map(hostName)]);
  return async (c, next) => {
    const name = hostName(c.req.header('Host') ?? '');
    if (!allowed.has(name) && !name.endsWith('.localhost')) {
      return refuse(c, 403, `Host '${name}' is not allowed; add it to ALLOWED_HOSTS to serve it.`);
    }
    return next();
  };
}

/**
 * Guards writes (POST, PATCH, PUT, DELETE) against other sites: an `Origin`
 * must be one CORS allows (a cross-site form or `fetch` in `no-cors` mode
 * sends one and would otherwise go through without a preflight), and a
 * body must be `application/json` (which no page of another origin can send
 * without a preflight) and at most {@link MAX_BODY_BYTES}: 413 at once from
 * `Content-Length`, or as soon as a chunked body passes it.
 */
export function writeGuard(isAllowedOrigin: (origin: string) => boolean): MiddlewareHandler {
  const limit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => refuse(c, 413, `The body is larger than ${MAX_BODY_BYTES} bytes.`) });
  return async (c, next) => {
    if (!WRITE_METHODS.has(c.req.method)) return next();
    const origin = c.req.header('Origin');
    if (origin !== undefined && !isAllowedOrigin(origin)) {
      return refuse(c, 403, `Writes from origin '${origin}' are not allowed; add it to CORS_ORIGINS to allow them.`);
    }
    const hasBody = Number(c.req.header('Content-Length') ?? 0) > 0 || c.req.header('Transfer-Encoding') !== undefined;
    if (c.req.method !== 'DELETE' || hasBody) {
      const type = c.req.header('Content-Type') ?? '';
      if (!/^application\/json\s*(;|$)/i.test(type)) {
        return refuse(c, 415, `Expected Content-Type: application/json, not '${type}'.`);
      }
    }
    return limit(c, next);
  };
}
