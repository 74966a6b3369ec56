/**
 * A node's metrics in a form that merges exactly (SPEC section 9: `bc top` over a cluster). The
 * JSON snapshot cannot be merged: its percentiles are already computed, and two nodes' p99s say
 * nothing about the p99 of both. A digest keeps what sums instead: the running counters, the
 * per-second counters keyed by Unix second, and the latency histograms as bucket counts (the
 * fixed buckets of histogram.ts are the same on every node), so a cluster's percentiles come
 * from merged buckets. Rows keep their per-second requests of the last minute only (the sparkline).
 * Each clustered node publishes its digest once a second (cluster/metrics-publisher.ts);
 * digest-view.ts merges digests and the ordinary snapshot renderer draws the result.
 */
import { LAT_BUCKETS } from './histogram.js';
import { F_REQ, MINUTE, type Series } from './series.js';
import { OTHER, type MetricsState } from './state.js';
import type { ChannelHealth } from './types.js';

export const DIGEST_VERSION = 1;

/** Bucket counts as pairs: bucket, count, bucket, count... (empty buckets left out). */
export type SparseHistogram = number[];

/** What every series carries: in-flight now and the running sums of the minute and the window. */
export interface SpanDigest {
  name: string;
  inflight: number;
  /** per field of the series (series.ts F_*; the overall adds one per error category) */
  minute: number[];
  win: number[];
  lat: SparseHistogram;
  ttft: SparseHistogram;
}

/** One row of a table (a model, key, user or channel). */
export interface RowDigest extends SpanDigest {
  /** the snapshot's row id: model name, key, user or channel id, or `other` */
  id: string;
  /** requests of the seconds `cur - 60 .. cur`, oldest first */
  req: number[];
}

/** The whole node, with its history over the window. */
export interface OverallDigest extends SpanDigest {
  total: number[];
  /** each second of the window with anything in it: `[t, field 0 .. field n-1, peak in-flight]` */
  seconds: number[][];
  /** each second with latencies: `[t, ...SparseHistogram]` */
  sec_lat: number[][];
  sec_ttft: number[][];
}

export interface MetricsDigest {
  v: typeof DIGEST_VERSION;
  node: string;
  /** the node's clock when it took the digest (ms) and its current, partial second */
  time_ms: number;
  cur: number;
  window_s: number;
  overall: OverallDigest;
  models: RowDigest[];
  keys: RowDigest[];
  users: RowDigest[];
  channels: RowDigest[];
  health: ChannelHealth[];
}

export function sparse(h: ArrayLike<number>): SparseHistogram {
  const out: number[] = [];
  for (let b = 0; b < LAT_BUCKETS; b++) {
    const n = h[b] ?? 0;
    if (n > 0) out.push(b, n);
  }
  return out;
}

function span(s: Series): SpanDigest {
  return {
    name: s.name,
    inflight: s.inflight,
    minute: Array.from(s.minute),
    win: Array.from(s.win),
    lat: sparse(s.minuteLat),
    ttft: sparse(s.minuteTtft),
  };
}

function rowDigest(id: string, s: Series): RowDigest {
  const req = new Array<number>(MINUTE + 1);
  for (let i = 0; i <= MINUTE; i++) req[i] = s.at(s.cur - MINUTE + i, F_REQ);
  return { ...span(s), id, req };
}

function rows<K>(map: ReadonlyMap<K, Series>, other: Series | null): RowDigest[] {
  const out: RowDigest[] = [];
  for (const [id, s] of map) if (s.active()) out.push(rowDigest(String(id), s));
  if (other?.active()) out.push(rowDigest(OTHER, other));
  return out;
}

function overall(o: Series, windowS: number): OverallDigest {
  const seconds: number[][] = [];
  const secLat: number[][] = [];
  const secTtft: number[][] = [];
  for (let t = o.cur - windowS; t <= o.cur; t++) {
    const slot = [t];
    let any = false;
    for (let f = 0; f <= o.fields; f++) {
      const v = f < o.fields ? o.at(t, f) : o.inflightAt(t);
      slot.push(v);
      any ||= v !== 0;
    }
    if (any) seconds.push(slot);
    const lat = o.histogramAt(t, false);
    const ttft = o.histogramAt(t, true);
    if (lat && lat.some((n) => n > 0)) secLat.push([t, ...sparse(lat)]);
    if (ttft && ttft.some((n) => n > 0)) secTtft.push([t, ...sparse(ttft)]);
  }
  return { ...span(o), total: Array.from(o.total), seconds, sec_lat: secLat, sec_ttft: secTtft };
}

/** This node's digest; the state must already be advanced to the current second. */
export function takeDigest(
  state: MetricsState,
  health: ChannelHealth[],
  node: string,
  nowMs: number,
): MetricsDigest {
  return {
    v: DIGEST_VERSION,
    node,
    time_ms: nowMs,
    cur: state.overall.cur,
    window_s: state.windowS,
    overall: overall(state.overall, state.windowS),
    models: rows(state.models, state.otherModel),
    keys: rows(state.keys, state.otherKey),
    users: rows(state.users, state.otherUser),
    channels: rows(state.channels, null),
    health,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A structural check of a digest read back from Redis (another node, maybe another version). */
export function isMetricsDigest(v: unknown): v is MetricsDigest {
  if (!isObject(v) || v.v !== DIGEST_VERSION || typeof v.node !== 'string') return false;
  if (typeof v.cur !== 'number' || typeof v.window_s !== 'number' || !isObject(v.overall)) return false;
  const o = v.overall;
  if (!Array.isArray(o.seconds) || !Array.isArray(o.sec_lat) || !Array.isArray(o.total)) return false;
  return ['models', 'keys', 'users', 'channels', 'health'].every((k) => Array.isArray(v[k]));
}
