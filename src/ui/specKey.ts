/**
 * A string equal for specs that are equal by value (the same plain data,
 * object keys in any order), for hooks that must not resubscribe when a
 * component passes an equal spec as a new object literal on every render.
 * A Date counts by its instant (as its ISO string does); ±Infinity, NaN,
 * bigints, Maps and Sets are told apart; `undefined` fields and functions
 * are left out (a spec that crosses to the worker is plain data).
 */
export function specKey(spec: unknown): string {
  return JSON.stringify(spec, (_key, value: unknown) => {
    if (typeof value === 'number') return Number.isFinite(value) ? value : { number: String(value) };
    if (typeof value === 'bigint') return { bigint: String(value) };
    if (value instanceof Map) return { map: [...value] };
    if (value instanceof Set) return { set: [...value] };
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key];
    return sorted;
  });
}
