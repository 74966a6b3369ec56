// Small statistics helpers shared by the load clients and the report.

/** The p-th percentile (0..100) of numbers, nearest-rank on a sorted copy; null when empty. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const s = Float64Array.from(values).sort();
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank];
}

export const median = (values) => percentile(values, 50);

/** Least-squares slope of y over x (units of y per unit of x); null with fewer than 2 points. */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

export const round = (v, digits = 0) =>
  v === null || v === undefined || Number.isNaN(v) ? null : Number(v.toFixed(digits));
