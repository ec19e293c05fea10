import { formatCount, formatDuration, h } from './dom';

/**
 * Called when the user picks a cached window of `days` days; resolves when the cache holds it. `signal` aborts
 * when the user cancels (the adjust then rejects and the cache keeps the window it held).
 */
export type WindowHandler = (days: number, signal: AbortSignal) => Promise<void>;

/**
 * Chooses how many of the latest days the cache holds, showing progress while
 * the worker adjusts (a percentage when the backend tells the total), with a
 * Cancel button. The choice is disabled while an adjust runs.
 */
export class WindowControl {
  readonly element: HTMLElement;
  private readonly buttons: HTMLButtonElement[];
  private readonly progress: HTMLProgressElement;
  private readonly cancel: HTMLButtonElement;
  private readonly message: HTMLElement;
  private selected: number;
  private running: AbortController | null = null;

  constructor(
    private readonly onChange: WindowHandler,
    readonly choices: readonly number[] = [3, 7, 30],
    initial = choices[0] ?? 3,
  ) {
    this.selected = initial;
    this.buttons = choices.map((days) => {
      const button = h('button', { type: 'button', 'aria-pressed': String(days === initial), 'data-days': days }, `${days} days`);
      button.addEventListener('click', () => void this.choose(days));
      return button;
    });
    this.progress = h('progress', { max: 1, hidden: true, 'aria-label': 'Cache adjust progress' });
    this.cancel = h('button', { type: 'button', className: 'window-cancel', hidden: true }, 'Cancel');
    this.cancel.addEventListener('click', () => this.running?.abort());
    this.message = h('p', { className: 'window-message', role: 'status', 'aria-live': 'polite' });
    this.element = h(
      'section',
      { className: 'panel window', 'aria-labelledby': 'window-title' },
      h('h2', { id: 'window-title' }, 'Cached window'),
      h('div', { className: 'button-group', role: 'group', 'aria-label': 'Days cached' }, ...this.buttons),
      this.progress,
      this.cancel,
      this.message,
    );
  }

  /** The days currently chosen. */
  get days(): number {
    return this.selected;
  }

  /** Shows the progress of a running load or adjust: records loaded so far, out of `total` when known. */
  showProgress(loaded: number, total?: number): void {
    this.progress.hidden = false;
    if (total && total > 0) {
      this.progress.max = total;
      this.progress.value = Math.min(loaded, total);
    } else {
      this.progress.removeAttribute('value');
    }
    const percent = total && total > 0 ? ` (${Math.floor((Math.min(loaded, total) / total) * 100)}%)` : '';
    this.message.textContent = `Loading… ${formatCount(loaded)}${total ? ` of ${formatCount(total)}` : ''} records${percent}`;
  }

  /** Marks `days` as the window held, without asking for it (e.g. after `resume()` restored it), and says so with `text`. */
  showHeld(days: number, text: string): void {
    this.select(days);
    this.showDone(text);
  }

  /** Shows the outcome of the last load or adjust. */
  showDone(text: string): void {
    this.progress.hidden = true;
    this.message.textContent = text;
  }

  private async choose(days: number): Promise<void> {
    if (days === this.selected && !this.element.hasAttribute('aria-busy')) return;
    const previous = this.selected;
    const running = new AbortController();
    this.running = running;
    this.setBusy(true);
    this.select(days);
    this.showProgress(0);
    const started = performance.now();
    try {
      await this.onChange(days, running.signal);
      this.showDone(`Holding the last ${days} days (adjusted in ${formatDuration(performance.now() - started)}).`);
    } catch (error) {
      this.select(previous);
      if (running.signal.aborted) this.showDone(`Cancelled: still holding the last ${previous} days.`);
      else this.showDone(`Could not adjust: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.running = null;
      this.setBusy(false);
    }
  }

  private select(days: number): void {
    this.selected = days;
    for (const button of this.buttons) button.setAttribute('aria-pressed', String(button.dataset.days === String(days)));
  }

  private setBusy(busy: boolean): void {
    if (busy) this.element.setAttribute('aria-busy', 'true');
    else this.element.removeAttribute('aria-busy');
    for (const button of this.buttons) button.disabled = busy;
    this.cancel.hidden = !busy;
  }
}
