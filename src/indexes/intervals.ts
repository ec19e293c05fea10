import { Interval } from '../core/Interval';

/** The scores not in `interval`, as at most two intervals. */
export function complement(interval: Interval): Interval[] {
  if (interval.isEmpty) return [Interval.everything()];
  const parts: Interval[] = [];
  if (interval.ge > -Infinity) parts.push(new Interval(-Infinity, interval.ge));
  if (interval.lt < Infinity) parts.push(new Interval(interval.lt, Infinity));
  return parts;
}

/** The scores of `wanted` not in `held`, as at most two intervals. */
export function difference(wanted: Interval, held: Interval | null): Interval[] {
  if (wanted.isEmpty) return [];
  if (!held || !held.intersects(wanted)) return [wanted];
  const parts: Interval[] = [];
  if (wanted.ge < held.ge) parts.push(new Interval(wanted.ge, held.ge));
  if (held.lt < wanted.lt) parts.push(new Interval(held.lt, wanted.lt));
  return parts;
}

/** The scores in both, or `null` when they share none. */
export function intersection(a: Interval, b: Interval): Interval | null {
  return a.intersects(b) ? new Interval(Math.max(a.ge, b.ge), Math.min(a.lt, b.lt)) : null;
}
