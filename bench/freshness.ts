// The page's side of freshness.changeToSubscriber (issue 15 item 6): how long after a PATCH is answered the page's
// subscription to a covered view receives the changed reading, through the worker's change feed, ÷ the PATCH's
// round trip. The worker's side is freshness.worker.ts.
import { wrap } from 'comlink';
import { connectCachedTable } from 'tablecache-web/worker';
import type { Reading } from '../demo/ui/types';
import type { FreshnessApi } from './freshness.worker';
import { figure, ms, percentile, type Figure } from './stats';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Sizes in a full run and in a `--quick` one (whose backend holds a tenth of the readings). */
const sizes = {
  full: { runs: 3, samples: 40, days: 1 },
  quick: { runs: 1, samples: 10, days: 0.1 },
};

export interface FreshnessContext {
  readonly quick: boolean;
  readonly apiUrl: string;
  readonly log: (line: string) => void;
  readonly wanted: (...names: string[]) => boolean;
}

type TimeSpec = { indexName: 'ts'; ge: number; lt: number };

const medianOf = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1] as number;

interface Samples {
  /** PATCH sent → its answer read, ms. */
  roundTrips: number[];
  /** PATCH answered → the subscriber has the new value, ms. */
  delays: number[];
}

/**
 * One run: a fresh worker table holding the last `days` days and following the feed, the page subscribed to the
 * last day (as the demo's view); `samples` times, a PATCH of a random reading of the view to a new value, then a
 * wait for the subscription result that carries it.
 */
async function measure(apiUrl: string, days: number, samples: number, batchWindowMs?: number): Promise<Samples> {
  const worker = new Worker(new URL('./freshness.worker.ts', import.meta.url), { type: 'module', name: 'bench-freshness' });
  const api = wrap<FreshnessApi>(worker);
  try {
    const end = Date.now();
    const client = connectCachedTable<Reading, TimeSpec>(await api.open(apiUrl, { ge: Math.round(end - days * DAY) }, batchWindowMs));
    const view: TimeSpec = { indexName: 'ts', ge: Math.round(end - Math.min(days, 1) * DAY), lt: end + HOUR };
    let latest: Reading[] = [];
    let waiting: { id: number; value: number; resolve: (at: number) => void } | null = null;
    let first!: () => void;
    const ready = new Promise<void>((resolve) => (first = resolve));
    const unsubscribe = client.subscribe(view, (update) => {
      const at = performance.now();
      if (update.error) throw update.error;
      latest = update.records;
      first();
      if (waiting && latest.some((reading) => reading.id === waiting!.id && reading.value === waiting!.value)) waiting.resolve(at);
    });
    await ready;
    if (latest.length === 0) throw new Error('the view holds no reading to change');
    const result: Samples = { roundTrips: [], delays: [] };
    for (let i = 0; i < samples; i++) {
      const reading = latest[Math.floor(Math.random() * latest.length)] as Reading;
      const value = Math.round(reading.value * 100 + 1 + i) / 100 + 0.5;
      const received = new Promise<number>((resolve) => (waiting = { id: reading.id, value, resolve }));
      const sent = performance.now();
      const response = await fetch(`${apiUrl}/api/readings/${reading.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value }),
      });
      await response.json();
      const answered = performance.now();
      if (!response.ok) throw new Error(`PATCH answered ${response.status}`);
      // A subscriber faster than the PATCH's own answer counts as no delay.
      const at = await received;
      waiting = null;
      result.roundTrips.push(answered - sent);
      result.delays.push(Math.max(0, at - answered));
    }
    unsubscribe();
    await client.close();
    await api.close();
    return result;
  } finally {
    worker.terminate();
  }
}

export async function runFreshness(context: FreshnessContext, figures: Figure[]): Promise<void> {
  if (!context.wanted('freshness', 'freshness.changeToSubscriber')) return;
  const size = context.quick ? sizes.quick : sizes.full;
  const ratios: number[] = [];
  const all: Samples = { roundTrips: [], delays: [] };
  for (let run = 0; run < size.runs; run++) {
    context.log(`freshness: run ${run + 1} of ${size.runs}`);
    const samples = await measure(context.apiUrl, size.days, size.samples);
    ratios.push(percentile(samples.delays, 95) / medianOf(samples.roundTrips));
    all.roundTrips.push(...samples.roundTrips);
    all.delays.push(...samples.delays);
  }
  // For context: the same with a 50 ms batch window (the feed's default before it yielded at once to an idle consumer).
  context.log('freshness: once more with batchWindowMs 50');
  const windowed = await measure(context.apiUrl, size.days, size.samples, 50);
  figures.push(
    figure(
      'freshness.changeToSubscriber',
      `p95 of PATCH answered → the subscriber of a covered ${size.days}-day view has the new record (change feed, refetch, commit, re-read) ÷ median PATCH round trip`,
      3,
      ratios,
      {
        'change → subscriber p95': ms(percentile(all.delays, 95)),
        'change → subscriber median': ms(medianOf(all.delays)),
        'PATCH round trip median': ms(medianOf(all.roundTrips)),
        'PATCH round trip p95': ms(percentile(all.roundTrips, 95)),
        'with batchWindowMs 50': `p95 ${ms(percentile(windowed.delays, 95))} (÷ round trip ${(percentile(windowed.delays, 95) / medianOf(windowed.roundTrips)).toFixed(2)})`,
      },
    ),
  );
}
