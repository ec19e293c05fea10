import { describe, expect, it } from 'vitest';
import { compareKeys, isValidKey, keyToString, type PrimaryKey } from '../../src/core/keys';

describe('keys', () => {
  describe('isValidKey', () => {
    it('should accept IndexedDB keys', () => {
      for (const key of [0, -Infinity, 'a', '', new Date(0), new Uint8Array([1]), new ArrayBuffer(2), [1, 'a', [new Date(1)]]]) {
        expect(isValidKey(key)).toBe(true);
      }
    });

    it('should refuse what IndexedDB refuses', () => {
      const cyclic: unknown[] = [];
      cyclic.push(cyclic);
      for (const key of [Number.NaN, new Date(Number.NaN), null, undefined, true, {}, [1, {}], cyclic, 1n]) {
        expect(isValidKey(key)).toBe(false);
      }
    });
  });

  describe('compareKeys', () => {
    it('should order keys like indexedDB.cmp: numbers, dates, strings, binary, arrays', () => {
      const ordered: PrimaryKey[] = [
        -Infinity,
        -1,
        0,
        2,
        Infinity,
        new Date(-5),
        new Date(3),
        '',
        'a',
        'ab',
        'b',
        new Uint8Array([]),
        new Uint8Array([0]),
        new Uint8Array([1]),
        [],
        [0],
        [0, 0],
        ['a'],
      ];
      for (let i = 0; i < ordered.length; i++) {
        for (let j = 0; j < ordered.length; j++) {
          expect(Math.sign(compareKeys(ordered[i]!, ordered[j]!))).toBe(Math.sign(i - j));
        }
      }
    });
  });

  describe('keyToString', () => {
    it('should be equal exactly for equal keys', () => {
      const keys: PrimaryKey[] = [0, 1, '1', 'n1', new Date(1), [1], ['1'], [[1]], new Uint8Array([1])];
      const strings = keys.map(keyToString);
      expect(new Set(strings).size).toBe(keys.length);
      expect(keyToString(-0)).toBe(keyToString(0));
      expect(keyToString([1, 'a'])).toBe(keyToString([1, 'a']));
      expect(keyToString(new Date(5))).toBe(keyToString(new Date(5)));
    });
  });
});
