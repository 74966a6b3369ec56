/**
 * Several nodes' digests merged into one SnapshotSource, so the ordinary renderer (snapshot.ts)
 * draws a cluster exactly as it draws one node. Everything merges by addition: counters and
 * running sums, per-second counters by Unix second, latency histograms bucket by bucket (so a
 * cluster's percentiles are those of all its requests, not a mean of the nodes' percentiles).
 * Two figures are approximations, said where they are made: a second's peak in-flight is the sum
 * of the nodes' peaks, and a channel's health is the most severe status and the latest cooldown
 * any node reports (cooldowns are per node while Redis is away).
 */
import { LAT_BUCKETS, percentile } from './histogram.js';
import type { MetricsDigest, RowDigest, SparseHistogram, SpanDigest } from './digest.js';
import { F_REQ } from './series.js';
import type { SeriesView, SnapshotSource } from './snapshot.js';
import { OTHER } from './state.js';
import type { ChannelHealth } from './types.js';

function addInto(target: Float64Array, values: readonly number[], from = 0): void {
  for (let i = 0; i < target.length && from + i < values.length; i++)
    target[i] = (target[i] ?? 0) + (values[from + i] ?? 0);
}

function addSparse(target: Float64Array, pairs: SparseHistogram, from = 0): void {
  for (let i = from; i + 1 < pairs.length; i += 2) {
    const b = pairs[i] ?? -1;
    if (b >= 0 && b < LAT_BUCKETS) target[b] = (target[b] ?? 0) + (pairs[i + 1] ?? 0);
  }
}

/** One series summed over nodes, keyed by absolute second so nodes a second apart line up. */
export class MergedSeries implements SeriesView {
  inflight = 0;
  readonly total: Float64Array;
  readonly minute: Float64Array;
  readonly win: Float64Array;
  readonly minuteLat = new Float64Array(LAT_BUCKETS);
  readonly minuteTtft = new Float64Array(LAT_BUCKETS);
  /** second -> fields, then the peak in-flight */
  private readonly secs = new Map<number, Float64Array>();
  private readonly secLat = new Map<number, Float64Array>();
  private readonly secTtft = new Map<number, Float64Array>();

  constructor(
    public name: string,
    readonly cur: number,
    private readonly fields: number,
  ) {
    this.total = new Float64Array(fields);
    this.minute = new Float64Array(fields);
    this.win = new Float64Array(fields);
  }

  addSpan(d: SpanDigest): void {
    this.inflight += d.inflight;
    addInto(this.minute, d.minute);
    addInto(this.win, d.win);
    addSparse(this.minuteLat, d.lat);
    addSparse(this.minuteTtft, d.ttft);
  }

  /** A row's requests per second, the last `req.length` seconds up to the node's second `cur`. */
  addRequests(req: readonly number[], cur: number): void {
    const first = cur - req.length + 1;
    for (let i = 0; i < req.length; i++) {
      const v = req[i] ?? 0;
      if (v === 0) continue;
      const slot = this.slot(this.secs, first + i, this.fields + 1);
      slot[F_REQ] = (slot[F_REQ] ?? 0) + v;
    }
  }

  addTotal(total: readonly number[]): void {
    addInto(this.total, total);
  }

  /** `[t, field 0 .. field n-1, peak in-flight]` per second */
  addSeconds(seconds: readonly number[][]): void {
    for (const s of seconds) addInto(this.slot(this.secs, s[0] ?? 0, this.fields + 1), s, 1);
  }

  addHistograms(perSecond: readonly number[][], ttft: boolean): void {
    const map = ttft ? this.secTtft : this.secLat;
    for (const h of perSecond) addSparse(this.slot(map, h[0] ?? 0, LAT_BUCKETS), h, 1);
  }

  at(t: number, f: number): number {
    return this.secs.get(t)?.[f] ?? 0;
  }

  /** the sum of the nodes' peaks in second `t`: an upper bound of the cluster's peak */
  inflightAt(t: number): number {
    return this.at(t, this.fields);
  }

  pctAt(t: number, which: 0 | 1 | 2): number | null {
    if (t >= this.cur) return null;
    const h = (which === 2 ? this.secTtft : this.secLat).get(t);
    return h ? percentile(h, 0, which === 1 ? 0.99 : 0.5) : null;
  }

  sumRecent(f: number, n: number): number {
    let sum = 0;
    for (let t = this.cur - n; t < this.cur; t++) sum += this.at(t, f);
    return sum;
  }

  active(): boolean {
    return this.inflight > 0 || (this.win[F_REQ] ?? 0) > 0;
  }

  private slot(map: Map<number, Float64Array>, t: number, size: number): Float64Array {
    let s = map.get(t);
    if (!s) {
      s = new Float64Array(size);
      map.set(t, s);
    }
    return s;
  }
}

interface MergedRows<K> {
  rows: Map<K, MergedSeries>;
  other: MergedSeries | null;
}

function mergeRows<K>(
  digests: readonly MetricsDigest[],
  pick: (d: MetricsDigest) => RowDigest[],
  key: (id: string) => K,
  cur: number,
): MergedRows<K> {
  const out: MergedRows<K> = { rows: new Map(), other: null };
  for (const d of digests)
    for (const r of pick(d)) {
      let s = r.id === OTHER ? out.other : out.rows.get(key(r.id));
      if (!s) {
        s = new MergedSeries(r.name, cur, r.minute.length);
        if (r.id === OTHER) out.other = s;
        else out.rows.set(key(r.id), s);
      }
      s.addSpan(r);
      s.addRequests(r.req, d.cur);
    }
  return out;
}

const SEVERITY: Record<ChannelHealth['status'], number> = { enabled: 0, auto_disabled: 1, disabled: 2 };

function later(a: string | null, b: string | null): boolean {
  if (a === null) return false;
  return b === null || Date.parse(a) > Date.parse(b);
}

/** Each channel's most severe status and latest cooldown over the nodes, in the first node's order. */
export function mergeHealth(lists: readonly ChannelHealth[][]): ChannelHealth[] {
  const byId = new Map<number, ChannelHealth>();
  for (const list of lists)
    for (const h of list) {
      const seen = byId.get(h.id);
      if (!seen) {
        byId.set(h.id, { ...h });
        continue;
      }
      if (SEVERITY[h.status] > SEVERITY[seen.status]) {
        seen.status = h.status;
        seen.statusReason = h.statusReason;
      }
      if (later(h.cooldownUntil, seen.cooldownUntil)) seen.cooldownUntil = h.cooldownUntil;
    }
  return [...byId.values()];
}

/** The digests (at least one) as one source for buildSnapshot, at second `cur`. */
export function mergeDigests(
  digests: readonly MetricsDigest[],
  cur: number,
): { source: SnapshotSource; health: ChannelHealth[] } {
  const first = digests[0];
  if (!first) throw new Error('mergeDigests needs at least one digest');
  const overall = new MergedSeries(first.overall.name, cur, first.overall.minute.length);
  for (const d of digests) {
    overall.addSpan(d.overall);
    overall.addTotal(d.overall.total);
    overall.addSeconds(d.overall.seconds);
    overall.addHistograms(d.overall.sec_lat, false);
    overall.addHistograms(d.overall.sec_ttft, true);
  }
  const models = mergeRows(
    digests,
    (d) => d.models,
    (id) => id,
    cur,
  );
  const keys = mergeRows(digests, (d) => d.keys, Number, cur);
  const users = mergeRows(digests, (d) => d.users, Number, cur);
  const channels = mergeRows(digests, (d) => d.channels, Number, cur);
  return {
    source: {
      windowS: Math.max(...digests.map((d) => d.window_s)),
      overall,
      models: models.rows,
      keys: keys.rows,
      users: users.rows,
      channels: channels.rows,
      otherModel: models.other,
      otherKey: keys.other,
      otherUser: users.other,
    },
    health: mergeHealth(digests.map((d) => d.health)),
  };
}
