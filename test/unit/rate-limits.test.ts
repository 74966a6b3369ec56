// Per-key rate limits (limits.ts) on a clock the test moves: the sliding minute over one-second
// buckets (a request leaves the window exactly 60 s after its second began), Retry-After and the
// x-ratelimit-* numbers a refusal carries, TPM counted on the tokens really used, and the
// concurrency slot held from admission to release.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/daemon/gateway/money/limits.js';
import type { BcError } from '../../src/shared/errors.js';

const T0 = 1_767_225_600_000; // a whole second (2026-01-01T00:00:00Z)
const limits = (over: { rpm?: number; tpm?: number; concurrency?: number }) => ({
  rpm: over.rpm ?? null,
  tpm: over.tpm ?? null,
  concurrency: over.concurrency ?? null,
});

function clocked(): { limiter: RateLimiter; at: (ms: number) => void } {
  let now = T0;
  return { limiter: new RateLimiter(() => now), at: (ms) => (now = T0 + ms) };
}

/** The refusal `fn` throws (fails the test if it admits). */
function refusal(fn: () => void): BcError {
  try {
    fn();
  } catch (err) {
    return err as BcError;
  }
  throw new Error('admitted, expected a refusal');
}

describe('requests per minute', () => {
  it('admits rpm requests a minute, then refuses with Retry-After until the oldest leaves the window', () => {
    const { limiter, at } = clocked();
    const l = limits({ rpm: 3 });
    for (let i = 0; i < 3; i++) {
      limiter.admit(1, l, 0);
      limiter.release(1, 0);
    }
    const err = refusal(() => limiter.admit(1, l, 0));
    expect(err).toMatchObject({
      code: 'RATE_LIMITED',
      status: 429,
      message: 'rate limit of 3 requests per minute reached for this key',
      retryAfterS: 60,
      headers: {
        'x-ratelimit-limit-requests': '3',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '60s',
      },
    });
    at(30_000);
    expect(refusal(() => limiter.admit(1, l, 0)).retryAfterS).toBe(30);
    // the last millisecond of the minute is still inside it
    at(59_999);
    expect(refusal(() => limiter.admit(1, l, 0)).retryAfterS).toBe(1);
    // 60 s after their second began the three are out: three more fit in the same bucket
    at(60_000);
    for (let i = 0; i < 3; i++) limiter.admit(1, l, 0);
    expect(refusal(() => limiter.admit(1, l, 0)).retryAfterS).toBe(60);
  });

  it('slides: a refusal waits for the oldest counted second, not a whole minute', () => {
    const { limiter, at } = clocked();
    const l = limits({ rpm: 3 });
    limiter.admit(1, l, 0);
    at(10_500);
    limiter.admit(1, l, 0);
    limiter.admit(1, l, 0);
    at(20_000);
    expect(refusal(() => limiter.admit(1, l, 0)).headers).toMatchObject({
      'x-ratelimit-reset-requests': '40s',
    });
    // the first second leaves: one more fits, then the oldest is the 10th second
    at(60_000);
    limiter.admit(1, l, 0);
    expect(refusal(() => limiter.admit(1, l, 0)).retryAfterS).toBe(10);
    at(70_000);
    limiter.admit(1, l, 0);
  });

  it('keeps each key apart, and has no limit when none is set', () => {
    const { limiter } = clocked();
    limiter.admit(1, limits({ rpm: 1 }), 0);
    limiter.admit(2, limits({ rpm: 1 }), 0);
    expect(() => limiter.admit(1, limits({ rpm: 1 }), 0)).toThrow(/requests per minute/);
    for (let i = 0; i < 100; i++) limiter.admit(3, limits({}), 1_000_000);
    expect(limiter.inFlight(3)).toBe(100);
  });
});

describe('tokens per minute', () => {
  it('counts the tokens requests used (at release) and refuses one whose estimate would pass the limit', () => {
    const { limiter, at } = clocked();
    const l = limits({ tpm: 1000 });
    // nothing used yet: even a prompt larger than the limit is let through
    limiter.admit(1, l, 5000);
    limiter.release(1, 600);
    at(5000);
    limiter.admit(1, l, 300);
    limiter.release(1, 0);
    at(10_000);
    const err = refusal(() => limiter.admit(1, l, 401));
    expect(err).toMatchObject({
      code: 'RATE_LIMITED',
      message: 'rate limit of 1000 tokens per minute reached for this key',
      // the 600 tokens used in the first second leave the window 50 s from now
      retryAfterS: 50,
      headers: {
        'x-ratelimit-limit-tokens': '1000',
        'x-ratelimit-remaining-tokens': '400',
        'x-ratelimit-reset-tokens': '50s',
      },
    });
    // exactly the limit fits
    limiter.admit(1, l, 400);
    limiter.release(1, 400);
    // the limit used up: refused whatever the estimate, even none
    const full = refusal(() => limiter.admit(1, l, 0));
    expect(full.headers).toMatchObject({
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '50s',
    });
    // the first second's 600 leave: 600 more fit, and the 400 of the 10th second wait 10 s more
    at(60_000);
    limiter.admit(1, l, 600);
    expect(refusal(() => limiter.admit(1, l, 601)).retryAfterS).toBe(10);
    at(70_000);
    limiter.admit(1, l, 1000);
  });

  it('says no tokens remain when more than the limit was used', () => {
    const { limiter } = clocked();
    const l = limits({ tpm: 100 });
    limiter.admit(1, l, 10);
    limiter.release(1, 250);
    expect(refusal(() => limiter.admit(1, l, 1)).headers).toMatchObject({
      'x-ratelimit-remaining-tokens': '0',
    });
  });
});

describe('concurrency', () => {
  it('holds a slot from admission to release, and refuses past the limit with Retry-After 1', () => {
    const { limiter } = clocked();
    const l = limits({ concurrency: 2 });
    limiter.admit(1, l, 0);
    limiter.admit(1, l, 0);
    expect(limiter.inFlight(1)).toBe(2);
    expect(refusal(() => limiter.admit(1, l, 0))).toMatchObject({
      code: 'RATE_LIMITED',
      message: 'concurrency limit of 2 requests reached for this key',
      retryAfterS: 1,
      headers: { 'x-ratelimit-limit-concurrency': '2' },
    });
    // a refused request holds no slot
    expect(limiter.inFlight(1)).toBe(2);
    limiter.release(1, 0);
    expect(limiter.inFlight(1)).toBe(1);
    limiter.admit(1, l, 0);
    // releases past zero stay at zero; an unknown key's release does nothing
    for (let i = 0; i < 4; i++) limiter.release(1, 0);
    expect(limiter.inFlight(1)).toBe(0);
    limiter.release(9, 100);
    expect(limiter.inFlight(9)).toBe(0);
    limiter.admit(1, l, 0);
    limiter.admit(1, l, 0);
    expect(() => limiter.admit(1, l, 0)).toThrow(/concurrency/);
  });

  it('is checked before the minute limits, and a refusal by rpm or tpm takes no slot', () => {
    const { limiter } = clocked();
    limiter.admit(1, limits({ rpm: 1 }), 0);
    expect(refusal(() => limiter.admit(1, limits({ rpm: 1, concurrency: 1 }), 0)).message).toMatch(
      /concurrency/,
    );
    limiter.release(1, 0);
    expect(refusal(() => limiter.admit(1, limits({ rpm: 1, concurrency: 1 }), 0)).message).toMatch(
      /per minute/,
    );
    expect(limiter.inFlight(1)).toBe(0);
  });
});
