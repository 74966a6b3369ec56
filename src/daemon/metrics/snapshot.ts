/**
 * Turns the in-memory series into the JSON snapshot the control socket serves (once on request,
 * once a second on the stream). This runs once per second however many monitors are attached, so
 * it reads the running sums and cached per-second percentiles rather than rescanning the rings.
 * It reads them through SeriesView, which this node's Series satisfies and so does a cluster's
 * merge of several nodes' digests (digest-view.ts): one renderer for a node and for a cluster.
 */
import {
  METRICS_SNAPSHOT_VERSION,
  type ChannelMetricsRow,
  type MetricsCounts,
  type MetricsRow,
  type MetricsSeries,
  type MetricsSnapshot,
  type MetricsStats,
  type MetricsSummary,
} from '../../shared/metrics-types.js';
import type { ChannelHealth } from './types.js';
import { percentile } from './histogram.js';
import { BASE_FIELDS, F_COST, F_ERR, F_REQ, F_TIN, F_TOUT, MINUTE } from './series.js';
import { ERROR_CATEGORIES, OTHER } from './state.js';

/** What the snapshot reads of one series (Series has all of it; see series.ts for meanings). */
export interface SeriesView {
  name: string;
  readonly inflight: number;
  /** the current (partial) second */
  readonly cur: number;
  readonly total: ArrayLike<number>;
  readonly minute: ArrayLike<number>;
  readonly win: ArrayLike<number>;
  readonly minuteLat: ArrayLike<number>;
  readonly minuteTtft: ArrayLike<number>;
  at(t: number, f: number): number;
  inflightAt(t: number): number;
  pctAt(t: number, which: 0 | 1 | 2): number | null;
  sumRecent(f: number, n: number): number;
  active(): boolean;
}

/** The series a snapshot is made of, already advanced to the current second. */
export interface SnapshotSource {
  readonly windowS: number;
  readonly overall: SeriesView;
  readonly models: ReadonlyMap<string, SeriesView>;
  readonly keys: ReadonlyMap<number, SeriesView>;
  readonly users: ReadonlyMap<number, SeriesView>;
  readonly channels: ReadonlyMap<number, SeriesView>;
  readonly otherModel: SeriesView | null;
  readonly otherKey: SeriesView | null;
  readonly otherUser: SeriesView | null;
}

/** seconds the header's rates are averaged over */
const RATE_SPAN = 5;

function counts(sums: ArrayLike<number>): MetricsCounts {
  return {
    requests: sums[F_REQ] ?? 0,
    errors: sums[F_ERR] ?? 0,
    input_tokens: sums[F_TIN] ?? 0,
    output_tokens: sums[F_TOUT] ?? 0,
    cost: sums[F_COST] ?? 0,
  };
}

function minuteStats(s: SeriesView): MetricsStats {
  return {
    ...counts(s.minute),
    p50_ms: percentile(s.minuteLat, 0, 0.5),
    p99_ms: percentile(s.minuteLat, 0, 0.99),
    ttft_p50_ms: percentile(s.minuteTtft, 0, 0.5),
    ttft_p99_ms: percentile(s.minuteTtft, 0, 0.99),
  };
}

function spark(s: SeriesView): number[] {
  const out = new Array<number>(MINUTE);
  for (let i = 0; i < MINUTE; i++) out[i] = s.at(s.cur - MINUTE + i, F_REQ);
  return out;
}

function row(id: string, s: SeriesView): MetricsRow {
  return {
    id,
    name: s.name,
    inflight: s.inflight,
    last_minute: minuteStats(s),
    window: counts(s.win),
    spark: spark(s),
  };
}

function summary(o: SeriesView): MetricsSummary {
  const m = o.minute;
  const requests = m[F_REQ] ?? 0;
  return {
    rps: o.sumRecent(F_REQ, RATE_SPAN) / RATE_SPAN,
    tokens_in_per_s: o.sumRecent(F_TIN, RATE_SPAN) / RATE_SPAN,
    tokens_out_per_s: o.sumRecent(F_TOUT, RATE_SPAN) / RATE_SPAN,
    error_rate: requests > 0 ? (m[F_ERR] ?? 0) / requests : 0,
    p50_ms: percentile(o.minuteLat, 0, 0.5),
    p99_ms: percentile(o.minuteLat, 0, 0.99),
    ttft_p50_ms: percentile(o.minuteTtft, 0, 0.5),
    ttft_p99_ms: percentile(o.minuteTtft, 0, 0.99),
    inflight: o.inflight,
    spend_per_min: m[F_COST] ?? 0,
  };
}

function series(o: SeriesView, windowS: number): MetricsSeries {
  const first = o.cur - windowS;
  const num = (f: number): number[] => {
    const out = new Array<number>(windowS);
    for (let i = 0; i < windowS; i++) out[i] = o.at(first + i, f);
    return out;
  };
  const pct = (which: 0 | 1 | 2): (number | null)[] => {
    const out = new Array<number | null>(windowS);
    for (let i = 0; i < windowS; i++) out[i] = o.pctAt(first + i, which);
    return out;
  };
  const inflight = new Array<number>(windowS);
  for (let i = 0; i < windowS; i++) inflight[i] = o.inflightAt(first + i);
  return {
    requests: num(F_REQ),
    errors: num(F_ERR),
    input_tokens: num(F_TIN),
    output_tokens: num(F_TOUT),
    cost: num(F_COST),
    p50_ms: pct(0),
    p99_ms: pct(1),
    ttft_p50_ms: pct(2),
    inflight,
  };
}

function cooldownSeconds(until: string | null, nowMs: number): number {
  if (until === null) return 0;
  const t = Date.parse(until);
  return Number.isFinite(t) && t > nowMs ? Math.ceil((t - nowMs) / 1000) : 0;
}

function channelRows(state: SnapshotSource, health: ChannelHealth[], nowMs: number): ChannelMetricsRow[] {
  const seen = new Set<number>();
  const rows: ChannelMetricsRow[] = [];
  for (const h of health) {
    seen.add(h.id);
    const s = state.channels.get(h.id);
    if (s) s.name = h.name;
    const base = s ? row(String(h.id), s) : emptyRow(String(h.id), h.name);
    rows.push({
      ...base,
      type: h.type,
      status: h.status,
      status_reason: h.statusReason,
      cooldown_until: h.cooldownUntil,
      cooldown_s: cooldownSeconds(h.cooldownUntil, nowMs),
    });
  }
  // a channel removed while its requests are still in the window keeps its row until they age out
  for (const [id, s] of state.channels) {
    if (seen.has(id) || !s.active()) continue;
    rows.push({
      ...row(String(id), s),
      type: 'unknown',
      status: 'disabled',
      status_reason: 'removed',
      cooldown_until: null,
      cooldown_s: 0,
    });
  }
  return rows;
}

function emptyRow(id: string, name: string): MetricsRow {
  const zero: MetricsCounts = { requests: 0, errors: 0, input_tokens: 0, output_tokens: 0, cost: 0 };
  return {
    id,
    name,
    inflight: 0,
    last_minute: { ...zero, p50_ms: null, p99_ms: null, ttft_p50_ms: null, ttft_p99_ms: null },
    window: zero,
    spark: new Array<number>(MINUTE).fill(0),
  };
}

function byRecentTraffic(a: MetricsRow, b: MetricsRow): number {
  return b.last_minute.requests - a.last_minute.requests || a.name.localeCompare(b.name);
}

export function buildSnapshot(
  state: SnapshotSource,
  health: ChannelHealth[],
  nowMs: number,
): MetricsSnapshot {
  const o = state.overall;
  const models: MetricsRow[] = [];
  for (const [name, s] of state.models) if (s.active()) models.push(row(name, s));
  if (state.otherModel?.active()) models.push(row(OTHER, state.otherModel));
  const keys: MetricsRow[] = [];
  for (const [id, s] of state.keys) if (s.active()) keys.push(row(String(id), s));
  if (state.otherKey?.active()) keys.push(row(OTHER, state.otherKey));
  const users: MetricsRow[] = [];
  for (const [id, s] of state.users) if (s.active()) users.push(row(String(id), s));
  if (state.otherUser?.active()) users.push(row(OTHER, state.otherUser));
  return {
    version: METRICS_SNAPSHOT_VERSION,
    time: new Date(nowMs).toISOString(),
    end_s: o.cur - 1,
    window_s: state.windowS,
    summary: summary(o),
    series: series(o, state.windowS),
    errors_by_category: ERROR_CATEGORIES.map((category, i) => ({
      category,
      last_minute: o.minute[BASE_FIELDS + i] ?? 0,
      window: o.win[BASE_FIELDS + i] ?? 0,
    })).filter((e) => e.window > 0 || e.last_minute > 0),
    totals: counts(o.total),
    channels: channelRows(state, health, nowMs),
    models: models.sort(byRecentTraffic),
    keys: keys.sort(byRecentTraffic),
    users: users.sort(byRecentTraffic),
  };
}
