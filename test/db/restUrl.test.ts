import { describe, expect, it } from 'vitest';
import { InvalidSpecError } from '../../src/core/errors';
import { absoluteBaseUrl, restUrl } from '../../src/db/restUrl';

describe('restUrl', () => {
  describe('restUrl', () => {
    const base = absoluteBaseUrl('https://example.com/api');

    it('should append the path to the base path with one slash', () => {
      expect(restUrl(base, '/readings').href).toBe('https://example.com/api/readings');
      expect(restUrl(base, 'readings').href).toBe('https://example.com/api/readings');
    });

    it('should send arrays comma-separated, booleans and numbers as text', () => {
      const url = restUrl(base, 'readings', { ids: [3, 1], ge: -Infinity, lt: 1.5, live: true, q: 'a b' });
      expect(url.search).toBe('?ids=3%2C1&ge=-Infinity&lt=1.5&live=true&q=a+b');
      expect(url.searchParams.get('ids')).toBe('3,1');
    });

    it("should keep the base URL's own query parameters", () => {
      expect(restUrl(absoluteBaseUrl('https://example.com/api?key=k'), 'readings', { a: 1 }).href).toBe(
        'https://example.com/api/readings?key=k&a=1',
      );
    });

    it('should reject a NaN parameter naming it', () => {
      expect(() => restUrl(base, 'readings', { ge: NaN })).toThrow(InvalidSpecError);
      expect(() => restUrl(base, 'readings', { ge: NaN })).toThrow(/'ge'/);
    });
  });

  describe('absoluteBaseUrl', () => {
    it('should end the base path with a slash so that relative links resolve below it', () => {
      expect(new URL('readings?after=1', absoluteBaseUrl('https://example.com/api')).href).toBe('https://example.com/api/readings?after=1');
    });

    it('should reject a relative base URL where there is no location to resolve it against', () => {
      expect(() => absoluteBaseUrl('/api')).toThrow(InvalidSpecError);
    });
  });
});
