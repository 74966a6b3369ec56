/**
 * The brake on guessing redemption codes (TENANTS.md 5.4): failed redemptions are counted per user
 * and per client address in a sliding window of 10 minutes; once either has `limit` failures in the
 * window, every further attempt (a good code too) is refused 429 with Retry-After until the oldest
 * of them leaves the window. No sleep on the request path. A limit of 0 turns the brake off.
 *
 * RedeemLimits is the window in memory, this process's failures only (a restart forgets them).
 * RedeemBrake is what the route uses: that window, plus, for a daemon with the Redis coordinator
 * (BC_REDIS), the window every node shares (coord/redeem-window.ts), so N nodes do not give an
 * attacker N times the attempts. Redis away: the shared window is skipped, never the brake: this
 * node's own window still applies, and a Redis error never fails a redemption.
 *
 * Memory stays bounded: each subject keeps at most `limit` timestamps (the newest), subjects whose
 * failures all left the window are swept, and past MAX_SUBJECTS the oldest subjects are dropped.
 */
import { BcError } from '../../shared/errors.js';
import type { SharedRedeemWindow } from '../coord/redeem-window.js';

export const REDEEM_WINDOW_MS = 10 * 60_000;
const MAX_SUBJECTS = 100_000;

export class RedeemLimits {
  /** subject (`user:<id>`, `ip:<address>`) -> failure times, oldest first */
  private readonly failures = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(private readonly windowMs = REDEEM_WINDOW_MS) {}

  /** Throws 429 RATE_LIMITED when the user or the address has `limit` failures in the window. */
  check(userId: number, ip: string, limit: number, now = Date.now()): void {
    if (limit <= 0) return;
    let waitMs = 0;
    for (const subject of subjects(userId, ip)) {
      const times = this.recent(subject, now);
      if (times.length < limit) continue;
      // the attempt is allowed again once enough failures have left the window
      const freed = times[times.length - limit] ?? now;
      waitMs = Math.max(waitMs, freed + this.windowMs - now);
    }
    if (waitMs > 0) throw refused(waitMs);
  }

  /** Counts one failed redemption against the user and the address. */
  fail(userId: number, ip: string, limit: number, now = Date.now()): void {
    if (limit <= 0) return;
    this.sweep(now);
    for (const subject of subjects(userId, ip)) {
      const times = this.recent(subject, now);
      times.push(now);
      // only the newest `limit` matter to check()
      if (times.length > limit) times.splice(0, times.length - limit);
      // re-inserted at the end: Map order is then oldest activity first, for the size cap
      this.failures.delete(subject);
      this.failures.set(subject, times);
    }
    while (this.failures.size > MAX_SUBJECTS) {
      const oldest = this.failures.keys().next();
      if (oldest.done === true) break;
      this.failures.delete(oldest.value);
    }
  }

  /** Subjects counted now, for tests and monitors. */
  get size(): number {
    return this.failures.size;
  }

  private recent(subject: string, now: number): number[] {
    const times = this.failures.get(subject) ?? [];
    const from = now - this.windowMs;
    let drop = 0;
    while (drop < times.length && (times[drop] ?? 0) <= from) drop++;
    if (drop > 0) times.splice(0, drop);
    return times;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [subject, times] of this.failures) {
      if ((times[times.length - 1] ?? 0) <= now - this.windowMs) this.failures.delete(subject);
    }
  }
}

/** This node's window, and the shared one while the daemon has one (null: Redis not configured). */
export class RedeemBrake {
  constructor(
    private readonly local: RedeemLimits,
    private readonly shared: () => SharedRedeemWindow | null,
  ) {}

  /** Throws 429 RATE_LIMITED when the user or the address has `limit` failures in a window. */
  async check(userId: number, ip: string, limit: number): Promise<void> {
    this.local.check(userId, ip, limit);
    const shared = this.shared();
    if (shared === null || limit <= 0) return;
    let waitMs: number;
    try {
      waitMs = await shared.check(userId, ip, limit);
    } catch {
      // Redis away: this node's window above is the brake until it is back
      return;
    }
    if (waitMs > 0) throw refused(waitMs);
  }

  /** Counts one failed redemption in both windows (the shared one if Redis answers). */
  async fail(userId: number, ip: string, limit: number): Promise<void> {
    this.local.fail(userId, ip, limit);
    const shared = this.shared();
    if (shared === null || limit <= 0) return;
    await shared.fail(userId, ip, limit).catch(() => undefined);
  }
}

function refused(waitMs: number): BcError {
  const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
  return new BcError('RATE_LIMITED', `too many failed redemptions: try again in ${retryAfterS} s`, {
    retryAfterS,
  });
}

function subjects(userId: number, ip: string): [string, string] {
  return [`user:${userId}`, `ip:${ip}`];
}
