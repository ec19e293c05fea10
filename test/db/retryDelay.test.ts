import { describe, expect, it } from 'vitest';
import { defaultRetryPolicy, parseRetryAfter, retryDelay } from '../../src/db/retryDelay';

describe('retryDelay', () => {
  describe('parseRetryAfter', () => {
    it('should read delay-seconds as milliseconds', () => {
      expect(parseRetryAfter('3')).toBe(3000);
    });

    it('should read fractional delay-seconds, not as a date', () => {
      expect(parseRetryAfter('1.5')).toBe(1500);
      expect(parseRetryAfter('0.25')).toBe(250);
      expect(parseRetryAfter('-1')).toBeNull();
    });

    it('should read an HTTP date as the time left until it', () => {
      const now = Date.parse('2026-11-01T12:00:00Z');
      expect(parseRetryAfter('Sun, 01 Nov 2026 12:00:05 GMT', now)).toBe(5000);
    });

    it('should read an HTTP date in the past as no wait', () => {
      expect(parseRetryAfter('Sun, 01 Nov 2026 11:00:00 GMT', Date.parse('2026-11-01T12:00:00Z'))).toBe(0);
    });

    it('should return null when the header is absent or unreadable', () => {
      expect(parseRetryAfter(null)).toBeNull();
      expect(parseRetryAfter('soon')).toBeNull();
    });
  });

  describe('retryDelay', () => {
    const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };

    it('should double the backoff with each retry, jittered down by at most half', () => {
      expect([1, 2, 3].map((retry) => retryDelay(policy, retry, null, () => 1))).toEqual([100, 200, 400]);
      expect([1, 2, 3].map((retry) => retryDelay(policy, retry, null, () => 0))).toEqual([50, 100, 200]);
    });

    it('should cap the backoff at maxDelayMs', () => {
      expect(retryDelay(policy, 10, null, () => 1)).toBe(1000);
    });

    it('should wait exactly what Retry-After asks for', () => {
      expect(retryDelay(policy, 1, 700, () => 0)).toBe(700);
    });

    it('should not retry when Retry-After asks for more than maxDelayMs', () => {
      expect(retryDelay(policy, 1, 1001)).toBeNull();
    });

    it('should have documented defaults', () => {
      expect(defaultRetryPolicy).toEqual({ attempts: 3, baseDelayMs: 200, maxDelayMs: 10_000 });
    });
  });
});
