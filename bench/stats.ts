/** The middle value (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The `p`-th percentile (0–100), nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Median, min and max of some runs. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** One figure of the benchmark: a ratio to a baseline measured in the same run. */
export interface Figure {
  /** The figure's name in the JSON, e.g. `rangeRead.vsRawGetAll`. */
  name: string;
  /** Which case, when a figure has several (e.g. `10k`). */
  case?: string;
  /** What is divided by what. */
  what: string;
  /** The ratio over the runs (or the count, for `mainThread.longTasksDuringAdjust`). */
  ratio: Spread;
  /** The goal: the ratio must be at most this. */
  goal: number;
  pass: boolean;
  /** Absolute medians on this machine, for context: name → value with unit. */
  absolute: Record<string, string>;
  runs: number;
  /**
   * Set when this engine lacks the instrument the figure needs (e.g. CDP's heap usage, the `longtask` entries of
   * Chromium alone): why. The ratio is then `NaN` (`null` in the JSON) and the figure is neither met nor missed.
   */
  unavailable?: string;
}

/** Builds a figure from per-run ratios. */
export function figure(
  name: string,
  what: string,
  goal: number,
  ratios: readonly number[],
  absolute: Record<string, string>,
  caseName?: string,
): Figure {
  const ratio = spread(ratios);
  return { name, ...(caseName ? { case: caseName } : {}), what, ratio, goal, pass: ratio.median <= goal, absolute, runs: ratios.length };
}

/** A figure this engine cannot measure honestly: `n/a`, with the reason, rather than a made-up number. */
export function unavailableFigure(name: string, what: string, goal: number, reason: string, caseName?: string): Figure {
  const none = { median: NaN, min: NaN, max: NaN };
  return {
    name,
    ...(caseName ? { case: caseName } : {}),
    what,
    ratio: none,
    goal,
    pass: false,
    absolute: { 'n/a': reason },
    runs: 0,
    unavailable: reason,
  };
}

/**
 * Why the page cannot count long tasks here, or `undefined` where it can: only Chromium reports `longtask`
 * entries (Firefox and WebKit have no Long Tasks API, and an observer of them would count 0 whatever happens).
 */
export function longTasksUnavailable(): string | undefined {
  const types = typeof PerformanceObserver === 'undefined' ? [] : (PerformanceObserver.supportedEntryTypes ?? []);
  return types.includes('longtask')
    ? undefined
    : 'this engine has no Long Tasks API (PerformanceObserver "longtask" entries are Chromium\'s)';
}

export function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

export function perSecond(count: number, milliseconds: number): string {
  return `${Math.round((count / milliseconds) * 1000).toLocaleString('en-US')} records/s`;
}
