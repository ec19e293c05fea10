import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { currentEngine } from '../engines/knownEngineDifferences';

const run = promisify(execFile);

/** Every figure `npm run bench` reports (issues 7, 10, 14 and 15), with its goal. */
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
  'adjust.bigVsFetch': 1.5,
  'adjust.bigVsRawPut': 0.2,
  'refresh.unchangedVsFetch': 1.5,
  'warmStart.firstRead': 1,
  'rangeRead.bigVsRawGetAll': 0.5,
  'memory.bytesPerRecord': 3,
  'freshness.changeToSubscriber': 3,
};

/** Figures reported for several cases, and the cases each must have (issue 14: the 200k adjust too). */
const cases: Record<string, string[]> = {
  'readStall.p95DuringAdjustVsIdle': ['', '200k'],
  'mainThread.longTasksDuringAdjust': ['', '200k'],
};

interface Figure {
  name: string;
  case?: string;
  goal: number;
  pass: boolean;
  runs: number;
  ratio: { median: number; min: number; max: number };
  absolute: Record<string, string>;
}

const engine = currentEngine();

// A smoke run of the harness with tiny sizes: it must run end to end and report every figure. The ratios
// themselves are not asserted (tiny sizes measure latency, and timing has no place in a test). The full quick run
// is Chromium's; in the other engines the page must start and report a figure, and say n/a for a Chromium-only one.
describe(`npm run bench -- --quick (end to end, headless ${engine})`, () => {
  const directory = mkdtempSync(join(tmpdir(), 'tablecache-bench-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  if (engine !== 'chromium') {
    it('should run a figure in this engine against its own baseline, and say n/a with a reason for one that needs Chromium', async () => {
      const json = join(directory, 'results.json');
      const { stdout } = await run(
        'npx',
        ['tsx', 'bench/run.ts', '--engine', engine, '--quick', '--only', 'commit,memory', '--json', json],
        {
          timeout: 570_000,
          env: { ...process.env, BENCH_OUT_DIR: join(directory, 'page') },
        },
      );
      expect(stdout).toMatch(/Figures written to/);
      const report = JSON.parse(readFileSync(json, 'utf8')) as {
        engine: string;
        browser: string;
        figures: (Figure & { unavailable?: string })[];
      };
      expect(report.engine).toBe(engine);
      expect(report.browser).toMatch(engine === 'firefox' ? /Firefox\// : /AppleWebKit\/(?!.*Chrome\/)/);
      const [commit, memory] = ['commit.ratio100kVs1k', 'memory.bytesPerRecord'].map((name) =>
        report.figures.find((figure) => figure.name === name),
      );
      expect(commit?.runs).toBeGreaterThan(0);
      expect(commit?.ratio.median).toBeGreaterThan(0);
      expect(commit?.unavailable).toBeUndefined();
      expect(memory).toMatchObject({ runs: 0, ratio: { median: null }, unavailable: expect.stringMatching(/Chromium/) });
    }, 600_000);
    return;
  }

  it('should run every figure and write them as JSON, each a ratio with its goal', async () => {
    const json = join(directory, 'results.json');
    const { stdout } = await run('npx', ['tsx', 'bench/run.ts', '--quick', '--json', json], { timeout: 570_000 });
    expect(stdout).toMatch(/Figures written to/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { quick: boolean; figures: Figure[] };
    expect(report.quick).toBe(true);
    expect(new Set(report.figures.map((figure) => figure.name))).toEqual(new Set(Object.keys(goals)));
    for (const [name, expected] of Object.entries(cases)) {
      expect(
        report.figures.filter((figure) => figure.name === name).map((figure) => figure.case ?? ''),
        name,
      ).toEqual(expected);
    }
    for (const figure of report.figures) {
      expect(figure.goal, figure.name).toBe(goals[figure.name]);
      expect(figure.pass, figure.name).toBe(figure.ratio.median <= figure.goal);
      expect(figure.ratio.min, figure.name).toBeLessThanOrEqual(figure.ratio.median);
      expect(figure.ratio.median, figure.name).toBeLessThanOrEqual(figure.ratio.max);
      expect(Number.isFinite(figure.ratio.max) && figure.ratio.min >= 0, figure.name).toBe(true);
      expect(figure.runs, figure.name).toBeGreaterThan(0);
      // Absolute times beside every ratio.
      expect(Object.keys(figure.absolute).length, figure.name).toBeGreaterThan(0);
    }
  }, 600_000);
});
