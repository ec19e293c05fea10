import { describe, expect, it } from 'vitest';
import { ShardedMap } from '../../../src/storage/idb/ShardedMap';

describe('ShardedMap', () => {
  it('should keep numbers and strings apart and count its entries', () => {
    const map = new ShardedMap<number | string, string>();
    const keys = [0, -0, 1, -1, 63, 64, 1.5, 2 ** 40 + 3, -(2 ** 35), 'a', 'ab', 'abc', '1', '', '0'];
    keys.forEach((key, i) => map.set(key, `v${i}`));
    // 0 and -0 are one key, as for a Map (and IndexedDB).
    expect(map.size).toBe(keys.length - 1);
    expect(map.get(0)).toBe('v1');
    expect(map.get(1.5)).toBe('v6');
    expect(map.get('1')).toBe('v12');
    expect(map.get('')).toBe('v13');
    expect(map.get(2)).toBeUndefined();
    map.set(64, 'again');
    expect(map.size).toBe(keys.length - 1);
    map.delete(64);
    map.delete(64);
    map.delete('missing');
    expect([map.size, map.get(64)]).toEqual([keys.length - 2, undefined]);
    map.clear();
    expect([map.size, map.get('a')]).toEqual([0, undefined]);
  });

  it('should agree with a Map over many keys', () => {
    const map = new ShardedMap<number | string, number>();
    const reference = new Map<number | string, number>();
    for (let i = 0; i < 20_000; i++) {
      const key = i % 3 === 0 ? `key-${i % 7000}` : (i * 7919) % 9000;
      if (i % 5 === 0) {
        map.delete(key);
        reference.delete(key);
      } else {
        map.set(key, i);
        reference.set(key, i);
      }
    }
    expect(map.size).toBe(reference.size);
    for (const [key, value] of reference) expect(map.get(key)).toBe(value);
  });

  it('should hand out and delete up to a limit of entries at a time, each once', () => {
    const map = new ShardedMap<number, number>();
    for (let key = 0; key < 1000; key++) map.set(key, key * 2);
    const taken = new Map<number, number>();
    expect(map.take(300, (key, value) => taken.set(key, value))).toBe(300);
    expect([map.size, taken.size]).toEqual([700, 300]);
    while (map.size > 0) map.take(300, (key, value) => taken.set(key, value));
    expect(map.take(300, () => {})).toBe(0);
    expect(taken.size).toBe(1000);
    for (const [key, value] of taken) expect(value).toBe(key * 2);
  });
});
