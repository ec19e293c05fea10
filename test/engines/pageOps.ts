/**
 * What the end-to-end suites do to a page, done in the page through `evaluate`, so that it behaves the same in
 * every engine: read text and attributes, count and check elements, click a button by its accessible name,
 * fill an input. Like Playwright's locators, `clickButton` waits for the button to exist and be enabled.
 */
import type { Engine } from '../../browsers';
import type { DriverPage } from './driver';

/** The engine an end-to-end project runs in (`E2E_ENGINE`, set per project by `vite.config.ts`). */
export function e2eEngine(): Engine {
  const engine = process.env.E2E_ENGINE ?? 'chromium';
  if (engine !== 'chromium' && engine !== 'firefox' && engine !== 'webkit')
    throw new Error(`E2E_ENGINE names an unknown engine "${engine}".`);
  return engine;
}

/** Console errors of requests to a stopped backend, as each engine words them. */
export const failedRequest =
  /Failed to load resource|ERR_CONNECTION_REFUSED|NetworkError|CORS request did not succeed|Could not connect|Load failed/;

/** The text of the first element matching `selector`, or null when there is none. */
export const text = (page: DriverPage, selector: string) => page.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);

/** An attribute of the first element matching `selector`, or null. */
export const attribute = (page: DriverPage, selector: string, name: string) =>
  page.evaluate(([s, n]) => document.querySelector(s)?.getAttribute(n) ?? null, [selector, name] as const);

/** How many elements match `selector`. */
export const count = (page: DriverPage, selector: string) => page.evaluate((s) => document.querySelectorAll(s).length, selector);

/** Whether the first element matching `selector` exists and is rendered (has a box and is not `visibility: hidden`). */
export const isVisible = (page: DriverPage, selector: string) =>
  page.evaluate((s) => {
    const element = document.querySelector(s);
    return !!element && element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden';
  }, selector);

/** Clicks the button whose accessible name (`aria-label`, else its text) is `name`, once it exists and is enabled. */
export async function clickButton(page: DriverPage, name: string, timeout = 10_000): Promise<void> {
  const clicked = await page.evaluate(
    async ([wanted, ms]) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const button = [...document.querySelectorAll<HTMLButtonElement>('button, [role=button]')].find(
          (candidate) => (candidate.getAttribute('aria-label') ?? candidate.textContent ?? '').trim() === wanted,
        );
        if (button && !button.disabled) {
          button.click();
          return true;
        }
        if (Date.now() > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    [name, timeout] as const,
  );
  if (!clicked) throw new Error(`No enabled button named "${name}" within ${timeout} ms.`);
}

/** Sets the value of the first input matching `selector` as typing does, then fires `change`. */
export const fillAndChange = (page: DriverPage, selector: string, value: string) =>
  page.evaluate(
    ([s, v]) => {
      const input = document.querySelector<HTMLInputElement>(s);
      if (!input) throw new Error(`No input matches ${s}`);
      input.value = v;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    },
    [selector, value] as const,
  );

/** Keeps a reference to the first element matching `selector` under `key`, to read it after the page re-renders. */
export const hold = (page: DriverPage, key: string, selector: string) =>
  page.evaluate(
    ([k, s]) => {
      const held = ((globalThis as unknown as { __e2eHeld?: Record<string, Element | null> }).__e2eHeld ??= {});
      held[k] = document.querySelector(s);
    },
    [key, selector] as const,
  );

/** The text of an element kept by `hold`. */
export const heldText = (page: DriverPage, key: string) =>
  page.evaluate((k) => (globalThis as unknown as { __e2eHeld?: Record<string, Element | null> }).__e2eHeld?.[k]?.textContent ?? null, key);
