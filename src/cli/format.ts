/**
 * Pure text rendering for human output: aligned tables, "label: value" blocks, ANSI styles that
 * switch off entirely when colour is not wanted, and short forms of times and durations. Nothing
 * here writes anywhere; output.ts does, so `--json` and tests can bypass all of this.
 */

export interface Style {
  readonly enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

const wrap =
  (on: boolean, open: number, close: number) =>
  (s: string): string =>
    on && s !== '' ? `\u001b[${open}m${s}\u001b[${close}m` : s;

export function makeStyle(enabled: boolean): Style {
  return {
    enabled,
    bold: wrap(enabled, 1, 22),
    dim: wrap(enabled, 2, 22),
    red: wrap(enabled, 31, 39),
    green: wrap(enabled, 32, 39),
    yellow: wrap(enabled, 33, 39),
  };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

export function visibleWidth(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** right-align (numbers, money) */
  right?: boolean;
}

/** Columns separated by two spaces, padded to the widest cell; trailing spaces trimmed. */
export function renderTable<T>(columns: Column<T>[], rows: readonly T[], style: Style): string {
  const cells = rows.map((r) => columns.map((c) => oneLine(c.value(r))));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((row) => visibleWidth(row[i] ?? ''))),
  );
  const pad = (s: string, i: number): string => {
    const gap = ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleWidth(s)));
    return columns[i]?.right ? gap + s : s + gap;
  };
  const header = columns.map((c, i) => pad(c.header, i)).join('  ');
  const lines = [style.bold(header.trimEnd())];
  for (const row of cells) lines.push(row.map(pad).join('  ').trimEnd());
  return lines.join('\n');
}

/** `label  value` lines with labels aligned, for `show` commands. */
export function renderFields(fields: readonly (readonly [string, string])[], style: Style): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${style.dim(label.padEnd(width))}  ${value}`).join('\n');
}

function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ');
}

/** `a,b,c` shortened to the first `max` items plus a count of the rest. */
export function shortList(items: readonly string[], max = 3): string {
  if (items.length === 0) return '-';
  const shown = items.slice(0, max).join(',');
  return items.length > max ? `${shown} +${items.length - max}` : shown;
}

export function orDash(v: string | number | null | undefined): string {
  return v === null || v === undefined || v === '' ? '-' : String(v);
}

/** 1500 -> "1.5s", 90000 -> "1m30s", 26h -> "1d2h". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(1))}s`;
  const parts: [number, string][] = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [Math.floor(s % 60), 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join('');
}

/** An ISO time as `YYYY-MM-DD HH:MM:SS` (UTC, as stored), or `-`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

/** Time left until an ISO instant, e.g. `42s`; `-` once it has passed. */
export function formatUntil(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '-';
  const left = Date.parse(iso) - now;
  return Number.isFinite(left) && left > 0 ? formatDuration(left) : '-';
}

/** 1234567 -> "1,234,567". */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
