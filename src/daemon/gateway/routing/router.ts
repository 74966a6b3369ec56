/**
 * Picks the channel (and the channel's secret) for each attempt: highest priority tier first,
 * smooth weighted round-robin inside a tier (deterministic, not bursty), channels cooling down
 * skipped, never a channel already tried in this request, falling through to lower tiers.
 */
import type { HealthBook } from './health.js';
import type { RouteChannel, RouteSecret, Snapshot } from '../snapshot.js';

/** One attempt's choice: the channel, which of its secrets, and the model name it is asked for. */
export interface Candidate {
  channel: RouteChannel;
  secret: RouteSecret;
  upstreamModel: string;
}

export class Router {
  /** smooth-WRR current weights, keyed `model|priority|channelId` */
  private readonly current = new Map<string, number>();
  /** round-robin cursor over a channel's secrets */
  private readonly secretCursor = new Map<number, number>();

  constructor(private readonly health: HealthBook) {}

  /** Does any enabled channel serve this model for this group (ignoring health)? */
  serves(snap: Snapshot, model: string, group: string): boolean {
    const tiers = snap.tiersByModel.get(model);
    return !!tiers?.some((t) => t.channels.some((c) => c.groups.has(group)));
  }

  /**
   * Milliseconds until the soonest candidate channel for this model and group can take a request
   * (0 when one can now), or undefined when no enabled key of any candidate could. What the
   * "everything is cooling down" answer tells the client to wait.
   */
  soonestMs(snap: Snapshot, model: string, group: string): number | undefined {
    let soonest: number | undefined;
    for (const tier of snap.tiersByModel.get(model) ?? []) {
      for (const c of tier.channels) {
        if (!c.groups.has(group)) continue;
        for (const s of c.secrets) {
          if (s.disabledReason !== null) continue;
          const wait = this.health.waitMs(c.record.id, s.index);
          if (soonest === undefined || wait < soonest) soonest = wait;
        }
      }
    }
    return soonest;
  }

  /**
   * The next channel to try, or undefined when every candidate was tried or is cooling down.
   * `allow` rules channels out by the upstream model they would serve the request as.
   */
  next(
    snap: Snapshot,
    model: string,
    group: string,
    tried: ReadonlySet<number>,
    allow?: (upstreamModel: string) => boolean,
  ): Candidate | undefined {
    const tiers = snap.tiersByModel.get(model);
    if (!tiers) return undefined;
    for (const tier of tiers) {
      const candidates = allow
        ? tier.channels.filter((c) => allow(c.upstreamModel.get(model) ?? model))
        : tier.channels;
      const pick = this.pickInTier(candidates, tier.priority, model, group, tried);
      if (pick) return pick;
    }
    return undefined;
  }

  private pickInTier(
    channels: RouteChannel[],
    priority: number,
    model: string,
    group: string,
    tried: ReadonlySet<number>,
  ): Candidate | undefined {
    const excluded = new Set<number>();
    for (;;) {
      let total = 0;
      let best: RouteChannel | undefined;
      let bestWeight = -Infinity;
      for (const c of channels) {
        const id = c.record.id;
        if (tried.has(id) || excluded.has(id) || !c.groups.has(group) || !this.hasUsableSecret(c)) continue;
        const key = `${model}|${priority}|${id}`;
        const w = (this.current.get(key) ?? 0) + c.record.weight;
        this.current.set(key, w);
        total += c.record.weight;
        if (w > bestWeight) {
          bestWeight = w;
          best = c;
        }
      }
      if (!best) return undefined;
      const bestKey = `${model}|${priority}|${best.record.id}`;
      this.current.set(bestKey, bestWeight - total);
      const secret = this.acquireSecret(best);
      if (secret) return { channel: best, secret, upstreamModel: best.upstreamModel.get(model) ?? model };
      // lost the half-open probe race: try the rest of the tier
      excluded.add(best.record.id);
    }
  }

  private hasUsableSecret(c: RouteChannel): boolean {
    return c.secrets.some((s) => s.disabledReason === null && this.health.isAvailable(c.record.id, s.index));
  }

  private acquireSecret(c: RouteChannel): RouteSecret | undefined {
    const n = c.secrets.length;
    const start = this.secretCursor.get(c.record.id) ?? 0;
    for (let i = 0; i < n; i++) {
      const s = c.secrets[(start + i) % n];
      if (!s || s.disabledReason !== null) continue;
      if (this.health.tryAcquire(c.record.id, s.index)) {
        this.secretCursor.set(c.record.id, (start + i + 1) % n);
        return s;
      }
    }
    return undefined;
  }
}
