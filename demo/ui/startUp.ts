import { h } from './dom';

/** What the dashboard's start-up gets from {@link startUp}. */
export interface StartUpControl {
  /**
   * Reports a failure outside the start-up's own promise chain (the worker's `error` event: a worker whose
   * script fails to load or throws never answers, so the start-up would wait forever). Fails the start-up
   * while it runs and resolves true; once the dashboard is up it does nothing and resolves false.
   */
  fail(error: unknown): boolean;
}

/** `RangeError: Incorrect locale information provided`; `error event from SharedWorker`; or the text of anything else. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof Event !== 'undefined' && error instanceof Event)
    return `${error.type} event from ${error.target?.constructor.name ?? 'nowhere'}`;
  return String(error);
}

/** Replaces `host`'s content (the loading text) with an alert that says the page could not start and why, and logs it. */
export function showStartUpError(host: Element, error: unknown): void {
  console.error('The dashboard could not start:', error);
  host.replaceChildren(
    h(
      'section',
      { className: 'panel startup-error', role: 'alert' },
      h('h2', {}, 'The dashboard could not start'),
      h('p', { className: 'startup-error-message' }, describeError(error)),
      h('p', {}, 'Reload the page to try again. The browser console has the details.'),
    ),
  );
}

/**
 * Runs the page's start-up (`start`: import the dashboard, build it, open the cache) and shows an error in `host`
 * instead of leaving the loading text when it throws, rejects or is failed through {@link StartUpControl.fail}
 * before it resolves. Resolves true once the dashboard is up, false when it failed (never rejects).
 */
export async function startUp(host: Element, start: (control: StartUpControl) => Promise<void>): Promise<boolean> {
  let running = true;
  let failStart: (error: unknown) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => (failStart = reject));
  const control: StartUpControl = {
    fail(error) {
      if (!running) return false;
      failStart(error);
      return true;
    },
  };
  try {
    await Promise.race([Promise.resolve().then(() => start(control)), failed]);
    return true;
  } catch (error) {
    showStartUpError(host, error);
    return false;
  } finally {
    running = false;
    failed.catch(() => undefined);
  }
}
