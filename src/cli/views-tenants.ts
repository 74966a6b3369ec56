/**
 * Human renderings of users and their ledger (SPEC section 11): money in USD, an unmetered
 * user's balance as `unmetered`. `--json` bypasses this file and prints the View objects.
 */
import { formatUsd } from '../shared/money.js';
import type { LedgerRowView, UserView } from '../shared/tenant-api.js';
import { formatTime, orDash, renderFields, renderTable, type Column, type Style } from './format.js';
import { statusText } from './views-catalog.js';

const balance = (u: UserView) => (u.balance === null ? 'unmetered' : formatUsd(u.balance));
const limit = (n: number | null) => (n === null ? 'none' : String(n));

function userColumns(style: Style): Column<UserView>[] {
  return [
    { header: 'ID', value: (u) => String(u.id), right: true },
    { header: 'NAME', value: (u) => u.name },
    { header: 'GROUP', value: (u) => u.group },
    { header: 'BALANCE', value: balance, right: true },
    { header: 'SPENT', value: (u) => formatUsd(u.spent), right: true },
    { header: 'KEYS', value: (u) => String(u.keys), right: true },
    { header: 'STATUS', value: (u) => statusText(u.status, null, style) },
    { header: 'CREATED', value: (u) => formatTime(u.created_at) },
  ];
}

export function renderUsers(users: readonly UserView[], style: Style): string {
  if (users.length === 0) return 'no users yet: create one with `bc user create --name NAME --balance USD`';
  return renderTable(userColumns(style), users, style);
}

export function renderUser(u: UserView, style: Style): string {
  return renderFields(
    [
      ['id', String(u.id)],
      ['name', u.name],
      ['group', u.group],
      ['balance', balance(u)],
      ['spent', formatUsd(u.spent)],
      ['credited', formatUsd(u.credited)],
      ['status', statusText(u.status, null, style)],
      ['rpm', limit(u.rpm)],
      ['tpm', limit(u.tpm)],
      ['concurrency', limit(u.concurrency)],
      ['max keys', u.max_keys === null ? 'tenant default' : String(u.max_keys)],
      ['keys', String(u.keys)],
      ['invited by', orDash(u.invited_by)],
      ['referral code', orDash(u.referral_code)],
      ['note', orDash(u.note)],
      ['created', formatTime(u.created_at)],
    ],
    style,
  );
}

export function renderLedger(rows: readonly LedgerRowView[], style: Style): string {
  if (rows.length === 0) return 'no ledger rows yet';
  const columns: Column<LedgerRowView>[] = [
    { header: 'ID', value: (r) => String(r.id), right: true },
    { header: 'TIME', value: (r) => formatTime(r.time) },
    { header: 'KIND', value: (r) => r.kind },
    { header: 'AMOUNT', value: (r) => (r.amount > 0 ? '+' : '') + formatUsd(r.amount), right: true },
    {
      header: 'BALANCE',
      value: (r) => (r.balance_after === null ? '-' : formatUsd(r.balance_after)),
      right: true,
    },
    { header: 'REF', value: (r) => orDash(r.ref) },
    { header: 'BY', value: (r) => r.actor },
    { header: 'NOTE', value: (r) => orDash(r.note) },
  ];
  return renderTable(columns, rows, style);
}
