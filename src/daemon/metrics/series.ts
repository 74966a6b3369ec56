/**
 * One dimension's per-second history (the whole gateway, one channel, one model or one key): a
 * ring of preallocated Float64 slots, one per second, plus running sums over the last minute, the
 * window and all time, so that recording is a handful of additions and reading a summary costs
 * nothing per request. The clock only moves forward through advance(); a second that falls out of
 * a span is subtracted from that span's running sum before its slot is reused.
 */
import { LAT_BUCKETS, bucketOf, percentile } from './histogram.js';

export const F_REQ = 0;
export const F_ERR = 1;
export const F_TIN = 2;
export const F_TOUT = 3;
export const F_COST = 4;
/** counted fields every series has; the overall series adds one per error category */
export const BASE_FIELDS = 5;

/** seconds of the "last minute" span (current second included) */
export const MINUTE = 60;

export interface SeriesOptions {
  /** complete seconds kept (>= 60) */
  windowS: number;
  /** counted fields beyond BASE_FIELDS */
  extraFields?: number;
  /** keep latency histograms for the whole window (and per-second percentiles), not just the last minute */
  fullHistory?: boolean;
  /** the current Unix second */
  now: number;
}

/** percentiles cached per completed second of a full-history series */
const P50 = 0;
const P99 = 1;
const T50 = 2;
const PCT_FIELDS = 3;

export class Series {
  name: string;
  inflight = 0;
  /** the second the rings were last advanced to */
  cur: number;
  readonly ring: number;
  readonly fields: number;
  readonly total: Float64Array;
  readonly minute: Float64Array;
  readonly win: Float64Array;
  readonly minuteLat = new Uint32Array(LAT_BUCKETS);
  readonly minuteTtft = new Uint32Array(LAT_BUCKETS);
  private readonly stride: number;
  private readonly slots: Float64Array;
  private readonly histRing: number;
  private readonly lat: Uint32Array;
  private readonly ttft: Uint32Array;
  private readonly pct: Float64Array | null;

  constructor(name: string, opts: SeriesOptions) {
    this.name = name;
    this.cur = opts.now;
    // one more slot than the window so the current, partial second never overwrites the oldest complete one
    this.ring = Math.max(MINUTE, Math.floor(opts.windowS)) + 1;
    this.fields = BASE_FIELDS + (opts.extraFields ?? 0);
    this.stride = this.fields + 1;
    this.slots = new Float64Array(this.ring * this.stride);
    this.total = new Float64Array(this.fields);
    this.minute = new Float64Array(this.fields);
    this.win = new Float64Array(this.fields);
    this.histRing = opts.fullHistory ? this.ring : MINUTE;
    this.lat = new Uint32Array(this.histRing * LAT_BUCKETS);
    this.ttft = new Uint32Array(this.histRing * LAT_BUCKETS);
    this.pct = opts.fullHistory ? new Float64Array(this.ring * PCT_FIELDS).fill(NaN) : null;
  }

  /** Moves the clock to second `s`, retiring the seconds that leave the minute and the window. */
  advance(s: number): void {
    const gap = s - this.cur;
    if (gap <= 0) return;
    this.finalize(this.cur);
    if (gap >= this.ring) this.reset();
    else {
      const minuteGone = gap >= MINUTE;
      if (minuteGone) this.clearMinute();
      for (let t = this.cur + 1; t <= s; t++) this.retire(t, minuteGone);
    }
    this.cur = s;
    this.slots[(s % this.ring) * this.stride + this.fields] = this.inflight;
  }

  private retire(t: number, minuteGone: boolean): void {
    const { slots, stride, fields } = this;
    if (!minuteGone) {
      const leaving = ((t - MINUTE) % this.ring) * stride;
      for (let f = 0; f < fields; f++) this.minute[f] = (this.minute[f] ?? 0) - (slots[leaving + f] ?? 0);
      const h = ((t - MINUTE) % this.histRing) * LAT_BUCKETS;
      for (let b = 0; b < LAT_BUCKETS; b++) {
        this.minuteLat[b] = (this.minuteLat[b] ?? 0) - (this.lat[h + b] ?? 0);
        this.minuteTtft[b] = (this.minuteTtft[b] ?? 0) - (this.ttft[h + b] ?? 0);
      }
    }
    const i = (t % this.ring) * stride;
    for (let f = 0; f < fields; f++) this.win[f] = (this.win[f] ?? 0) - (slots[i + f] ?? 0);
    slots.fill(0, i, i + stride);
    const h = (t % this.histRing) * LAT_BUCKETS;
    this.lat.fill(0, h, h + LAT_BUCKETS);
    this.ttft.fill(0, h, h + LAT_BUCKETS);
    if (this.pct) this.pct.fill(NaN, (t % this.ring) * PCT_FIELDS, (t % this.ring) * PCT_FIELDS + PCT_FIELDS);
  }

  private clearMinute(): void {
    this.minute.fill(0);
    this.minuteLat.fill(0);
    this.minuteTtft.fill(0);
  }

  private reset(): void {
    this.clearMinute();
    this.win.fill(0);
    this.slots.fill(0);
    this.lat.fill(0);
    this.ttft.fill(0);
    this.pct?.fill(NaN);
  }

  /** Caches the percentiles of a second that is now complete (full-history series only). */
  private finalize(t: number): void {
    if (!this.pct) return;
    const h = (t % this.histRing) * LAT_BUCKETS;
    const p = (t % this.ring) * PCT_FIELDS;
    this.pct[p + P50] = percentile(this.lat, h, 0.5) ?? NaN;
    this.pct[p + P99] = percentile(this.lat, h, 0.99) ?? NaN;
    this.pct[p + T50] = percentile(this.ttft, h, 0.5) ?? NaN;
  }

  /** Adds `v` to field `f` of the current second and to every running sum. Call advance() first. */
  add(f: number, v: number): void {
    const i = (this.cur % this.ring) * this.stride + f;
    this.slots[i] = (this.slots[i] ?? 0) + v;
    this.minute[f] = (this.minute[f] ?? 0) + v;
    this.win[f] = (this.win[f] ?? 0) + v;
    this.total[f] = (this.total[f] ?? 0) + v;
  }

  /** Counts one latency (and time-to-first-token, when known) in the current second. */
  observe(latencyMs: number, ttftMs: number | null): void {
    const h = (this.cur % this.histRing) * LAT_BUCKETS;
    const b = bucketOf(latencyMs);
    this.lat[h + b] = (this.lat[h + b] ?? 0) + 1;
    this.minuteLat[b] = (this.minuteLat[b] ?? 0) + 1;
    if (ttftMs === null) return;
    const tb = bucketOf(ttftMs);
    this.ttft[h + tb] = (this.ttft[h + tb] ?? 0) + 1;
    this.minuteTtft[tb] = (this.minuteTtft[tb] ?? 0) + 1;
  }

  started(): void {
    this.inflight++;
    const i = (this.cur % this.ring) * this.stride + this.fields;
    if ((this.slots[i] ?? 0) < this.inflight) this.slots[i] = this.inflight;
  }

  /** Clamped at zero so a finish without a start cannot drive the gauge negative. */
  ended(): void {
    if (this.inflight > 0) this.inflight--;
  }

  /** Field `f` of second `t`, or 0 when `t` is outside the ring. */
  at(t: number, f: number): number {
    if (t > this.cur || t <= this.cur - this.ring) return 0;
    return this.slots[(t % this.ring) * this.stride + f] ?? 0;
  }

  /** Highest in-flight count during second `t`. */
  inflightAt(t: number): number {
    return this.at(t, this.fields);
  }

  /** Cached percentile (0 = p50, 1 = p99, 2 = TTFT p50) of a complete second, null when it had no requests. */
  pctAt(t: number, which: 0 | 1 | 2): number | null {
    if (!this.pct || t >= this.cur || t <= this.cur - this.ring) return null;
    const v = this.pct[(t % this.ring) * PCT_FIELDS + which] ?? NaN;
    return Number.isNaN(v) ? null : v;
  }

  /**
   * The latency (or TTFT) bucket counts of second `t`, null outside the kept history: what a
   * cluster merges bucket-wise (metrics/digest.ts). A view into the ring, valid until advance().
   */
  histogramAt(t: number, ttft: boolean): Uint32Array | null {
    if (t > this.cur || t <= this.cur - this.histRing) return null;
    const h = (t % this.histRing) * LAT_BUCKETS;
    return (ttft ? this.ttft : this.lat).subarray(h, h + LAT_BUCKETS);
  }

  /** Sum of field `f` over the `n` complete seconds before the current one. */
  sumRecent(f: number, n: number): number {
    let sum = 0;
    for (let t = this.cur - n; t < this.cur; t++) sum += this.at(t, f);
    return sum;
  }

  /** Whether anything happened in the window (or is in flight): idle rows are left out of snapshots. */
  active(): boolean {
    return this.inflight > 0 || (this.win[F_REQ] ?? 0) > 0;
  }
}
