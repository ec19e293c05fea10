import { formatCount, h } from './dom';

/** The counters the panel shows, as `CachedTable.stats()` returns them. */
export interface StatsView {
  reads: { cacheHit: number; cacheHitWithRefresh: number; cacheMiss: number; partialHit: number; servedStale: number };
  refreshes: number;
  adjustments: number;
  expired: number;
  loaded: number;
}

const rows: [label: string, pick: (stats: StatsView) => number][] = [
  ['Hits', (s) => s.reads.cacheHit],
  ['Hits after refresh', (s) => s.reads.cacheHitWithRefresh],
  ['Partial hits', (s) => s.reads.partialHit],
  ['Misses', (s) => s.reads.cacheMiss],
  ['Served stale', (s) => s.reads.servedStale],
  ['Refreshes', (s) => s.refreshes],
  ['Adjustments', (s) => s.adjustments],
  ['Records loaded', (s) => s.loaded],
  ['Records expired', (s) => s.expired],
];

/** A live panel of the cache's counters. */
export class StatsPanel {
  readonly element: HTMLElement;
  private readonly values: HTMLElement[];

  constructor() {
    this.values = rows.map(() => h('dd', {}, '–'));
    this.element = h(
      'section',
      { className: 'panel stats', 'aria-labelledby': 'stats-title' },
      h('h2', { id: 'stats-title' }, 'Cache stats'),
      h('dl', {}, ...rows.flatMap(([label], i) => [h('dt', {}, label), this.values[i] as HTMLElement])),
    );
  }

  update(stats: StatsView): void {
    rows.forEach(([, pick], i) => {
      const text = formatCount(pick(stats));
      const value = this.values[i] as HTMLElement;
      if (value.textContent !== text) value.textContent = text;
    });
  }
}
