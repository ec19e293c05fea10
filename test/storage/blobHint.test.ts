import { describe, expect, it } from 'vitest';
import { blobHint, holdsBlob } from '../../src/storage/idb/blobHint';

describe('blobHint', () => {
  describe('holdsBlob', () => {
    it('should find a Blob at the top, in objects, arrays, Maps and Sets a few levels down', () => {
      const blob = new Blob(['x']);
      for (const value of [blob, { a: blob }, [1, { b: [blob] }], new Map([['k', { c: blob }]]), new Set([blob])]) {
        expect(holdsBlob(value)).toBe(true);
      }
    });

    it('should find none in plain records, typed arrays, or deeper than it looks', () => {
      const deep = { a: { b: { c: { d: { e: new Blob(['x']) } } } } };
      for (const value of [null, 5, 'text', { id: 1, at: new Date(0) }, new Float64Array(4), deep]) expect(holdsBlob(value)).toBe(false);
    });
  });

  describe('blobHint', () => {
    it('should say a record of the batch holds a Blob or File only when one does', () => {
      expect(blobHint([{ id: 1 }, { id: 2, file: new Blob(['x']) }])).toMatch(/holds a Blob or File.*ArrayBuffer/);
      expect(blobHint([{ id: 1 }, { id: 2 }])).toBe('');
    });
  });
});
