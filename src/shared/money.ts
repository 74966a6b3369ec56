/**
 * Money is an integer number of micro-USD everywhere (1 = $0.000001). Prices are micro-USD per
 * 1M tokens. This module parses user-typed USD amounts exactly (no float rounding) and formats them.
 */

export const MICRO_PER_USD = 1_000_000;

/** Parses "12", "0.5", "$3.25", "0.000001" into micro-USD. Returns undefined when not a valid amount. */
export function parseUsd(input: string): number | undefined {
  const s = input.trim().replace(/^\$/, '');
  const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) return undefined;
  const whole = Number(m[1]);
  const frac = Number(((m[2] ?? '') + '000000').slice(0, 6));
  const micro = whole * MICRO_PER_USD + frac;
  return Number.isSafeInteger(micro) ? micro : undefined;
}

/** Formats micro-USD as "$1.234567" trimmed to at least 2 decimals: 1500000 -> "$1.50". */
export function formatUsd(micro: number | null | undefined): string {
  if (micro === null || micro === undefined) return '-';
  const neg = micro < 0;
  const abs = Math.abs(Math.round(micro));
  const whole = Math.floor(abs / MICRO_PER_USD);
  let frac = String(abs % MICRO_PER_USD)
    .padStart(6, '0')
    .replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return `${neg ? '-' : ''}$${whole}.${frac}`;
}

/** Rounds a non-negative fractional micro-USD amount half up, once, at settlement. */
export function roundHalfUp(micro: number): number {
  return Math.floor(micro + 0.5);
}
