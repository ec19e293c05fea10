// Measures what one batch of records costs to cross from a worker to the page
// in headless Chromium: structured-clone serialization in the worker
// (`postMessage`) and deserialization on the page (the first read of
// `event.data`), per batch size, for records of about 200 bytes.
//
// Run: npx tsx bench/measureBatchCost.ts   (CHROMIUM_PATH to override /usr/bin/chromium)
// Not a test: it asserts nothing and prints a table (medians of every message).
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../chromium';

const batchSizes = [50, 100, 250, 500, 1000, 2000, 5000, 10000];
/** Records sent per batch size (at least 8 messages each), after a warm-up round. */
const recordsPerSize = 80_000;

/** Runs in the worker: builds records once, then posts them in batches on request. */
const workerSource = `
const records = Array.from({ length: ${recordsPerSize} }, (_, i) => ({
  id: i,
  sensor: 'sensor-' + String(i % 500).padStart(4, '0'),
  ts: 1767225600000 + i * 1000,
  value: Math.round(Math.sin(i) * 100000) / 1000,
  unit: 'celsius',
  quality: (i % 100) / 100,
  location: { lat: 52.52 + (i % 7) / 1000, lon: 13.405 + (i % 11) / 1000 },
  note: i % 3 === 0 ? 'calibrated on 2026-10-01 in the north wing, east side' : 'routine',
}));
self.onmessage = (event) => {
  const { batchSize } = event.data;
  for (let start = 0; start < records.length; start += batchSize) {
    const batch = records.slice(start, start + batchSize);
    const before = performance.now();
    self.postMessage({ batch, sentAt: before, serializeMs: 0 });
    const serializeMs = performance.now() - before;
    self.postMessage({ serialized: serializeMs });
  }
  self.postMessage({ done: true, recordBytes: JSON.stringify(records.slice(0, 300)).length / 300 });
};
`;

interface SizeResult {
  batchSize: number;
  messages: number;
  serializeMs: number;
  deserializeMs: number;
  /** Mean, as timers are coarse (100 µs) on a page that is not cross-origin isolated. */
  deserializeMeanMs: number;
  p90DeserializeMs: number;
  maxDeserializeMs: number;
  recordBytes: number;
}

/**
 * Runs in the page: asks for every batch size in turn (twice, the first round
 * as a warm-up) and times the first read of each message's `event.data`.
 * A string, as tsx's helpers must not leak into the page.
 */
const pageSource = `(async () => {
  const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];
  const median = (values) => quantile(values, 0.5);
  const worker = new Worker(URL.createObjectURL(new Blob([${JSON.stringify(workerSource)}], { type: 'text/javascript' })));
  const run = (batchSize) => new Promise((resolve) => {
    const deserialize = [];
    const serialize = [];
    worker.onmessage = (event) => {
      const before = performance.now();
      const data = event.data;
      const after = performance.now();
      if (data.batch) deserialize.push(after - before);
      else if (data.serialized !== undefined) serialize.push(data.serialized);
      else if (data.done) resolve({
        batchSize,
        messages: deserialize.length,
        serializeMs: median(serialize),
        deserializeMs: median(deserialize),
        deserializeMeanMs: deserialize.reduce((sum, value) => sum + value, 0) / deserialize.length,
        p90DeserializeMs: quantile(deserialize, 0.9),
        maxDeserializeMs: Math.max(...deserialize),
        recordBytes: data.recordBytes,
      });
    };
    worker.postMessage({ batchSize });
  });
  const sizes = ${JSON.stringify(batchSizes)};
  for (const batchSize of sizes) await run(batchSize);
  const results = [];
  for (const batchSize of sizes) results.push(await run(batchSize));
  worker.terminate();
  return results;
})()`;

const browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs], headless: true });
try {
  const page = await browser.newPage();
  await page.goto('about:blank');
  const results = (await page.evaluate(pageSource)) as SizeResult[];
  const version = browser.version();
  console.log(`Chromium ${version}; records of ~${Math.round(results[0]?.recordBytes ?? 0)} bytes as JSON; per message.\n`);
  console.log(
    'batch size | messages | serialize in worker, median ms | deserialize on page, median ms | p90 ms | mean ms | max ms | median µs/record',
  );
  console.log('---:|---:|---:|---:|---:|---:|---:|---:');
  for (const result of results) {
    console.log(
      [
        result.batchSize,
        result.messages,
        result.serializeMs.toFixed(2),
        result.deserializeMs.toFixed(2),
        result.p90DeserializeMs.toFixed(2),
        result.deserializeMeanMs.toFixed(2),
        result.maxDeserializeMs.toFixed(2),
        ((result.deserializeMs * 1000) / result.batchSize).toFixed(2),
      ].join(' | '),
    );
  }
} finally {
  await browser.close();
}
