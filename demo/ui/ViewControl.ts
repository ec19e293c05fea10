import { formatTime, h } from './dom';
import type { TimeRange } from './types';

/** The range moved by `fraction` of its width (negative: earlier). */
export function pan(range: TimeRange, fraction: number): TimeRange {
  const shift = (range.lt - range.ge) * fraction;
  return { ge: range.ge + shift, lt: range.lt + shift };
}

/** The range scaled by `factor` around its middle (below 1: zoom in), never narrower than a minute. */
export function zoom(range: TimeRange, factor: number): TimeRange {
  const middle = (range.ge + range.lt) / 2;
  const half = Math.max(30_000, ((range.lt - range.ge) * factor) / 2);
  return { ge: Math.round(middle - half), lt: Math.round(middle + half) };
}

/** Buttons that pan and zoom the time range in view. */
export class ViewControl {
  readonly element: HTMLElement;
  private readonly label: HTMLElement;
  private current: TimeRange;

  constructor(
    initial: TimeRange,
    private readonly onChange: (range: TimeRange) => void,
    private readonly latest: () => TimeRange,
  ) {
    this.current = initial;
    this.label = h('p', { className: 'view-range', 'aria-live': 'polite' });
    const button = (text: string, label: string, next: () => TimeRange) => {
      const element = h('button', { type: 'button', 'aria-label': label }, text);
      element.addEventListener('click', () => this.set(next()));
      return element;
    };
    this.element = h(
      'div',
      { className: 'view-control', role: 'toolbar', 'aria-label': 'Time range in view' },
      button('◀', 'Pan earlier', () => pan(this.current, -0.5)),
      button('▶', 'Pan later', () => pan(this.current, 0.5)),
      button('+', 'Zoom in', () => zoom(this.current, 0.5)),
      button('−', 'Zoom out', () => zoom(this.current, 2)),
      button('Latest', 'Show the latest day', () => this.latest()),
      this.label,
    );
    this.showLabel();
  }

  /** The range in view. */
  get range(): TimeRange {
    return this.current;
  }

  /** Moves the view to `range` (e.g. after a zoom by selection on the chart) and reports it. */
  set(range: TimeRange): void {
    this.current = range;
    this.showLabel();
    this.onChange(range);
  }

  private showLabel(): void {
    this.label.textContent = `${formatTime(this.current.ge)} → ${formatTime(this.current.lt)} UTC`;
  }
}
