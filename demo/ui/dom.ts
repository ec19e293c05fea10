/** Attributes and properties of an element made by {@link h}. */
export type Attributes = Record<string, string | number | boolean | undefined>;

/**
 * Makes an element with attributes and children. Strings become text nodes,
 * never HTML: record data is always rendered as text.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'className') element.className = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

const integer = new Intl.NumberFormat('en-US');

/** `12,345`. */
export function formatCount(n: number): string {
  return integer.format(n);
}

/** `12 ms`, `1.4 s`. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `2026-11-27 13:05` in UTC, for timestamps in epoch ms. */
export function formatTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 16).replace('T', ' ');
}
