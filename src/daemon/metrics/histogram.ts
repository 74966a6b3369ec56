/**
 * Fixed log-scale buckets for latency percentiles. Every second of every series keeps a count per
 * bucket instead of a list of samples, so recording a request is one increment and a percentile
 * over any span is a sum of counts: no per-request memory, and a bounded error (each bucket spans
 * a factor of 1.25, and the reported value is the bucket's geometric middle, so within about 12%).
 */

const RATIO = 1.25;
const LOG_RATIO = Math.log(RATIO);

/** Bucket 0 holds < 1 ms; bucket i >= 1 holds [1.25^(i-1), 1.25^i) ms; the last is open-ended (~10 min and up). */
export const LAT_BUCKETS = 62;

export function bucketOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  const i = 1 + Math.floor(Math.log(ms) / LOG_RATIO);
  return i < LAT_BUCKETS ? i : LAT_BUCKETS - 1;
}

/** The value a bucket stands for when reporting a percentile (ms). */
export function bucketValue(i: number): number {
  if (i <= 0) return 0.5;
  return Math.pow(RATIO, i - 0.5);
}

/**
 * The q-quantile (0..1) of the counts in `counts[offset .. offset + LAT_BUCKETS)`, in ms rounded to
 * 0.1, or null when the span is empty. Nearest-rank: the bucket holding the ceil(q * n)-th sample.
 */
export function percentile(counts: ArrayLike<number>, offset: number, q: number): number | null {
  let n = 0;
  for (let i = 0; i < LAT_BUCKETS; i++) n += counts[offset + i] ?? 0;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (let i = 0; i < LAT_BUCKETS; i++) {
    seen += counts[offset + i] ?? 0;
    if (seen >= rank) return Math.round(bucketValue(i) * 10) / 10;
  }
  return Math.round(bucketValue(LAT_BUCKETS - 1) * 10) / 10;
}
