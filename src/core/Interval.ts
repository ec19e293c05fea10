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
 * A half-open interval of scores, `[ge, lt)`; `ge === lt` is the empty
 * interval. Being half-open, no interval contains `+Infinity`: a record
 * scored `+Infinity` is stored but never read (a backend asked for
 * `score < lt` agrees); score it `Number.MAX_VALUE` instead.
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

  /** `[-Infinity, Infinity)`: every score but `+Infinity`. */
  static everything(): Interval {
    return new Interval(-Infinity, Infinity);
  }

  /**
   * The interval holding exactly `x`: `[x, next double after x)`.
   * @throws {TableCacheError} for `+Infinity` (or NaN), which no half-open interval holds.
   */
  static onlyContaining(x: number): Interval {
    if (x === Infinity) throw new TableCacheError('No interval [ge, lt) contains +Infinity.');
    return new Interval(x, nextUp(x));
  }

  /** True when the interval holds no score. */
  get isEmpty(): boolean {
    return this.ge === this.lt;
  }

  /** Whether `x` lies in the interval. */
  contains(x: number): boolean {
    return this.ge <= x && x < this.lt;
  }

  /** Whether the two intervals share a score. An empty interval intersects nothing. */
  intersects(other: Interval): boolean {
    return Math.max(this.ge, other.ge) < Math.min(this.lt, other.lt);
  }

  /** Whether every score of `other` lies in this interval. An empty interval is covered by any. */
  covers(other: Interval): boolean {
    if (other.isEmpty) return true;
    return this.ge <= other.ge && other.lt <= this.lt;
  }

  toString(): string {
    return `[${this.ge}, ${this.lt})`;
  }
}
