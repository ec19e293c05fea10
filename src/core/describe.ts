/** A short, readable rendering of a spec for error messages (functions shown as `[function]`, long output cut). */
export function describeSpec(spec: unknown, maxLength = 200): string {
  let text: string;
  try {
    text =
      JSON.stringify(spec, (_key, value: unknown) => {
        if (typeof value === 'function') return '[function]';
        if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
        if (typeof value === 'bigint') return `${value}n`;
        return value;
      }) ?? String(spec);
  } catch {
    text = String(spec);
  }
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}
