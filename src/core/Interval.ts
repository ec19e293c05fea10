import { TableCacheError } from './errors';

const float = new Float64Array(1);
const bits = new BigInt64Array(float.buffer);

/** The smallest double greater than `x` (`Infinity` stays `Infinity`). */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  float[0] = x;
  bits[0] = (bits[0] ?? 0n) + (x > 0 ? 1n : -1n);
  return float[0];
}

/**
 * A half-open interval of scores, `[ge, lt)`.
 *
 * `ge === lt` is the empty interval, with one exception: an upper bound of
 * `Infinity` includes `Infinity` itself, so that `Interval.everything()`
 * holds every score (±Infinity are valid scores) and
 * `Interval.onlyContaining(Infinity)` is `[Infinity, Infinity]`.
 */
export class Interval {
  /** Lowest score included. */
  readonly ge: number;
  /** Lowest score above the interval (excluded, unless it is `Infinity`). */
  readonly lt: number;

  /** @throws {TableCacheError} when a bound is NaN or `ge > lt`. */
  constructor(ge: number, lt: number) {
    if (typeof ge !== 'number' || typeof lt !== 'number' || Number.isNaN(ge) || Number.isNaN(lt)) {
      throw new TableCacheError(`Interval bounds must be numbers, not NaN: [${String(ge)}, ${String(lt)}).`);
    }
    if (ge > lt) throw new TableCacheError(`Interval [${ge}, ${lt}) has its lower bound above its upper bound.`);
    this.ge = ge;
    this.lt = lt;
  }

  /** `[-Infinity, Infinity]`: every score. */
  static everything(): Interval {
    return new Interval(-Infinity, Infinity);
  }

  /** The interval holding exactly `x`: `[x, next double after x)`. */
  static onlyContaining(x: number): Interval {
    return new Interval(x, nextUp(x));
  }

  /** True when the interval holds no score. */
  get isEmpty(): boolean {
    return this.ge === this.lt && this.lt !== Infinity;
  }

  /** Whether `x` lies in the interval. */
  contains(x: number): boolean {
    return this.ge <= x && (x < this.lt || x === Infinity && this.lt === Infinity);
  }

  /** Whether the two intervals share a score. An empty interval intersects nothing. */
  intersects(other: Interval): boolean {
    if (this.isEmpty || other.isEmpty) return false;
    const ge = Math.max(this.ge, other.ge);
    const lt = Math.min(this.lt, other.lt);
    return ge < lt || lt === Infinity;
  }

  /** Whether every score of `other` lies in this interval. An empty interval is covered by any. */
  covers(other: Interval): boolean {
    if (other.isEmpty) return true;
    return this.ge <= other.ge && other.lt <= this.lt;
  }

  toString(): string {
    return `[${this.ge}, ${this.lt}${this.lt === Infinity ? ']' : ')'}`;
  }
}
