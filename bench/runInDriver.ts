// The bench page in Firefox and WebKit: driven through test/engines/driver.ts, which has no way for the page to
// call the runner (no exposeFunction over WebDriver) and whose commands time out long before a full run ends. So
// the page reports over HTTP to a small control server of the runner's (progress lines, the backend's changes,
// the figures at the end), and the runner only starts the run and waits for that report.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Engine } from '../browsers';
import { launch } from '../test/engines/driver';
import type { Figure } from './stats';

/** What the runner gives the page, and what it does for it. */
export interface DriverRun {
  readonly siteUrl: string;
  readonly apiUrl: string;
  /** The options of `runBenchmarks` that are plain data (quick, only, bigRuns, compareBatch). */
  readonly options: Record<string, unknown>;
  readonly log: (line: string) => void;
  readonly changeReadings: (salt: number) => Promise<number>;
}

function body(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
    request.on('error', reject);
  });
}

/** The control server: `POST /log`, `POST /change-readings?salt=N`, `POST /done` (figures), `POST /failed`. */
function control(run: DriverRun): Promise<{ server: Server; url: string; result: Promise<Figure[]> }> {
  let settle!: { resolve: (figures: Figure[]) => void; reject: (error: Error) => void };
  const result = new Promise<Figure[]>((resolve, reject) => (settle = { resolve, reject }));
  const server = createServer((request, response) => {
    // The page is on the preview's origin: every answer allows it.
    response.setHeader('access-control-allow-origin', '*');
    if (request.method !== 'POST') return void response.writeHead(204).end();
    const url = new URL(request.url ?? '/', 'http://localhost');
    void body(request)
      .then(async (text) => {
        let answer = '';
        if (url.pathname === '/log') run.log(text);
        else if (url.pathname === '/change-readings') answer = String(await run.changeReadings(Number(url.searchParams.get('salt'))));
        else if (url.pathname === '/done') settle.resolve(JSON.parse(text) as Figure[]);
        else if (url.pathname === '/failed') settle.reject(new Error(`the bench page failed: ${text}`));
        response.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
      })
      .catch((error: unknown) => response.writeHead(500).end(String(error)));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = address && typeof address === 'object' ? address.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}`, result });
    });
  });
}

/**
 * The page's side, as source (sent as is, so no helper of the runner's compiler can creep in): starts
 * `runBenchmarks` and returns at once; the run reports to the control server. `workerHeap` is left out: only
 * Chromium's DevTools protocol measures a worker's heap, so `memory.bytesPerRecord` says n/a.
 */
const startScript = `
const { control, options } = arg;
const post = (path, text) => fetch(control + path, { method: 'POST', body: text });
addEventListener('error', (event) => void post('/log', '[page error] ' + event.message));
addEventListener('unhandledrejection', (event) => void post('/log', '[page rejection] ' + String(event.reason)));
window.runBenchmarks({
  ...options,
  log: (line) => void post('/log', line),
  changeReadings: async (salt) => Number(await (await post('/change-readings?salt=' + salt, '')).text()),
}).then(
  (figures) => post('/done', JSON.stringify(figures)),
  (error) => post('/failed', String(error && error.stack ? error.message + '\\n' + error.stack : error)),
);
return true;`;

/** Runs the bench page in `engine` (Firefox or WebKit); resolves with its figures and user agent. */
export async function runInDriver(engine: Exclude<Engine, 'chromium'>, run: DriverRun): Promise<{ figures: Figure[]; userAgent: string }> {
  const { server, url, result } = await control(run);
  // Firefox rounds performance.now() to 1 ms by default (fingerprinting protection); the bench times sub-ms steps.
  const driver = await launch(engine, { firefoxPrefs: { 'privacy.reduceTimerPrecision': false } });
  try {
    const context = await driver.newContext();
    const page = await context.newPage();
    await page.goto(run.siteUrl);
    const ready = new Function("return typeof window.runBenchmarks === 'function'") as () => boolean;
    for (let waited = 0; !(await page.evaluate(ready)); waited += 100) {
      if (waited > 60_000) throw new Error(`the bench page did not define runBenchmarks in ${engine} within a minute`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const userAgent = await page.evaluate(new Function('return navigator.userAgent') as () => string);
    await page.evaluate(new Function('arg', startScript) as (arg: unknown) => boolean, {
      control: url,
      options: { ...run.options, apiUrl: run.apiUrl },
    });
    const figures = await result;
    await context.close();
    return { figures, userAgent };
  } finally {
    await driver.close().catch(() => undefined);
    await new Promise<void>((done) => server.close(() => done()));
  }
}
