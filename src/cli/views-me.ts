/**
 * Human renderings of what a tenant sees of themselves through `bc --gateway URL --key KEY me`:
 * their user and key, usage, log rows (no channel or upstream columns: the gateway sends none),
 * a redemption and a signup. Money in USD; `--json` bypasses this file.
 */
import type { UsageRow } from '../shared/control-api.js';
import { formatUsd } from '../shared/money.js';
import type { MeView, SelfLogRow, SelfUsageDimension } from '../shared/self-service-api.js';
import type { RedeemAnswer, SignupAnswer } from '../shared/tenant-api.js';
import {
  formatCount,
  formatDuration,
  formatTime,
  orDash,
  renderFields,
  renderTable,
  type Column,
  type Style,
} from './format.js';
import { statusText } from './views-catalog.js';

const limit = (n: number | null): string => (n === null ? 'none' : String(n));

export function renderMe(me: MeView, style: Style): string {
  const u = me.user;
  const k = me.key;
  return renderFields(
    [
      ['user', u.name],
      ['group', u.group],
      ['balance', u.balance === null ? 'unmetered' : formatUsd(u.balance)],
      ['spent', formatUsd(u.spent)],
      ['status', statusText(u.status, null, style)],
      ['limits', `rpm ${limit(u.rpm)}, tpm ${limit(u.tpm)}, concurrency ${limit(u.concurrency)}`],
      ['key', `${k.name} (id ${k.id}, ${k.prefix}...)`],
      ['scope', k.scope === 'account' ? 'account (manages keys, redeems codes)' : 'relay (model calls)'],
      ['key budget', k.budget === null ? 'none (the balance applies)' : formatUsd(k.budget)],
      ['key spent', formatUsd(k.spent)],
      ['expires', formatTime(k.expires_at)],
      ['models', k.models.length > 0 ? k.models.join(', ') : 'all'],
    ],
    style,
  );
}

function usageCost(r: UsageRow): string {
  if (r.unpriced_requests === 0) return formatUsd(r.cost ?? 0);
  if (r.cost === null) return `unpriced (${formatCount(r.unpriced_requests)} req)`;
  return `${formatUsd(r.cost)} + ${formatCount(r.unpriced_requests)} unpriced`;
}

export function renderMyUsage(rows: readonly UsageRow[], by: SelfUsageDimension, style: Style): string {
  if (rows.length === 0) return 'no usage in this period';
  const columns: Column<UsageRow>[] = [
    { header: by.toUpperCase(), value: (r) => String(r[by] ?? r.name) },
    { header: 'REQUESTS', value: (r) => formatCount(r.requests), right: true },
    { header: 'ERRORS', value: (r) => formatCount(r.errors), right: true },
    { header: 'INPUT', value: (r) => formatCount(r.input_tokens), right: true },
    { header: 'OUTPUT', value: (r) => formatCount(r.output_tokens), right: true },
    { header: 'COST', value: usageCost, right: true },
  ];
  return renderTable(columns, rows, style);
}

export function renderMyLogs(rows: readonly SelfLogRow[], style: Style): string {
  if (rows.length === 0) return 'no requests logged';
  const columns: Column<SelfLogRow>[] = [
    { header: 'ID', value: (r) => String(r.id), right: true },
    { header: 'TIME', value: (r) => formatTime(r.time) },
    { header: 'KEY', value: (r) => orDash(r.key) },
    { header: 'MODEL', value: (r) => r.model },
    {
      header: 'STATUS',
      value: (r) => (r.status >= 400 ? style.red(String(r.status)) : String(r.status)),
      right: true,
    },
    { header: 'IN', value: (r) => formatCount(r.input_tokens), right: true },
    {
      header: 'OUT',
      value: (r) => formatCount(r.output_tokens) + (r.usage_estimated ? '~' : ''),
      right: true,
    },
    { header: 'COST', value: (r) => formatUsd(r.cost), right: true },
    { header: 'LATENCY', value: (r) => formatDuration(r.latency_ms), right: true },
    { header: 'ERROR', value: (r) => orDash(r.error) },
  ];
  return renderTable(
    columns,
    [...rows].sort((a, b) => a.id - b.id),
    style,
  );
}

export function renderRedeemed(r: RedeemAnswer): string {
  const head = r.replayed
    ? `you had redeemed this code already (${formatUsd(r.amount)}); nothing was credited again`
    : `redeemed ${formatUsd(r.amount)}`;
  return `${head}\nbalance: ${formatUsd(r.balance)}`;
}

export function renderSignedUp(a: SignupAnswer, gateway: string, style: Style): string {
  const balance = a.user.balance === null ? 'unmetered' : formatUsd(a.user.balance);
  return [
    `signed up as ${a.user.name} (group ${a.user.group}, balance ${balance})`,
    `your account key ${a.key.name} (id ${a.key.id}):`,
    '',
    `  ${style.bold(a.key.key)}`,
    '',
    style.yellow('Store this secret now: it will not be shown again.'),
    `next: bc --gateway ${gateway} --key - me   (the key on stdin keeps it out of shell history)`,
  ].join('\n');
}
