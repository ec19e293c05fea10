// The demo app: a dashboard of sensor readings served by a CachedTable in a worker. `main.ts` imports it and
// calls startDashboard, so that a failure of any module here, or of the start-up, shows as an error on the page.
import { connectSharedCachedTable, type SubscriptionUpdate } from 'tablecache-web/worker';
import { DAY, HOUR, type TimeSpec, type WorkerConfig } from './shared';
import { Chart } from './ui/Chart';
import { h } from './ui/dom';
import { FrameMeter } from './ui/FrameMeter';
import { ReadLog, readOrigin } from './ui/ReadLog';
import { RecordsTable } from './ui/RecordsTable';
import { StatsPanel } from './ui/StatsPanel';
import { StatusBar } from './ui/StatusBar';
import type { Reading, TimeRange } from './ui/types';
import type { StartUpControl } from './ui/startUp';
import { ViewControl } from './ui/ViewControl';
import { WindowControl } from './ui/WindowControl';

const api = (new URLSearchParams(location.search).get('api') ?? import.meta.env.VITE_API_URL ?? 'http://127.0.0.1:8787').replace(/\/$/, '');
const config: WorkerConfig = { api };
// Every tab of the demo shares one cache: one SharedWorker, or (without SharedWorker, or with ?tabs=web-locks) each tab's own worker, one of which owns the table.
const tabsMode = new URLSearchParams(location.search).get('tabs') === 'web-locks' ? 'web-locks' : 'auto';
let startUpControl: StartUpControl | undefined;
/**
 * A worker whose script fails to load (or, for a dedicated worker, throws) says so only through its `error` event,
 * and the calls waiting on it never settle: fail the start-up with it, or show it once the dashboard is up.
 */
function watchWorker<W extends Worker | SharedWorker>(worker: W): W {
  worker.addEventListener('error', (event) => {
    const detail =
      event instanceof ErrorEvent && event.message
        ? `: ${event.message}`
        : ' (its script did not load or threw; the console has the details)';
    const error = new Error(`The cache worker failed${detail}`);
    if (!startUpControl?.fail(error)) {
      console.error(error);
      status.showError(error);
    }
  });
  return worker;
}
const client = connectSharedCachedTable<Reading, TimeSpec>({
  mode: tabsMode,
  sharedWorker: () =>
    watchWorker(new SharedWorker(new URL('./cache.worker.ts', import.meta.url), { type: 'module', name: JSON.stringify(config) })),
  worker: () => watchWorker(new Worker(new URL('./cache.worker.ts', import.meta.url), { type: 'module', name: JSON.stringify(config) })),
});

const spec = (range: TimeRange): TimeSpec => ({ indexName: 'ts', ge: range.ge, lt: range.lt });
/** The last `days` days, open-ended so that new readings are cached too. */
const windowSpec = (days: number): TimeSpec => ({ indexName: 'ts', ge: Date.now() - days * DAY, lt: Infinity });
const latestDay = (): TimeRange => ({ ge: Math.round(Date.now() - DAY), lt: Math.round(Date.now() + HOUR) });

const status = new StatusBar();
const stats = new StatsPanel();
const reads = new ReadLog();
const meter = new FrameMeter();
/** Where the page remembers the window it had the cache hold, to show it again after `resume()` (the table does not say). */
const heldDaysKey = 'tablecache-demo:days';
function rememberDays(days: number): void {
  try {
    localStorage.setItem(heldDaysKey, String(days));
  } catch {
    // Storage refused (e.g. a privacy mode): after a reload the window control shows the default again.
  }
}
function rememberedDays(): number | undefined {
  try {
    const days = Number(localStorage.getItem(heldDaysKey));
    return days > 0 ? days : undefined;
  } catch {
    return undefined;
  }
}
const windowControl = new WindowControl(async (days, signal) => {
  await client.adjust(windowSpec(days), { onProgress: ({ loaded, total }) => windowControl.showProgress(loaded, total), signal });
  rememberDays(days);
});
const view = new ViewControl(latestDay(), (range) => watch(range), latestDay);
const chart = new Chart((range) => view.set(range));
const table = new RecordsTable(editReading);

const forceRefresh = h('input', { type: 'checkbox', id: 'force-refresh', checked: true });
const refreshNow = h('button', { type: 'button' }, 'Refresh now');
refreshNow.addEventListener('click', () => {
  refreshNow.disabled = true;
  client
    .refreshInvalid()
    .then(
      () => status.showError(null),
      (error: unknown) => status.showError(error),
    )
    .finally(() => (refreshNow.disabled = false));
});

const layout = [
  h('header', { className: 'top' }, h('h1', {}, 'tablecache-web · sensor dashboard'), status.element),
  h(
    'main',
    { className: 'layout' },
    h('div', { className: 'wide' }, view.element, chart.element),
    windowControl.element,
    reads.element,
    h(
      'section',
      { className: 'panel edits', 'aria-labelledby': 'edits-title' },
      h('h2', { id: 'edits-title' }, 'Edits'),
      h(
        'p',
        {},
        'Change a value in the table: the app saves it to the backend, then invalidates the reading by its id (invalidateKeys). ' +
          'While Live, changes made elsewhere (another browser, another user) show here on their own.',
      ),
      h('label', { for: 'force-refresh' }, forceRefresh, ' Refresh on the next read (forceRefreshOnNextRead)'),
      refreshNow,
    ),
    stats.element,
    meter.element,
    h('div', { className: 'wide' }, table.element),
  ),
];

/** Saves a new value, then tells the cache that this reading changed. */
async function editReading(reading: Reading, value: number): Promise<void> {
  const response = await fetch(`${api}/api/readings/${reading.id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value }),
  }).catch(() => {
    throw new Error('The backend cannot be reached; nothing was saved.');
  });
  if (!response.ok) throw new Error(`The backend refused the change (HTTP ${response.status}).`);
  // The cache finds the reading by its id (its old place), refetches it and puts it where its new values say.
  await client.invalidateKeys([reading.id], { forceRefreshOnNextRead: forceRefresh.checked });
}

let unsubscribe: (() => void) | null = null;

/** Shows the readings of `range`, live: every change of the cache that touches them shows again. */
function watch(range: TimeRange): void {
  unsubscribe?.();
  const started = performance.now();
  let first = true;
  unsubscribe = client.subscribe(spec(range), (update: SubscriptionUpdate<Reading>) => {
    if (update.error) {
      status.showError(update.error);
      chart.render([], range);
      table.render([]);
      return;
    }
    status.showError(null);
    status.setStale(update.stale);
    chart.render(update.records, range);
    table.render(update.records);
    reads.add({
      range,
      origin: readOrigin(update),
      records: update.records.length,
      ms: first ? performance.now() - started : undefined,
      counts: update.counts,
    });
    first = false;
  });
}

async function checkBackend(): Promise<void> {
  try {
    const response = await fetch(`${api}/api/health`, { signal: AbortSignal.timeout(2000) });
    status.setBackend(response.ok);
  } catch {
    status.setBackend(false);
  }
}

/**
 * Resolves once the change feed is live (or offline), at most after `maxMs`. A load made then stores the feed's
 * position with what it loaded; one made before the feed knows where it stands is marked stale once it does
 * (changes made meanwhile were not seen), and each view is then refreshed again.
 */
function feedSettled(maxMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop();
      resolve();
    };
    const timer = setTimeout(done, maxMs);
    // The listener is called at once with the current status: `done` runs in a microtask, once `stop` is set.
    const stop = client.onChangeFeedStatus((feed) => {
      if (feed === 'live' || feed === 'offline') queueMicrotask(done);
    });
  });
}

/**
 * Shows the dashboard in `host` and opens the cache: resumes it, or loads the window. Resolves once the view is
 * watched (or the load failed, which the dashboard shows); `control` fails the start-up when the worker fails.
 */
export async function startDashboard(host: Element, control: StartUpControl): Promise<void> {
  startUpControl = control;
  host.replaceChildren(...layout);
  client.onChangeFeedStatus((feed) => status.setFeed(feed));
  meter.start();
  void checkBackend();
  setInterval(() => void checkBackend(), 3000);
  setInterval(() => {
    client.stats().then(
      (counters) => stats.update(counters),
      () => undefined,
    );
  }, 500);
  try {
    await client.resume();
    const days = rememberedDays();
    const message = `Resumed the cached window (${days === undefined ? '' : `the last ${days} days, `}from IndexedDB, or from another tab).`;
    if (days === undefined) windowControl.showDone(message);
    else windowControl.showHeld(days, message);
  } catch (error) {
    console.info(`Nothing to resume (${error instanceof Error ? error.message : String(error)}); loading.`);
    windowControl.showProgress(0);
    try {
      await feedSettled();
      await client.load(windowSpec(windowControl.days), { onProgress: ({ loaded, total }) => windowControl.showProgress(loaded, total) });
      rememberDays(windowControl.days);
      windowControl.showDone(`Holding the last ${windowControl.days} days.`);
    } catch (error) {
      windowControl.showDone('Could not load the cache.');
      status.showError(error);
      return;
    }
  }
  watch(view.range);
}
