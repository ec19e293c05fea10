import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Readable } from 'node:stream';
import { miniBrowserPath, webkitDriverPath, xvfbPath } from '../../browsers';
import { defaultViewport, type Driver, type DriverContext, type DriverPage, type LaunchOptions } from './driver';

/**
 * WebKitGTK's MiniBrowser through WebKitWebDriver (W3C WebDriver over HTTP), on a private Xvfb display.
 *
 * WebKitWebDriver serves one session at a time and a session is one browser profile, so every context is its
 * own WebKitWebDriver on a free port; its pages are the session's windows. The locale is set explicitly: under
 * the C locale WebKit reports `navigator.language` as "C", which `Intl` rejects (issue 18).
 */
const locale = { LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8', LANGUAGE: 'en_US' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts Xvfb on the first free display (it reports the number it took on fd 3). */
function startXvfb(): Promise<{ display: string; process: ChildProcess }> {
  const child = spawn(xvfbPath, ['-displayfd', '3', '-screen', '0', '1600x1400x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    (child.stdio[3] as Readable).on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve({ display: `:${out.trim()}`, process: child });
    });
    child.once('exit', (code) => reject(new Error(`Xvfb exited with ${code} before reporting its display: ${stderr}`)));
    child.once('error', reject);
  });
}

class WebDriverError extends Error {
  constructor(
    readonly error: string,
    message: string,
  ) {
    super(`${error}: ${message}`);
  }
}

async function request(base: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as { value: unknown };
  const value = json.value as { error?: string; message?: string } | null;
  if (!response.ok || (value && typeof value === 'object' && 'error' in value && value.error)) {
    throw new WebDriverError(String(value?.error ?? response.status), String(value?.message ?? ''));
  }
  return json.value;
}

async function startWebDriver(display: string): Promise<{ base: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(webkitDriverPath, [`--port=${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...locale, DISPLAY: display },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${child.exitCode}: ${stderr}`);
    try {
      const status = (await request(base, 'GET', '/status')) as { ready?: boolean };
      if (status.ready) return { base, process: child };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill();
  throw new Error(`WebKitWebDriver did not become ready on port ${port}: ${stderr}`);
}

/**
 * The script `execute/async` runs: it calls `fn` with the decoded argument and reports the encoded result.
 * Values cross as JSON text with non-finite numbers tagged, since WebDriver's JSON cannot carry `Infinity`.
 */
function evaluationScript(fn: string): string {
  return `const done = arguments[arguments.length - 1];
const decode = (text) => text === undefined ? undefined : JSON.parse(text, (k, v) => v && typeof v === 'object' && typeof v.$nonFinite === 'string' ? Number(v.$nonFinite) : v);
const encode = (value) => value === undefined ? undefined : JSON.stringify(value, (k, v) => typeof v === 'number' && !Number.isFinite(v) ? { $nonFinite: String(v) } : v);
Promise.resolve().then(() => (${fn})(decode(arguments[0]))).then(
  (value) => done({ value: encode(value) }),
  (error) => done({ error: String(error && error.stack ? error.message + '\\n' + error.stack : error) }),
);`;
}

const encode = (value: unknown) =>
  value === undefined
    ? undefined
    : JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $nonFinite: String(v) } : v));
const decode = (text: string | undefined): unknown =>
  text === undefined
    ? undefined
    : JSON.parse(text, (_key, v: unknown) =>
        v && typeof v === 'object' && typeof (v as { $nonFinite?: unknown }).$nonFinite === 'string'
          ? Number((v as { $nonFinite: string }).$nonFinite)
          : v,
      );

async function newSession(display: string, viewport: { width: number; height: number }): Promise<DriverContext> {
  const binary = miniBrowserPath();
  const driver = await startWebDriver(display);
  const call = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => request(driver.base, method, path, body);
  let session: string;
  try {
    const created = (await call('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          'webkitgtk:browserOptions': { binary, args: ['--automation'] },
          timeouts: { script: 600_000, pageLoad: 300_000, implicit: 0 },
        },
      },
    })) as { sessionId: string };
    session = created.sessionId;
  } catch (error) {
    driver.process.kill();
    throw error;
  }
  const path = (suffix: string) => `/session/${session}${suffix}`;
  // One command at a time: every command first switches to its page's window.
  let queue: Promise<unknown> = Promise.resolve();
  let current = (await call('GET', path('/window'))) as string;
  let initialWindowFree = true;
  const inWindow = <T>(handle: string, command: () => Promise<T>): Promise<T> => {
    const run = queue.then(async () => {
      if (current !== handle) {
        await call('POST', path('/window'), { handle });
        current = handle;
      }
      return command();
    });
    queue = run.catch(() => undefined);
    return run;
  };

  const evaluate = (handle: string) =>
    (async (fn: (arg: unknown) => unknown, arg?: unknown) => {
      const result = (await inWindow(handle, () =>
        call('POST', path('/execute/async'), { script: evaluationScript(fn.toString()), args: [encode(arg)] }),
      )) as {
        value?: string;
        error?: string;
      } | null;
      if (result?.error !== undefined) throw new Error(result.error);
      return decode(result?.value);
    }) as DriverPage['evaluate'];

  const page = (handle: string): DriverPage => ({
    goto: (url) => inWindow(handle, async () => void (await call('POST', path('/url'), { url }))),
    reload: () => inWindow(handle, async () => void (await call('POST', path('/refresh'), {}))),
    evaluate: evaluate(handle),
    screenshot: (file) =>
      inWindow(handle, async () => writeFile(file, Buffer.from((await call('GET', path('/screenshot'))) as string, 'base64'))),
    errors: () => evaluate(handle)(() => [...((globalThis as unknown as { __e2eErrors?: string[] }).__e2eErrors ?? [])]),
    close: () =>
      inWindow(handle, async () => {
        await call('DELETE', path('/window'));
        current = '';
      }),
  });

  return {
    async newPage() {
      let handle: string;
      if (initialWindowFree) {
        initialWindowFree = false;
        handle = current;
      } else {
        handle = ((await inWindow(current, () => call('POST', path('/window/new'), { type: 'tab' }))) as { handle: string }).handle;
      }
      await inWindow(handle, () => call('POST', path('/window/rect'), viewport).catch(() => undefined));
      return page(handle);
    },
    async close() {
      await queue;
      await call('DELETE', path('')).catch(() => undefined);
      driver.process.kill();
    },
  };
}

/** Starts a private Xvfb display; every context gets its own WebKitWebDriver and MiniBrowser on it. */
export async function launchWebKit(options: LaunchOptions): Promise<Driver> {
  const xvfb = await startXvfb();
  const contexts = new Set<DriverContext>();
  return {
    engine: 'webkit',
    async newContext() {
      const context = await newSession(xvfb.display, options.viewport ?? defaultViewport);
      contexts.add(context);
      return {
        newPage: () => context.newPage(),
        close: async () => {
          contexts.delete(context);
          await context.close();
        },
      };
    },
    async close() {
      await Promise.all([...contexts].map((context) => context.close()));
      xvfb.process.kill();
    },
  };
}
