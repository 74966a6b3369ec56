/**
 * Per-channel-key health: cooldowns after failures (Retry-After, else exponential 5 s .. 5 min),
 * then a single half-open probe whose outcome decides. State is keyed by channel id and secret
 * index so it survives snapshot rebuilds. Pure bookkeeping with an injected clock.
 *
 * Every routing decision is made here, synchronously, on local state. With several daemons
 * (BC_REDIS) a HealthSync is attached (cluster/shared-health.ts): this book then tells it of
 * failures and recoveries, takes the cluster's record of each key (`mirror`, `clear`), and probes
 * a key whose cooldown is over only while it holds the cluster's probe claim (`grantProbe`):
 * without a claim it asks for one and skips the key meanwhile. Without a sync (one daemon) the
 * code path is the single-process one: the sync is only looked at for keys that failed.
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
  /** this node holds the cluster's probe claim on the key (only with a HealthSync) */
  claimed: boolean;
}

/** What a HealthBook shared by several daemons tells the cluster, and asks of it. Never blocks. */
export interface HealthSync {
  /** this node recorded a retryable failure of the key, cooling it here until `until` */
  failed(channelId: number, index: number, retryAfterMs: number | undefined, until: number): void;
  /** a key with failures on record answered: clear it everywhere */
  recovered(channelId: number, index: number): void;
  /** the key's cooldown is over here but this node holds no probe claim: ask for one */
  wantProbe(channelId: number, index: number): void;
  /** the probe this node claimed ended without a verdict (the client went away) */
  probeReleased(channelId: number, index: number): void;
}

export class HealthBook {
  private readonly keys = new Map<string, KeyHealth>();
  private sync: HealthSync | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** From now on, failures and recoveries go to the cluster, and probes need its claim. */
  attach(sync: HealthSync): void {
    this.sync = sync;
  }

  /** May this key take a request now? Claims the half-open probe slot when the cooldown is over. */
  tryAcquire(channelId: number, index: number): boolean {
    const h = this.keys.get(slot(channelId, index));
    if (!h || h.failures === 0) return true;
    if (h.probing) return false;
    if (this.now() < h.cooldownUntil) return false;
    if (this.sync && !h.claimed) {
      this.sync.wantProbe(channelId, index);
      return false;
    }
    h.probing = true;
    return true;
  }

  /** Would tryAcquire succeed? (no side effect; with a sync, the probe claim may still be missing) */
  isAvailable(channelId: number, index: number): boolean {
    const h = this.keys.get(slot(channelId, index));
    if (!h || h.failures === 0) return true;
    return !h.probing && this.now() >= h.cooldownUntil;
  }

  success(channelId: number, index: number): void {
    if (this.keys.delete(slot(channelId, index))) this.sync?.recovered(channelId, index);
  }

  /** A retryable failure: cool down for Retry-After when given, else exponentially. */
  failure(channelId: number, index: number, retryAfterMs?: number): number {
    const key = slot(channelId, index);
    const h = this.keys.get(key) ?? fresh();
    h.failures += 1;
    h.probing = false;
    h.claimed = false;
    const backoff = Math.min(MAX_COOLDOWN_MS, BASE_COOLDOWN_MS * 2 ** (h.failures - 1));
    const wait =
      retryAfterMs !== undefined && retryAfterMs > 0 ? Math.min(retryAfterMs, MAX_COOLDOWN_MS * 12) : backoff;
    h.cooldownUntil = this.now() + wait;
    this.keys.set(key, h);
    this.sync?.failed(channelId, index, retryAfterMs, h.cooldownUntil);
    return h.cooldownUntil;
  }

  /** The attempt neither succeeded nor failed the channel (e.g. the client went away). */
  release(channelId: number, index: number): void {
    const h = this.keys.get(slot(channelId, index));
    if (!h) return;
    const probed = h.probing && h.claimed;
    h.probing = false;
    if (probed) {
      h.claimed = false;
      this.sync?.probeReleased(channelId, index);
    }
  }

  /**
   * How long until this key may take a request: 0 now, the rest of its cooldown, or (while its
   * half-open probe is out, here or, with a sync, possibly on another node) the time a probe is
   * given before anyone looks again.
   */
  waitMs(channelId: number, index: number): number {
    const h = this.keys.get(slot(channelId, index));
    if (!h || h.failures === 0) return 0;
    if (h.probing) return PROBE_WAIT_MS;
    const left = Math.max(0, h.cooldownUntil - this.now());
    return left === 0 && this.sync && !h.claimed ? PROBE_WAIT_MS : left;
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

  /**
   * The cluster's record of a key: `failures` so far (undefined: keep the count known here) and
   * a cooldown ending at `until` (this book's clock). A probe in flight or a claim held is kept.
   */
  mirror(channelId: number, index: number, failures: number | undefined, until: number): void {
    const key = slot(channelId, index);
    const h = this.keys.get(key) ?? fresh();
    h.failures = Math.max(1, failures ?? h.failures);
    h.cooldownUntil = until;
    this.keys.set(key, h);
  }

  /** The cluster has no failure on record for the key (a success somewhere, or it lapsed). */
  clear(channelId: number, index: number): void {
    this.keys.delete(slot(channelId, index));
  }

  /**
   * This node got the cluster's probe claim on the key: the next request may probe it. False
   * when there is nothing to probe any more (the claim should be given back).
   */
  grantProbe(channelId: number, index: number): boolean {
    const h = this.keys.get(slot(channelId, index));
    if (!h || h.failures === 0 || h.probing) return false;
    h.claimed = true;
    return true;
  }

  /** Gives up a claim no request has used yet; true when one was given up. */
  dropIdleClaim(channelId: number, index: number): boolean {
    const h = this.keys.get(slot(channelId, index));
    if (!h || !h.claimed || h.probing) return false;
    h.claimed = false;
    return true;
  }
}

function fresh(): KeyHealth {
  return { failures: 0, cooldownUntil: 0, probing: false, claimed: false };
}

function slot(channelId: number, index: number): string {
  return `${channelId}:${index}`;
}
