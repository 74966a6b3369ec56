/**
 * Line graphs drawn with braille characters (2x4 dots per cell, so an 80-column graph shows 160
 * points) or, for terminals without UTF-8, with ASCII. A pure function of the values and the
 * size: the components only print the lines, and tests can check the drawing directly.
 */

export interface PlotOptions {
  /** columns */
  width: number;
  /** rows */
  height: number;
  ascii?: boolean;
  /** the value at the top row; defaults to the largest value shown */
  max?: number;
}

export interface Plot {
  lines: string[];
  /** the value the top row stands for */
  max: number;
}

const BRAILLE_BASE = 0x2800;
/** bit of each dot, by [row within the cell][column within the cell] */
const DOT_BITS = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
] as const;

/** Averages the values that fall into each of `dots` horizontal positions (null where none). */
export function resample(values: readonly (number | null)[], dots: number): (number | null)[] {
  const n = values.length;
  const out = new Array<number | null>(dots).fill(null);
  if (n === 0) return out;
  for (let d = 0; d < dots; d++) {
    const lo = Math.floor((d * n) / dots);
    const hi = Math.max(lo + 1, Math.floor(((d + 1) * n) / dots));
    let sum = 0;
    let count = 0;
    for (let i = lo; i < hi && i < n; i++) {
      const v = values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      sum += v;
      count++;
    }
    out[d] = count > 0 ? sum / count : null;
  }
  return out;
}

export function plot(values: readonly (number | null)[], opts: PlotOptions): Plot {
  const width = Math.max(1, Math.floor(opts.width));
  const height = Math.max(1, Math.floor(opts.height));
  const xPer = opts.ascii ? 1 : 2;
  const yPer = opts.ascii ? 1 : 4;
  const points = resample(values, width * xPer);
  let max = opts.max ?? 0;
  if (opts.max === undefined) for (const p of points) if (p !== null && p > max) max = p;
  const top = max > 0 ? max : 1;
  const yDots = height * yPer;
  const grid = Array.from({ length: height }, () => new Array<number>(width).fill(0));
  const set = (x: number, level: number): void => {
    const yFromTop = yDots - 1 - level;
    const row = grid[Math.floor(yFromTop / yPer)];
    const cell = Math.floor(x / xPer);
    if (!row || cell >= width) return;
    const bit = opts.ascii ? 1 : (DOT_BITS[yFromTop % 4]?.[x % 2] ?? 0);
    row[cell] = (row[cell] ?? 0) | bit;
  };
  let prev: number | null = null;
  points.forEach((v, x) => {
    if (v === null) {
      prev = null;
      return;
    }
    const level = Math.min(yDots - 1, Math.max(0, Math.round((v / top) * (yDots - 1))));
    // join to the previous point so steep changes read as a line, not scattered dots
    // (the previous point's own level is already drawn in its column)
    const from = prev ?? level;
    const lo = level > from ? from + 1 : level;
    const hi = level < from ? from - 1 : level;
    for (let l = lo; l <= hi; l++) set(x, l);
    prev = level;
  });
  const glyph = (bits: number): string =>
    opts.ascii ? (bits ? '*' : ' ') : bits ? String.fromCharCode(BRAILLE_BASE + bits) : ' ';
  return { lines: grid.map((row) => row.map(glyph).join('')), max: top };
}
