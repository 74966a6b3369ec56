/**
 * The brake on guessing redemption codes (tenants/redeem-limits.ts): `limit` failures per user and
 * per address in a sliding 10-minute window, then 429 with the wait until the oldest failure that
 * matters leaves the window; 0 turns it off; memory keeps only what check() needs.
 */
import { describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { REDEEM_WINDOW_MS, RedeemLimits } from '../../src/daemon/tenants/redeem-limits.js';

function waitOf(fn: () => void): number | null {
  try {
    fn();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(BcError);
    expect((err as BcError).code).toBe('RATE_LIMITED');
    return (err as BcError).retryAfterS ?? -1;
  }
}

describe('RedeemLimits', () => {
  it('allows `limit` failures per user, then refuses until the oldest leaves the window', () => {
    const l = new RedeemLimits();
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(waitOf(() => l.check(1, '10.0.0.1', 3, t0 + i * 1000))).toBeNull();
      l.fail(1, '10.0.0.1', 3, t0 + i * 1000);
    }
    expect(waitOf(() => l.check(1, '10.0.0.1', 3, t0 + 5000))).toBe((REDEEM_WINDOW_MS - 5000) / 1000);
    // the first failure has left the window: one more attempt fits
    expect(waitOf(() => l.check(1, '10.0.0.1', 3, t0 + REDEEM_WINDOW_MS + 1))).toBeNull();
  });

  it('counts the address across users, and the user across addresses', () => {
    const l = new RedeemLimits();
    const now = 5_000_000;
    l.fail(1, '10.0.0.1', 2, now);
    l.fail(2, '10.0.0.1', 2, now);
    expect(waitOf(() => l.check(3, '10.0.0.1', 2, now))).not.toBeNull();
    expect(waitOf(() => l.check(3, '10.0.0.2', 2, now))).toBeNull();
    l.fail(3, '10.0.0.2', 2, now);
    l.fail(3, '10.0.0.3', 2, now);
    expect(waitOf(() => l.check(3, '10.0.0.4', 2, now))).not.toBeNull();
  });

  it('is off at 0, and a raised limit lets attempts through again', () => {
    const l = new RedeemLimits();
    for (let i = 0; i < 5; i++) l.fail(1, 'a', 0, i);
    expect(l.size).toBe(0);
    expect(waitOf(() => l.check(1, 'a', 0, 10))).toBeNull();
    l.fail(1, 'a', 1, 10);
    expect(waitOf(() => l.check(1, 'a', 1, 11))).not.toBeNull();
    expect(waitOf(() => l.check(1, 'a', 2, 11))).toBeNull();
  });

  it('forgets subjects whose failures all left the window', () => {
    const l = new RedeemLimits();
    l.fail(1, 'a', 3, 0);
    expect(l.size).toBe(2);
    l.fail(2, 'b', 3, REDEEM_WINDOW_MS + 1);
    expect(l.size).toBe(2);
  });
});
