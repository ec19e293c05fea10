/**
 * The few page operations the end-to-end suites need, behind one interface with an implementation per engine:
 * Chromium through playwright-core, Firefox through puppeteer-core (WebDriver BiDi), WebKit through W3C
 * WebDriver over HTTP to WebKitWebDriver. Everything else (reading text, clicking a button, filling an input)
 * is done in the page through `evaluate` (see `pageOps.ts`), so it behaves the same in every engine.
 */
import type { Engine } from '../../browsers';

/** One tab. */
export interface DriverPage {
  /** Navigates and resolves once the page's load event has fired. */
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  /**
   * Runs `fn` in the page with `arg` and resolves with its (awaited) result. `fn` must be self-contained (it is sent
   * as source); `arg` and the result must be structured data (numbers may be non-finite; no functions, no DOM nodes).
   */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Writes a PNG of the page to `path`. */
  screenshot(path: string): Promise<void>;
  /** The page's console errors and uncaught errors so far (see `captureErrors.ts` for the engines without console events). */
  errors(): Promise<string[]>;
  close(): Promise<void>;
}

/** Pages that share storage (one origin's IndexedDB, SharedWorkers, locks): a browser profile. */
export interface DriverContext {
  newPage(): Promise<DriverPage>;
  close(): Promise<void>;
}

export interface Driver {
  readonly engine: Engine;
  /** A fresh, isolated context (its own storage). */
  newContext(): Promise<DriverContext>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Extra Chromium command-line switches (ignored by the other engines). */
  chromiumArgs?: string[];
  /** Firefox preferences on top of the driver's own (ignored by the other engines), e.g. precise timers for the bench. */
  firefoxPrefs?: Record<string, string | number | boolean>;
  /** The size of every new page's viewport, CSS pixels. Default 1280 × 1200. */
  viewport?: { width: number; height: number };
}

export const defaultViewport = { width: 1280, height: 1200 };

/** Starts the engine's browser (and, for WebKit, its display and driver). */
export async function launch(engine: Engine, options: LaunchOptions = {}): Promise<Driver> {
  switch (engine) {
    case 'chromium':
      return (await import('./chromiumDriver')).launchChromium(options);
    case 'firefox':
      return (await import('./firefoxDriver')).launchFirefox(options);
    case 'webkit':
      return (await import('./webkitDriver')).launchWebKit(options);
  }
}
