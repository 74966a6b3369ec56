/**
 * Per-channel-key health: cooldowns after failures (Retry-After, else exponential 5 s .. 5 min),
 * then a single half-open probe whose outcome decides. State is keyed by channel id and secret
 * index so it survives snapshot rebuilds. Pure bookkeeping with an injected clock.
 */

const BASE_COOLDOWN_MS = 5_000;
const MAX_COOLDOWN_MS = 300_000;
/** what a client is told to wait while a half-open probe decides a key (its outcome is unknown) */
const PROBE_WAIT_MS = 1_000;

interface KeyHealth {
  failures: number;
  cooldownUntil: number;
  /** a half-open probe is in flight: others skip this key until it settles */
  probing: boolean;
}

export class HealthBook {
  private readonly keys = new Map<string, KeyHealth>();

  constructor(private readonly now: () => number = Date.now) {}

  /** May this key take a request now? Claims the half-open probe slot when the cooldown is over. */
  tryAcquire(channelId: number, index: number): boolean {
    const h = this.keys.get(slot(channelId, index));
    if (!h || h.failures === 0) return true;
    if (h.probing) return false;
    if (this.now() < h.cooldownUntil) return false;
    h.probing = true;
    return true;
  }

  /** Would tryAcquire succeed? (no side effect) */
  isAvailable(channelId: number, index: number): boolean {
    const h = this.keys.get(slot(channelId, index));
    if (!h || h.failures === 0) return true;
    return !h.probing && this.now() >= h.cooldownUntil;
  }

  success(channelId: number, index: number): void {
    this.keys.delete(slot(channelId, index));
  }

  /** A retryable failure: cool down for Retry-After when given, else exponentially. */
  failure(channelId: number, index: number, retryAfterMs?: number): number {
    const key = slot(channelId, index);
    const h = this.keys.get(key) ?? { failures: 0, cooldownUntil: 0, probing: false };
    h.failures += 1;
    h.probing = false;
    const backoff = Math.min(MAX_COOLDOWN_MS, BASE_COOLDOWN_MS * 2 ** (h.failures - 1));
    const wait =
      retryAfterMs !== undefined && retryAfterMs > 0 ? Math.min(retryAfterMs, MAX_COOLDOWN_MS * 12) : backoff;
    h.cooldownUntil = this.now() + wait;
    this.keys.set(key, h);
    return h.cooldownUntil;
  }

  /** The attempt neither succeeded nor failed the channel (e.g. the client went away). */
  release(channelId: number, index: number): void {
    const h = this.keys.get(slot(channelId, index));
    if (h) h.probing = false;
  }

  /**
   * How long until this key may take a request: 0 now, the rest of its cooldown, or (while its
   * half-open probe is out) the time a probe is given before anyone looks again.
   */
  waitMs(channelId: number, index: number): number {
    const h = this.keys.get(slot(channelId, index));
    if (!h || h.failures === 0) return 0;
    if (h.probing) return PROBE_WAIT_MS;
    return Math.max(0, h.cooldownUntil - this.now());
  }

  /** The latest cooldown end among the given keys still cooling, or null. */
  cooldownUntil(channelId: number, indexes: number[]): number | null {
    let until: number | null = null;
    const t = this.now();
    for (const i of indexes) {
      const h = this.keys.get(slot(channelId, i));
      if (h && h.failures > 0 && h.cooldownUntil > t) until = Math.max(until ?? 0, h.cooldownUntil);
    }
    return until;
  }

  forgetChannel(channelId: number): void {
    for (const k of this.keys.keys()) if (k.startsWith(`${channelId}:`)) this.keys.delete(k);
  }
}

function slot(channelId: number, index: number): string {
  return `${channelId}:${index}`;
}
