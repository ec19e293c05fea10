import type { Plugin } from 'vite';

/**
 * A Vite plugin for the end-to-end builds: the first script of the page records `console.error` calls and
 * uncaught errors and rejections in `window.__e2eErrors`. Classic WebDriver (WebKit's driver) reports no console
 * events, so this is how the WebKit suites see a page's errors; the other drivers use their console events.
 */
export function captureErrors(): Plugin {
  const script = `(() => {
  const errors = (window.__e2eErrors = []);
  const text = (value) => (value instanceof Error ? value.message : String(value));
  const original = console.error.bind(console);
  console.error = (...args) => { errors.push(args.map(text).join(' ')); original(...args); };
  addEventListener('error', (event) => errors.push('uncaught: ' + text(event.error ?? event.message)));
  addEventListener('unhandledrejection', (event) => errors.push('uncaught: ' + text(event.reason)));
})();`;
  return {
    name: 'tablecache-capture-errors',
    transformIndexHtml: () => [{ tag: 'script', children: script, injectTo: 'head-prepend' }],
  };
}
