/**
 * Human renderings of what the daemon did and is: the status block, request log rows and usage
 * summaries. Money in USD, token counts with thousands separators, times in UTC.
 */
import type { LogRow, LogStats, StatusView, UsageDimension, UsageRow } from '../shared/control-api.js';
import { formatUsd } from '../shared/money.js';
import { formatCount, formatDuration, formatTime, orDash, renderFields, renderTable } from './format.js';
import type { Column, Style } from './format.js';

export function renderStatus(s: StatusView, style: Style): string {
  return renderFields(
    [
      ['status', style.green('running')],
      ['pid', String(s.pid)],
      ['version', s.version],
      ['uptime', formatDuration(s.uptime_s * 1000)],
      ['gateway', `http://${s.listen}`],
      ['socket', s.socket],
      ['store', s.store],
      ['home', orDash(s.home)],
      ['channels', formatCount(s.channels)],
      ['keys', formatCount(s.keys)],
      ['requests', formatCount(s.requests)],
      ['writes', storeWrites(s, style)],
      ['log', logHealth(s, style)],
      // absent from a daemon older than log retention
      ...(s.log === undefined ? [] : [['log rows', requestLog(s.log)] as [string, string]]),
      // a cluster's (BC_REDIS): absent for a daemon on its own
      ...clusterFields(s, style),
    ],
    style,
  );
}

/** The request log's rows (`~` when estimated from the id span), oldest row and the store's size. */
function requestLog(log: LogStats): string {
  const rows = `${log.rows_estimated ? '~' : ''}${formatCount(log.rows)}`;
  const oldest = log.oldest === null ? '' : `, oldest ${formatTime(log.oldest)}`;
  return `${rows}${oldest}, store ${formatBytes(log.bytes)}`;
}

/** 1536 -> "1.5 KiB": binary units, one decimal. */
function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Redis's health, then the live nodes, one line each (id, address, pid, version, uptime, requests). */
function clusterFields(s: StatusView, style: Style): [string, string][] {
  const fields: [string, string][] = [];
  // `--workers N`: the pid above is the supervisor's; this is the worker that answered
  if (s.worker !== undefined)
    fields.push(['worker', `${s.worker.index} of ${s.worker.count} (pid ${s.worker.pid})`]);
  if (s.redis !== undefined) fields.push(['redis', s.redis === 'ok' ? 'ok' : style.red(s.redis)]);
  if (s.nodes !== undefined) {
    fields.push(['nodes', formatCount(s.nodes.length)]);
    for (const n of s.nodes)
      fields.push([
        'node',
        `${n.node_id}  ${n.listen}  pid ${n.pid}  v${n.version}  up ${formatDuration(n.uptime_s * 1000)}  ${formatCount(n.requests)} req`,
      ]);
  }
  return fields;
}

/** A store that cannot write refuses every request: say so, and why, in red. */
function storeWrites(s: StatusView, style: Style): string {
  if (!s.store_fault) return 'ok';
  return style.red(`failing since ${formatTime(s.store_fault.since)}: ${s.store_fault.reason}`);
}

function logHealth(s: StatusView, style: Style): string {
  // (an older daemon does not report it)
  if (!s.log_lines_dropped) return 'ok';
  const why = s.log_error === null ? '' : ` (${s.log_error})`;
  return style.yellow(`${formatCount(s.log_lines_dropped)} line(s) dropped${why}`);
}

function logColumns(style: Style): Column<LogRow>[] {
  return [
    { header: 'ID', value: (r) => String(r.id), right: true },
    { header: 'TIME', value: (r) => formatTime(r.time) },
    { header: 'KEY', value: (r) => orDash(r.key) },
    { header: 'CHANNEL', value: (r) => orDash(r.channel) },
    { header: 'MODEL', value: (r) => r.model },
    {
      header: 'STATUS',
      value: (r) => (r.status >= 400 ? style.red(String(r.status)) : String(r.status)),
      right: true,
    },
    { header: 'IN', value: (r) => formatCount(r.input_tokens), right: true },
    {
      header: 'OUT',
      // `/N`: the budget lowered the output limit to N tokens
      value: (r) =>
        formatCount(r.output_tokens) +
        (r.usage_estimated ? '~' : '') +
        (r.max_tokens_clamped != null ? `/${formatCount(r.max_tokens_clamped)}` : ''),
      right: true,
    },
    { header: 'COST', value: (r) => formatUsd(r.cost), right: true },
    { header: 'LATENCY', value: (r) => formatDuration(r.latency_ms), right: true },
    { header: 'TTFT', value: (r) => (r.ttft_ms === null ? '-' : formatDuration(r.ttft_ms)), right: true },
    { header: 'ERROR', value: (r) => orDash(r.error) },
  ];
}

export function renderLogs(rows: readonly LogRow[], style: Style): string {
  if (rows.length === 0) return 'no requests logged';
  return renderTable(logColumns(style), rows, style);
}

/** Rows for `bc logs -f`: no header, each on its own, so successive batches line up loosely. */
export function renderLogLines(rows: readonly LogRow[], style: Style): string {
  const columns = logColumns(style);
  return rows.map((r) => columns.map((c) => c.value(r)).join('  ')).join('\n');
}

/** Spend with its unpriced part said as such: unpriced requests are never shown as $0.00. */
function usageCost(r: Pick<UsageRow, 'cost' | 'unpriced_requests'>): string {
  const n = r.unpriced_requests;
  if (n === 0) return formatUsd(r.cost ?? 0);
  if (r.cost === null) return `unpriced (${formatCount(n)} req)`;
  return `${formatUsd(r.cost)} + ${formatCount(n)} unpriced`;
}

export function renderUsage(rows: readonly UsageRow[], by: UsageDimension, style: Style): string {
  if (rows.length === 0) return 'no usage in this period';
  const columns: Column<UsageRow>[] = [
    { header: by.toUpperCase(), value: (r) => String(r[by] ?? r.name) },
    { header: 'REQUESTS', value: (r) => formatCount(r.requests), right: true },
    { header: 'ERRORS', value: (r) => formatCount(r.errors), right: true },
    { header: 'INPUT', value: (r) => formatCount(r.input_tokens), right: true },
    { header: 'OUTPUT', value: (r) => formatCount(r.output_tokens), right: true },
    { header: 'COST', value: (r) => usageCost(r), right: true },
  ];
  const total = rows.reduce(
    (t, r) => ({
      requests: t.requests + r.requests,
      errors: t.errors + r.errors,
      input_tokens: t.input_tokens + r.input_tokens,
      output_tokens: t.output_tokens + r.output_tokens,
      cost: r.cost === null ? t.cost : (t.cost ?? 0) + r.cost,
      unpriced_requests: t.unpriced_requests + r.unpriced_requests,
    }),
    {
      requests: 0,
      errors: 0,
      input_tokens: 0,
      output_tokens: 0,
      cost: null as number | null,
      unpriced_requests: 0,
    },
  );
  const unpriced = total.unpriced_requests > 0;
  const rendered = renderTable(columns, [...rows, { name: 'total', [by]: 'total', ...total }], style);
  if (!unpriced) return rendered;
  return `${rendered}\n${style.yellow('unpriced: spend on models with no price is not counted; set one with `bc price set`')}`;
}
