import { describe, expect, it } from 'vitest';
import { TableCacheError } from '../../src/core/errors';
import { Interval, nextUp } from '../../src/core/Interval';

describe('Interval', () => {
  describe('constructor', () => {
    it('should throw TableCacheError when ge > lt', () => {
      expect(() => new Interval(2, 1)).toThrow(TableCacheError);
    });

    it('should throw TableCacheError for a NaN bound', () => {
      expect(() => new Interval(Number.NaN, 1)).toThrow(TableCacheError);
      expect(() => new Interval(0, Number.NaN)).toThrow(/NaN/);
    });

    it('should accept ge === lt as the empty interval', () => {
      expect(new Interval(3, 3).isEmpty).toBe(true);
      expect(new Interval(3, 3).contains(3)).toBe(false);
    });
  });

  describe('contains', () => {
    it('should include ge and exclude lt', () => {
      const interval = new Interval(1, 2);
      expect(interval.contains(1)).toBe(true);
      expect(interval.contains(1.5)).toBe(true);
      expect(interval.contains(2)).toBe(false);
      expect(interval.contains(0.999)).toBe(false);
    });
  });

  describe('everything', () => {
    it('should contain every score but +Infinity', () => {
      const everything = Interval.everything();
      for (const x of [-Infinity, -Number.MAX_VALUE, 0, -0, Number.MIN_VALUE, Number.MAX_VALUE]) {
        expect(everything.contains(x)).toBe(true);
      }
      expect(everything.contains(Infinity)).toBe(false);
    });
  });

  describe('onlyContaining', () => {
    it('should contain exactly x, its upper bound the next representable double', () => {
      for (const x of [0, 1, -1, 0.1, 1e300, -Number.MIN_VALUE, -Infinity]) {
        const interval = Interval.onlyContaining(x);
        expect(interval.ge).toBe(x);
        expect(interval.lt).toBe(nextUp(x));
        expect(interval.lt).toBeGreaterThan(x);
        expect(interval.contains(x)).toBe(true);
        expect(interval.contains(interval.lt)).toBe(false);
      }
    });

    it('should throw for +Infinity, which no half-open interval holds', () => {
      expect(() => Interval.onlyContaining(Infinity)).toThrow(TableCacheError);
    });
  });

  describe('nextUp', () => {
    it('should step to the adjacent double', () => {
      expect(nextUp(1)).toBe(1 + Number.EPSILON);
      expect(nextUp(0)).toBe(Number.MIN_VALUE);
      expect(nextUp(-Number.MIN_VALUE)).toBe(-0);
      expect(nextUp(Number.MAX_VALUE)).toBe(Infinity);
      expect(nextUp(-Infinity)).toBe(-Number.MAX_VALUE);
    });
  });

  describe('intersects', () => {
    it('should be true when the intervals share a score', () => {
      expect(new Interval(0, 2).intersects(new Interval(1, 3))).toBe(true);
      expect(new Interval(1, 3).intersects(new Interval(0, 2))).toBe(true);
      expect(new Interval(0, 10).intersects(new Interval(2, 3))).toBe(true);
    });

    it('should be false for adjacent intervals', () => {
      expect(new Interval(0, 1).intersects(new Interval(1, 2))).toBe(false);
      expect(new Interval(1, 2).intersects(new Interval(0, 1))).toBe(false);
    });

    it('should be false for an empty interval, even inside the other', () => {
      expect(new Interval(0, 10).intersects(new Interval(5, 5))).toBe(false);
      expect(new Interval(5, 5).intersects(new Interval(5, 5))).toBe(false);
    });
  });

  describe('covers', () => {
    it('should be true when every score of the other lies inside', () => {
      expect(new Interval(0, 10).covers(new Interval(0, 10))).toBe(true);
      expect(new Interval(0, 10).covers(new Interval(2, 3))).toBe(true);
      expect(new Interval(0, 10).covers(new Interval(5, 11))).toBe(false);
      expect(new Interval(0, 10).covers(new Interval(-1, 5))).toBe(false);
    });

    it('should cover an empty interval anywhere', () => {
      expect(new Interval(0, 1).covers(new Interval(50, 50))).toBe(true);
      expect(new Interval(7, 7).covers(new Interval(50, 50))).toBe(true);
    });

    it('should not let an empty interval cover a non-empty one', () => {
      expect(new Interval(5, 5).covers(Interval.onlyContaining(5))).toBe(false);
    });
  });
});
