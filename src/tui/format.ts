/**
 * Short number formats for narrow terminal columns: rates, token counts, durations, percentages
 * and money. Every function returns at most about 7 characters so tables keep their alignment.
 */
import { MICRO_PER_USD } from '../shared/money.js';

/** 0 -> "0", 12.34 -> "12.3", 1234 -> "1.2k", 2_500_000 -> "2.5M" */
export function fmtCount(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${Math.round(v / 1e3)}k`;
  if (a >= 1e3) return `${trim(v / 1e3)}k`;
  if (Number.isInteger(v)) return String(v);
  return a >= 100 ? String(Math.round(v)) : trim(v);
}

function trim(v: number): string {
  return (Math.round(v * 10) / 10).toFixed(1).replace(/\.0$/, '');
}

/** ms -> "850ms", "1.25s", "2m05s"; null -> "-" */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** 0..1 -> "0%", "0.5%", "12%" */
export function fmtPct(ratio: number): string {
  const p = ratio * 100;
  if (p === 0) return '0%';
  if (p < 10) return `${(Math.round(p * 10) / 10).toString()}%`;
  return `${Math.round(p)}%`;
}

/** micro-USD -> "$0.42", "$12.3", "$1.2k", with sub-cent amounts kept visible ("$0.0004") */
export function fmtMoney(micro: number | null | undefined): string {
  if (micro === null || micro === undefined) return '-';
  const usd = micro / MICRO_PER_USD;
  if (usd === 0) return '$0';
  if (Math.abs(usd) >= 1000) return `$${fmtCount(usd)}`;
  if (Math.abs(usd) >= 10) return `$${usd.toFixed(1)}`;
  if (Math.abs(usd) >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(1)}`;
}

/** seconds -> "1m", "5m", "15m", "45s" */
export function fmtSpan(s: number): string {
  return s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

/** Pads or cuts `text` to exactly `width` columns (an ellipsis marks a cut). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (text.length > width) return width === 1 ? text.slice(0, 1) : `${text.slice(0, width - 1)}~`;
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}
