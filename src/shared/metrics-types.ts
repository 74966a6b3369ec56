/**
 * The JSON shape of one live-metrics snapshot, as the daemon sends it on the control socket
 * (`GET /v1/metrics/snapshot`, and one per line of `GET /v1/metrics/stream`) and as `bc top`,
 * `bc ui` and `bc top --once --json` read it. Field names follow SPEC section 12: snake_case,
 * money in integer micro-USD, durations in ms. The daemon builds it (daemon/metrics/snapshot.ts);
 * the TUI checks it with isMetricsSnapshot before trusting it, because it crosses a process boundary.
 */

export const METRICS_SNAPSHOT_VERSION = 1;

/** Counters over a span of seconds. */
export interface MetricsCounts {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  /** micro-USD (unpriced requests add nothing) */
  cost: number;
}

/** Counters plus latency and time-to-first-token percentiles (ms, null when no sample). */
export interface MetricsStats extends MetricsCounts {
  p50_ms: number | null;
  p99_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p99_ms: number | null;
}

/** The header line of `bc top`. */
export interface MetricsSummary {
  /** requests per second, mean of the last 5 complete seconds */
  rps: number;
  tokens_in_per_s: number;
  tokens_out_per_s: number;
  /** errors / requests over the last 60 s, 0..1 */
  error_rate: number;
  /** latency percentiles over the last 60 s */
  p50_ms: number | null;
  p99_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p99_ms: number | null;
  inflight: number;
  /** micro-USD spent in the last 60 s */
  spend_per_min: number;
}

/**
 * Per-second series, oldest first; the last element is the last complete second (`end_s`), so
 * element i is second `end_s - (length - 1) + i`. Percentiles are null for seconds without requests.
 */
export interface MetricsSeries {
  requests: number[];
  errors: number[];
  input_tokens: number[];
  output_tokens: number[];
  /** micro-USD */
  cost: number[];
  p50_ms: (number | null)[];
  p99_ms: (number | null)[];
  ttft_p50_ms: (number | null)[];
  /** highest in-flight count seen during the second */
  inflight: number[];
}

/** One row of the tables by model, by key, by user and by channel. */
export interface MetricsRow {
  /** stable identity: channel, key or user id as a string, the model name, or `other` */
  id: string;
  name: string;
  inflight: number;
  /** the last 60 s, current second included; `last_minute.requests` is the row's RPM */
  last_minute: MetricsStats;
  /** the whole window (`window_s`) */
  window: MetricsCounts;
  /** requests per second over the last 60 complete seconds, oldest first */
  spark: number[];
}

export interface ChannelMetricsRow extends MetricsRow {
  type: string;
  status: 'enabled' | 'disabled' | 'auto_disabled';
  status_reason: string | null;
  cooldown_until: string | null;
  /** whole seconds of cooldown left, 0 when none */
  cooldown_s: number;
}

/**
 * Which nodes a clustered daemon's snapshot covers (SPEC section 9); a daemon that is not in a
 * cluster sends no scope. In a cluster view, a channel's health is the most severe status and the
 * latest cooldown any node reports, and a second's in-flight peak is the sum of the nodes' peaks.
 */
export interface MetricsScope {
  /** the node shown, or null for the whole cluster */
  node: string | null;
  /** the nodes whose numbers are in the snapshot */
  nodes: string[];
  /** the node whose control socket answered */
  answered_by: string;
  /** set when the whole cluster was asked for but Redis could not be read: this node's numbers only */
  cluster_unavailable?: string;
}

export interface MetricsSnapshot {
  version: typeof METRICS_SNAPSHOT_VERSION;
  /** ISO time the snapshot was taken */
  time: string;
  /** Unix second of the last element of every series */
  end_s: number;
  /** seconds kept in memory (900 = 15 minutes) */
  window_s: number;
  summary: MetricsSummary;
  series: MetricsSeries;
  /** error counts by BcError category over the last minute and the window */
  errors_by_category: { category: string; last_minute: number; window: number }[];
  /** since the daemon started */
  totals: MetricsCounts;
  channels: ChannelMetricsRow[];
  models: MetricsRow[];
  keys: MetricsRow[];
  /**
   * by the key's user (tenants); requests of operator keys count toward no user. A daemon older
   * than tenants sends none, so readers take a missing table as empty.
   */
  users: MetricsRow[];
  /** clustered daemons only: whose numbers these are */
  scope?: MetricsScope;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A cheap structural check of what came over the socket: enough to render without crashing. */
export function isMetricsSnapshot(v: unknown): v is MetricsSnapshot {
  if (!isObject(v) || v.version !== METRICS_SNAPSHOT_VERSION) return false;
  if (typeof v.end_s !== 'number' || typeof v.window_s !== 'number') return false;
  const { summary, series } = v;
  if (!isObject(summary) || typeof summary.rps !== 'number') return false;
  if (!isObject(series) || !Array.isArray(series.requests) || !Array.isArray(series.p50_ms)) return false;
  return Array.isArray(v.channels) && Array.isArray(v.models) && Array.isArray(v.keys) && isObject(v.totals);
}
