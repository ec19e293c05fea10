import { h } from './dom';

/** The change feed's status as the client reports it (`'none'`: the table follows no feed). */
export type FeedState = 'live' | 'catching-up' | 'offline' | 'none';

const feedText: Record<FeedState, string> = {
  live: 'Live',
  'catching-up': 'Catching up…',
  offline: 'Live updates paused (offline)',
  none: 'Not live',
};

/** The backend's reachability, whether the cache follows the backend's changes (*Live*), whether the view shows stale records, and the last error. */
export class StatusBar {
  readonly element: HTMLElement;
  private readonly backend: HTMLElement;
  private readonly feed: HTMLElement;
  private readonly stale: HTMLElement;
  private readonly error: HTMLElement;

  constructor() {
    this.backend = h('span', { className: 'backend-status', 'data-state': 'unknown' }, 'Backend: checking…');
    this.feed = h(
      'span',
      {
        className: 'feed-status',
        'data-state': 'none',
        title: 'Changes made on the backend, by anyone, reach this view on their own while Live',
      },
      feedText.none,
    );
    this.stale = h('span', { className: 'stale-badge', hidden: true }, 'Showing cached data (stale)');
    this.error = h('p', { className: 'error', role: 'alert', hidden: true });
    this.element = h(
      'div',
      { className: 'status-bar', role: 'status', 'aria-live': 'polite' },
      this.backend,
      this.feed,
      this.stale,
      this.error,
    );
  }

  setBackend(online: boolean): void {
    this.backend.dataset.state = online ? 'online' : 'offline';
    this.backend.textContent = online ? 'Backend: online' : 'Backend: unreachable';
  }

  /** Shows the change feed's status (`client.onChangeFeedStatus`). */
  setFeed(state: FeedState): void {
    this.feed.dataset.state = state;
    this.feed.textContent = feedText[state];
  }

  setStale(stale: boolean): void {
    this.stale.hidden = !stale;
  }

  /** Shows an error's message (as text), or hides the error with `null`. */
  showError(error: unknown): void {
    if (error === null) {
      this.error.hidden = true;
      this.error.textContent = '';
      return;
    }
    const offline = typeof error === 'object' && error !== null && (error as { offline?: boolean }).offline === true;
    const message = error instanceof Error ? error.message : String(error);
    this.error.textContent = offline ? `Offline: this range is not cached and the backend cannot be reached. (${message})` : message;
    this.error.hidden = false;
  }
}
