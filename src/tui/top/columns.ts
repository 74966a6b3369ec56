/**
 * The tables of `bc top`: columns by channel, by model, by key and by user, and the sort and
 * filter that the keys switch. Everything comes from the snapshot's last-minute figures, except
 * the users' balances, which the user list supplies (the stream does not carry money held).
 */
import type { ChannelMetricsRow, MetricsRow, MetricsSnapshot } from '../../shared/metrics-types.js';
import type { Column } from '../components/data-table.js';
import { fmtCount, fmtMoney, fmtMs } from '../format.js';
import type { Balances } from '../hooks/use-user-balances.js';
import type { SortKey, View } from './top-state.js';

export function channelState(r: Pick<ChannelMetricsRow, 'status' | 'cooldown_s'>): string {
  if (r.status === 'disabled') return 'off';
  if (r.status === 'auto_disabled') return 'auto-off';
  return r.cooldown_s > 0 ? 'cooling' : 'ok';
}

function cooldown(s: number): string {
  if (s <= 0) return '-';
  return s < 100 ? `${s}s` : `${Math.round(s / 60)}m`;
}

const rpm: Column<MetricsRow> = {
  title: 'RPM',
  width: 6,
  align: 'right',
  value: (r) => fmtCount(r.last_minute.requests),
};
const errors: Column<MetricsRow> = {
  title: 'ERR',
  width: 5,
  align: 'right',
  value: (r) => fmtCount(r.last_minute.errors),
  color: (r, t) => (r.last_minute.errors > 0 ? t.bad : undefined),
};
const p50: Column<MetricsRow> = {
  title: 'P50',
  width: 7,
  align: 'right',
  value: (r) => fmtMs(r.last_minute.p50_ms),
};
const p99: Column<MetricsRow> = {
  title: 'P99',
  width: 7,
  align: 'right',
  value: (r) => fmtMs(r.last_minute.p99_ms),
};
const inflight: Column<MetricsRow> = {
  title: 'INFL',
  width: 4,
  align: 'right',
  value: (r) => fmtCount(r.inflight),
};

export const CHANNEL_COLUMNS: readonly Column<ChannelMetricsRow>[] = [
  { title: 'CHANNEL', value: (r) => r.name },
  {
    title: 'STATUS',
    width: 8,
    value: channelState,
    color: (r, t) => ({ ok: t.good, cooling: t.warn, off: t.muted, 'auto-off': t.bad })[channelState(r)],
  },
  { title: 'COOL', width: 5, align: 'right', value: (r) => cooldown(r.cooldown_s) },
  rpm,
  errors,
  p50,
  p99,
  inflight,
];

function usageColumns(title: string): readonly Column<MetricsRow>[] {
  return [
    { title, value: (r) => r.name },
    rpm,
    errors,
    { title: 'IN/m', width: 6, align: 'right', value: (r) => fmtCount(r.last_minute.input_tokens) },
    { title: 'OUT/m', width: 6, align: 'right', value: (r) => fmtCount(r.last_minute.output_tokens) },
    { title: '$/m', width: 7, align: 'right', value: (r) => fmtMoney(r.last_minute.cost) },
    p50,
    p99,
    inflight,
  ];
}

export const MODEL_COLUMNS = usageColumns('MODEL');
export const KEY_COLUMNS = usageColumns('KEY');

/** A user's balance as the list last said: "unmetered", or "-" while unknown (or for `other`). */
export function balanceText(r: MetricsRow, balances: Balances | null): string {
  if (!balances?.has(r.id)) return '-';
  const b = balances.get(r.id);
  return b === null || b === undefined ? 'unmetered' : fmtMoney(b);
}

/** The users view: traffic and spend per minute over all of a user's keys, and what they have left. */
export function userColumns(balances: Balances | null): readonly Column<MetricsRow>[] {
  return [
    { title: 'USER', value: (r) => r.name },
    rpm,
    errors,
    { title: 'IN/m', width: 6, align: 'right', value: (r) => fmtCount(r.last_minute.input_tokens) },
    { title: 'OUT/m', width: 6, align: 'right', value: (r) => fmtCount(r.last_minute.output_tokens) },
    { title: '$/m', width: 7, align: 'right', value: (r) => fmtMoney(r.last_minute.cost) },
    {
      title: 'BALANCE',
      width: 9,
      align: 'right',
      value: (r) => balanceText(r, balances),
      color: (r, t) => {
        const b = balances?.get(r.id);
        return typeof b === 'number' && b <= 0 ? t.bad : undefined;
      },
    },
    p50,
    inflight,
  ];
}

/** The rows of a table view (the overview shows the channels); a daemon older than users sends none. */
export function viewRows(s: MetricsSnapshot, view: View): readonly MetricsRow[] {
  switch (view) {
    case 'models':
      return s.models;
    case 'keys':
      return s.keys;
    case 'users':
      return s.users ?? [];
    default:
      return s.channels;
  }
}

function sortValue(r: MetricsRow, key: SortKey): number {
  switch (key) {
    case 'rpm':
      return r.last_minute.requests;
    case 'errors':
      return r.last_minute.errors;
    case 'p50':
      return r.last_minute.p50_ms ?? -1;
    case 'inflight':
      return r.inflight;
    case 'name':
      return 0;
  }
}

/** Filters by name (case-insensitive substring) and sorts; ties fall back to the name. */
export function arrange<R extends MetricsRow>(
  rows: readonly R[],
  sort: SortKey,
  descending: boolean,
  filter: string,
): R[] {
  const f = filter.toLowerCase();
  const kept = f ? rows.filter((r) => r.name.toLowerCase().includes(f)) : [...rows];
  const dir = descending ? -1 : 1;
  return kept.sort((a, b) => {
    const d = sort === 'name' ? a.name.localeCompare(b.name) : sortValue(a, sort) - sortValue(b, sort);
    return d !== 0 ? d * dir : a.name.localeCompare(b.name);
  });
}
