import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Every figure `npm run bench` reports (issues 7 and 10), with its goal. */
const goals: Record<string, number> = {
  'rangeRead.vsRawGetAll': 1.25,
  'rangeRead.vsDexie': 1,
  'ingest.vsRawPut': 1.5,
  'commit.ratio100kVs1k': 2,
  'readStall.p95DuringAdjustVsIdle': 2,
  'delivery.vsInWorker': 1.5,
  'mainThread.longTasksDuringAdjust': 0,
  hitVsMiss: 0.25,
  'partialRead.vsMiss': 0.3,
};

interface Figure {
  name: string;
  goal: number;
  pass: boolean;
  runs: number;
  ratio: { median: number; min: number; max: number };
}

// A smoke run of the harness with tiny sizes: it must run end to end and report every figure. The ratios
// themselves are not asserted (tiny sizes measure latency, and timing has no place in a test).
describe('npm run bench -- --quick (end to end, headless Chromium)', () => {
  const directory = mkdtempSync(join(tmpdir(), 'tablecache-bench-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('should run every figure and write them as JSON, each a ratio with its goal', async () => {
    const json = join(directory, 'results.json');
    const { stdout } = await run('npx', ['tsx', 'bench/run.ts', '--quick', '--json', json], { timeout: 170_000 });
    expect(stdout).toMatch(/Figures written to/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { quick: boolean; figures: Figure[] };
    expect(report.quick).toBe(true);
    expect(new Set(report.figures.map((figure) => figure.name))).toEqual(new Set(Object.keys(goals)));
    for (const figure of report.figures) {
      expect(figure.goal, figure.name).toBe(goals[figure.name]);
      expect(figure.pass, figure.name).toBe(figure.ratio.median <= figure.goal);
      expect(figure.ratio.min, figure.name).toBeLessThanOrEqual(figure.ratio.median);
      expect(figure.ratio.median, figure.name).toBeLessThanOrEqual(figure.ratio.max);
      expect(Number.isFinite(figure.ratio.max) && figure.ratio.min >= 0, figure.name).toBe(true);
      expect(figure.runs, figure.name).toBeGreaterThan(0);
    }
  }, 180_000);
});
