import { formatCount, formatDuration, formatTime, h } from './dom';
import type { TimeRange } from './types';

/** Where a read was served from, as the demo tells it. */
export type ReadOrigin = 'storage' | 'storage after refresh' | 'backend' | 'storage + backend' | 'stale storage';

/** One read of the view. */
export interface ReadEntry {
  readonly range: TimeRange;
  readonly origin: ReadOrigin;
  readonly records: number;
  /** How long the read took; absent for a live update pushed after a change. */
  readonly ms?: number | undefined;
  /** For a partial hit: records from storage and from the backend. */
  readonly counts?: { readonly storage: number; readonly db: number } | undefined;
}

/** The origin of a read from the worker client's answer. */
export function readOrigin(result: { from: string; refreshed?: boolean; stale?: boolean }): ReadOrigin {
  if (result.stale) return 'stale storage';
  if (result.from === 'db') return 'backend';
  if (result.from === 'mixed') return 'storage + backend';
  return result.refreshed ? 'storage after refresh' : 'storage';
}

/** A sentence for one read, e.g. `5,000 records from storage in 12 ms`. */
export function describeRead(entry: ReadEntry): string {
  const split = entry.counts
    ? ` (${formatCount(entry.counts.storage)} from storage, ${formatCount(entry.counts.db)} from the backend)`
    : '';
  const timing = entry.ms === undefined ? ' (live update)' : ` in ${formatDuration(entry.ms)}`;
  return `${formatCount(entry.records)} records from ${entry.origin}${split}${timing}`;
}

/** The latest reads, newest first, each saying where it was served from and how long it took. */
export class ReadLog {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly latest: HTMLElement;

  constructor(private readonly keep = 8) {
    this.latest = h('p', { className: 'read-latest', role: 'status', 'aria-live': 'polite' }, 'No read yet');
    this.list = h('ol', { className: 'read-log' });
    this.element = h(
      'section',
      { className: 'panel reads', 'aria-labelledby': 'reads-title' },
      h('h2', { id: 'reads-title' }, 'Reads'),
      this.latest,
      this.list,
    );
  }

  add(entry: ReadEntry): void {
    const text = describeRead(entry);
    this.latest.textContent = text;
    this.latest.dataset.origin = entry.origin;
    const item = h(
      'li',
      { 'data-origin': entry.origin },
      h('span', { className: 'origin' }, entry.origin),
      ` ${formatTime(entry.range.ge)} → ${formatTime(entry.range.lt)}: ${text}`,
    );
    this.list.prepend(item);
    while (this.list.children.length > this.keep) this.list.lastElementChild?.remove();
  }
}
