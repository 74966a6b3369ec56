/**
 * Channel-key cooldowns shared by every daemon (SCALEOUT.md 2(c)). HealthBook stays each node's
 * per-request decision-maker (no Redis round trip per routing pick); this is the shared record it
 * mirrors: per channel key a HASH {failures, until} whose end only ever moves later (max), and a
 * half-open probe claim taken with SET NX PX so exactly one node in the cluster probes a key whose
 * cooldown is over. Same backoff as HealthBook.failure: Retry-After when given, else 5 s x 2^(n-1)
 * capped at 5 minutes. An index of the keys on record lets a node read them all in one call.
 */
import type { AcquireState, SharedCooldowns } from './coordinator.js';
import { CoordKeys } from './keys.js';
import type { CoordClient } from './redis-client.js';
import { COOL_ACQUIRE, COOL_FAILURE, COOL_READ, COOL_SUCCESS, DELETE_IF_OWNER } from './cooldown-scripts.js';

const BASE_COOLDOWN_MS = 5_000;
const MAX_COOLDOWN_MS = 300_000;
/** HealthBook's cap on a Retry-After (an hour) */
const MAX_RETRY_AFTER_MS = MAX_COOLDOWN_MS * 12;
/** how long a half-open probe may run before another node may claim the key */
export const PROBE_CLAIM_MS = 30_000;
/** how long a failure count outlives its cooldown (it drives the backoff until a success) */
const KEEP_MS = 15 * 60_000;

/** One channel key's record, as read by every node (times on the Redis clock). */
export interface CooldownRecord {
  channelId: number;
  index: number;
  failures: number;
  until: number;
}

export class RedisCooldowns implements SharedCooldowns {
  readonly keys: CoordKeys;

  constructor(
    private readonly client: CoordClient,
    /** this node's name, the owner of the probe claims it takes */
    private readonly node: string,
    private readonly probeClaimMs = PROBE_CLAIM_MS,
  ) {
    this.keys = new CoordKeys(client.prefix);
  }

  async failure(
    channelId: number,
    index: number,
    retryAfterMs?: number,
  ): Promise<{ failures: number; until: number }> {
    const ra = retryAfterMs !== undefined && retryAfterMs > 0 ? Math.round(retryAfterMs) : 0;
    const r = (await this.client.run(COOL_FAILURE, this.recordKeys(channelId, index), [
      ra,
      BASE_COOLDOWN_MS,
      MAX_COOLDOWN_MS,
      MAX_RETRY_AFTER_MS,
      KEEP_MS,
      `${channelId}:${index}`,
    ])) as (string | number)[];
    return { failures: Number(r[0]), until: Number(r[1]) };
  }

  async success(channelId: number, index: number): Promise<void> {
    await this.client.run(COOL_SUCCESS, this.recordKeys(channelId, index), [`${channelId}:${index}`]);
  }

  async tryAcquire(channelId: number, index: number): Promise<{ state: AcquireState; until: number }> {
    const r = (await this.client.run(
      COOL_ACQUIRE,
      [this.keys.cooldown(channelId, index), this.keys.probe(channelId, index)],
      [this.node, this.probeClaimMs],
    )) as string[];
    return { state: r[0] as AcquireState, until: Number(r[1]) };
  }

  /**
   * Is Redis reachable as far as this node knows (connected, breaker closed)? A single call that
   * failed on a reachable Redis (a timeout) is not a reason to decide without the cluster.
   */
  reachable(): boolean {
    return this.client.redis.status === 'ready' && !this.client.open;
  }

  async releaseProbe(channelId: number, index: number): Promise<void> {
    await this.client.run(DELETE_IF_OWNER, [this.keys.probe(channelId, index)], [this.node]);
  }

  /**
   * Every channel key with a failure on record, and Redis's clock at the read (a node's periodic
   * mirror into its HealthBook): one script call however many channels there are.
   */
  async readAll(): Promise<{ now: number; records: CooldownRecord[] }> {
    const r = (await this.client.run(COOL_READ, [this.keys.cooldownIndex], [this.client.prefix])) as (
      string | number
    )[];
    const records: CooldownRecord[] = [];
    for (let i = 1; i + 2 < r.length; i += 3) {
      const [channelId, index] = String(r[i]).split(':').map(Number) as [number, number];
      records.push({
        channelId,
        index,
        failures: Number(r[i + 1]),
        until: Number(r[i + 2]),
      });
    }
    return { now: Number(r[0]), records };
  }

  /** KEYS of the failure and success scripts: the record, the probe claim and the index */
  private recordKeys(channelId: number, index: number): string[] {
    return [this.keys.cooldown(channelId, index), this.keys.probe(channelId, index), this.keys.cooldownIndex];
  }
}
