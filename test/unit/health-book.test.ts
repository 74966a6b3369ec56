// Per-channel-key health (health.ts) on a clock the test moves: exponential cooldowns from 5 s
// to 5 min, Retry-After taken as given (up to an hour), the one half-open probe after a
// cooldown, what a client is told to wait, and keys kept apart by channel id and secret index.
import { describe, expect, it } from 'vitest';
import { HealthBook } from '../../src/daemon/gateway/routing/health.js';

const T0 = 1_767_225_600_000;

function clocked(): { book: HealthBook; at: (ms: number) => void } {
  let now = T0;
  return { book: new HealthBook(() => now), at: (ms) => (now = T0 + ms) };
}

describe('HealthBook', () => {
  it('serves a key it knows nothing about, and forgets a key on success', () => {
    const { book } = clocked();
    expect(book.tryAcquire(1, 0)).toBe(true);
    expect(book.tryAcquire(1, 0)).toBe(true);
    expect(book.isAvailable(1, 0)).toBe(true);
    expect(book.waitMs(1, 0)).toBe(0);
    book.failure(1, 0);
    book.success(1, 0);
    expect(book.isAvailable(1, 0)).toBe(true);
    expect(book.waitMs(1, 0)).toBe(0);
    expect(book.tryAcquire(1, 0)).toBe(true);
  });

  it('cools a key down 5 s after its first failure, doubling each time up to 5 min', () => {
    const { book } = clocked();
    const waits = Array.from({ length: 9 }, () => book.failure(1, 0) - T0);
    expect(waits).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('takes a positive Retry-After instead of the backoff, up to an hour', () => {
    const { book } = clocked();
    expect(book.failure(1, 0, 42_000) - T0).toBe(42_000);
    expect(book.failure(1, 1, 1) - T0).toBe(1);
    expect(book.failure(1, 2, 10 * 3_600_000) - T0).toBe(3_600_000);
    // none, zero or negative: the backoff
    expect(book.failure(1, 3, 0) - T0).toBe(5_000);
    expect(book.failure(1, 4, -5) - T0).toBe(5_000);
    expect(book.failure(1, 5, undefined) - T0).toBe(5_000);
  });

  it('refuses a cooling key until the cooldown ends, then lets exactly one probe through', () => {
    const { book, at } = clocked();
    book.failure(1, 0);
    at(4_999);
    expect(book.isAvailable(1, 0)).toBe(false);
    expect(book.tryAcquire(1, 0)).toBe(false);
    expect(book.waitMs(1, 0)).toBe(1);
    at(5_000);
    expect(book.isAvailable(1, 0)).toBe(true);
    expect(book.waitMs(1, 0)).toBe(0);
    expect(book.tryAcquire(1, 0)).toBe(true);
    // the probe is out: nobody else, and the client is told to look again in a second
    expect(book.isAvailable(1, 0)).toBe(false);
    expect(book.tryAcquire(1, 0)).toBe(false);
    expect(book.waitMs(1, 0)).toBe(1_000);
    // the probe's client went away: the next one may probe
    book.release(1, 0);
    expect(book.isAvailable(1, 0)).toBe(true);
    expect(book.tryAcquire(1, 0)).toBe(true);
    // the probe failed: a longer cooldown, and no probe out any more
    at(6_000);
    expect(book.failure(1, 0) - T0).toBe(6_000 + 10_000);
    expect(book.waitMs(1, 0)).toBe(10_000);
    at(100_000);
    expect(book.waitMs(1, 0)).toBe(0);
  });

  it('keeps keys apart by channel and secret index, and forgets only the channel asked', () => {
    const { book } = clocked();
    book.failure(1, 0);
    book.failure(11, 0);
    book.failure(1, 1, 60_000);
    expect(book.isAvailable(1, 2)).toBe(true);
    expect(book.isAvailable(2, 0)).toBe(true);
    book.forgetChannel(1);
    expect(book.isAvailable(1, 0)).toBe(true);
    expect(book.isAvailable(1, 1)).toBe(true);
    // channel 11's key starts with "1" but is another channel's
    expect(book.isAvailable(11, 0)).toBe(false);
    book.release(7, 0); // unknown: nothing to release
    expect(book.tryAcquire(7, 0)).toBe(true);
  });

  it("reports the latest cooldown end among a channel's keys still cooling", () => {
    const { book, at } = clocked();
    expect(book.cooldownUntil(1, [0, 1])).toBeNull();
    book.failure(1, 0); // until +5 s
    book.failure(1, 1, 30_000); // until +30 s
    book.failure(2, 0, 90_000); // another channel
    expect(book.cooldownUntil(1, [0, 1])).toBe(T0 + 30_000);
    expect(book.cooldownUntil(1, [1, 0])).toBe(T0 + 30_000);
    expect(book.cooldownUntil(1, [0])).toBe(T0 + 5_000);
    // a cooldown ending right now is over
    at(5_000);
    expect(book.cooldownUntil(1, [0])).toBeNull();
    expect(book.cooldownUntil(1, [0, 1])).toBe(T0 + 30_000);
    book.success(1, 1);
    expect(book.cooldownUntil(1, [0, 1])).toBeNull();
  });
});
