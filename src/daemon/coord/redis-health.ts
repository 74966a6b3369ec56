/**
 * Channel-key cooldowns shared by every daemon (SCALEOUT.md 2(c)). HealthBook stays each node's
 * per-request decision-maker (no Redis round trip per routing pick); this is the shared record it
 * mirrors: per channel key a HASH {failures, until} whose end only ever moves later (max), and a
 * half-open probe claim taken with SET NX PX so exactly one node in the cluster probes a key whose
 * cooldown is over. Same backoff as HealthBook.failure: Retry-After when given, else 5 s x 2^(n-1)
 * capped at 5 minutes.
 */
import type { AcquireState, SharedCooldowns } from './coordinator.js';
import { CoordKeys } from './keys.js';
import type { CoordClient } from './redis-client.js';
import { COOL_ACQUIRE, COOL_FAILURE, DELETE_IF_OWNER } from './scripts.js';

const BASE_COOLDOWN_MS = 5_000;
const MAX_COOLDOWN_MS = 300_000;
/** HealthBook's cap on a Retry-After (an hour) */
const MAX_RETRY_AFTER_MS = MAX_COOLDOWN_MS * 12;
/** how long a half-open probe may run before another node may claim the key */
export const PROBE_CLAIM_MS = 30_000;
/** how long a failure count outlives its cooldown (it drives the backoff until a success) */
const KEEP_MS = 15 * 60_000;

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
    const r = (await this.client.run(
      COOL_FAILURE,
      [this.keys.cooldown(channelId, index), this.keys.probe(channelId, index)],
      [ra, BASE_COOLDOWN_MS, MAX_COOLDOWN_MS, MAX_RETRY_AFTER_MS, KEEP_MS],
    )) as (string | number)[];
    return { failures: Number(r[0]), until: Number(r[1]) };
  }

  async success(channelId: number, index: number): Promise<void> {
    const keys = [this.keys.cooldown(channelId, index), this.keys.probe(channelId, index)];
    await this.client.call('cooldownSuccess', (r) => r.del(...keys));
  }

  async tryAcquire(channelId: number, index: number): Promise<{ state: AcquireState; until: number }> {
    const r = (await this.client.run(
      COOL_ACQUIRE,
      [this.keys.cooldown(channelId, index), this.keys.probe(channelId, index)],
      [this.node, this.probeClaimMs],
    )) as string[];
    return { state: r[0] as AcquireState, until: Number(r[1]) };
  }

  async releaseProbe(channelId: number, index: number): Promise<void> {
    await this.client.run(DELETE_IF_OWNER, [this.keys.probe(channelId, index)], [this.node]);
  }

  /**
   * The cooldown ends on record for some keys of a channel (the once-a-second backstop read a
   * node mirrors into its HealthBook): index -> {failures, until}; keys with no record left out.
   */
  async read(
    channelId: number,
    indexes: number[],
  ): Promise<Map<number, { failures: number; until: number }>> {
    const out = new Map<number, { failures: number; until: number }>();
    if (indexes.length === 0) return out;
    const rows = await this.client.call('cooldownRead', async (r) => {
      const p = r.pipeline();
      for (const i of indexes) p.hmget(this.keys.cooldown(channelId, i), 'failures', 'until');
      return (await p.exec()) ?? [];
    });
    rows.forEach(([err, v], n) => {
      if (err) throw err;
      const [failures, until] = v as (string | null)[];
      if (failures !== null && failures !== undefined)
        out.set(indexes[n]!, { failures: Number(failures), until: Number(until ?? 0) });
    });
    return out;
  }
}
