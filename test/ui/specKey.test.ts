import { describe, expect, it } from 'vitest';
import { specKey } from '../../src/ui/specKey';

describe('specKey', () => {
  it('should be equal for specs equal by value, whatever the order of their keys', () => {
    expect(specKey({ indexName: 'ts', ge: 0, lt: 10 })).toBe(specKey({ lt: 10, indexName: 'ts', ge: 0 }));
    expect(specKey({ indexName: 'pk', primaryKeys: [1, 2], nested: { b: 1, a: 2 } })).toBe(
      specKey({ nested: { a: 2, b: 1 }, primaryKeys: [1, 2], indexName: 'pk' }),
    );
  });

  it('should tell apart specs that differ, infinite bounds and key order in arrays included', () => {
    expect(specKey({ indexName: 'ts', ge: 0, lt: 10 })).not.toBe(specKey({ indexName: 'ts', ge: 0, lt: 11 }));
    expect(specKey({ indexName: 'ts', ge: -Infinity, lt: 0 })).not.toBe(specKey({ indexName: 'ts', ge: Infinity, lt: 0 }));
    expect(specKey({ indexName: 'ts', ge: NaN, lt: 0 })).not.toBe(specKey({ indexName: 'ts', ge: null, lt: 0 }));
    expect(specKey({ keys: [1, 2] })).not.toBe(specKey({ keys: [2, 1] }));
    expect(specKey({ keys: new Set([1]) })).not.toBe(specKey({ keys: new Set([2]) }));
    expect(specKey({ big: 1n })).not.toBe(specKey({ big: 2n }));
  });

  it('should count a Date by its instant', () => {
    expect(specKey({ ge: new Date(5) })).toBe(specKey({ ge: new Date(5) }));
    expect(specKey({ ge: new Date(5) })).not.toBe(specKey({ ge: new Date(6) }));
  });
});
