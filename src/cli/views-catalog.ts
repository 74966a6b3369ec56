/**
 * Human renderings of the catalogue entities (channels, keys, prices, groups, models): the
 * columns of each listing and the fields of each `show`. Money in USD, secrets only ever as the
 * masked forms the daemon sends. `--json` bypasses this file and prints the View objects.
 */
import type {
  ChannelView,
  GroupView,
  KeyCreated,
  KeyView,
  ModelView,
  PriceView,
} from '../shared/control-api.js';
import { formatUsd } from '../shared/money.js';
import {
  formatCount,
  formatDuration,
  formatTime,
  formatUntil,
  orDash,
  renderFields,
  renderTable,
  shortList,
} from './format.js';
import type { Column, Style } from './format.js';

export function statusText(status: string, reason: string | null, style: Style): string {
  const text = reason && status !== 'enabled' ? `${status} (${reason})` : status;
  if (status === 'enabled') return style.green(text);
  if (status === 'disabled') return style.yellow(text);
  return style.red(text);
}

function channelColumns(style: Style): Column<ChannelView>[] {
  return [
    { header: 'ID', value: (c) => String(c.id), right: true },
    { header: 'NAME', value: (c) => c.name },
    { header: 'TYPE', value: (c) => c.type },
    { header: 'MODELS', value: (c) => shortList(c.models) },
    { header: 'PRIORITY', value: (c) => String(c.priority), right: true },
    { header: 'WEIGHT', value: (c) => String(c.weight), right: true },
    { header: 'STATUS', value: (c) => statusText(c.status, c.status_reason, style) },
    { header: 'KEYS', value: (c) => shortList(c.keys, 2) },
    { header: 'COOLDOWN', value: (c) => formatUntil(c.cooldown_until) },
  ];
}

export function renderChannels(channels: readonly ChannelView[], style: Style): string {
  if (channels.length === 0) return 'no channels yet: add one with `bc channel add`';
  return renderTable(channelColumns(style), channels, style);
}

function mapText(map: Record<string, string>): string {
  const pairs = Object.entries(map).map(([alias, upstream]) => `${alias}=${upstream}`);
  return pairs.length > 0 ? pairs.join(', ') : '-';
}

export function renderChannel(c: ChannelView, style: Style): string {
  return renderFields(
    [
      ['id', String(c.id)],
      ['name', c.name],
      ['type', c.type],
      ['base url', orDash(c.base_url)],
      ['models', c.models.join(', ') || '-'],
      ['map', mapText(c.map)],
      ['groups', c.groups.join(', ') || '-'],
      ['priority', String(c.priority)],
      ['weight', String(c.weight)],
      ['status', statusText(c.status, c.status_reason, style)],
      ['keys', c.keys.join(', ') || '-'],
      ['cooldown', formatUntil(c.cooldown_until)],
      ['timeout', formatDuration(c.timeout_ms)],
      ['region', orDash(c.region)],
      ['api version', orDash(c.api_version)],
      ['created', formatTime(c.created_at)],
    ],
    style,
  );
}

function limit(n: number | null): string {
  return n === null ? '-' : String(n);
}

function keyColumns(style: Style): Column<KeyView>[] {
  return [
    { header: 'ID', value: (k) => String(k.id), right: true },
    { header: 'NAME', value: (k) => k.name },
    { header: 'PREFIX', value: (k) => k.prefix },
    { header: 'GROUP', value: (k) => k.group },
    { header: 'BUDGET', value: (k) => (k.budget === null ? 'unlimited' : formatUsd(k.budget)), right: true },
    { header: 'SPENT', value: (k) => formatUsd(k.spent), right: true },
    { header: 'EXPIRES', value: (k) => formatTime(k.expires_at) },
    { header: 'MODELS', value: (k) => (k.models.length > 0 ? shortList(k.models) : 'all') },
    { header: 'RPM', value: (k) => limit(k.rpm), right: true },
    { header: 'TPM', value: (k) => limit(k.tpm), right: true },
    { header: 'CONC', value: (k) => limit(k.concurrency), right: true },
    { header: 'STATUS', value: (k) => statusText(k.status, null, style) },
    { header: 'LAST USED', value: (k) => formatTime(k.last_used_at) },
  ];
}

export function renderKeys(keys: readonly KeyView[], style: Style): string {
  if (keys.length === 0) return 'no keys yet: create one with `bc key create --name NAME`';
  return renderTable(keyColumns(style), keys, style);
}

export function renderKey(k: KeyView, style: Style): string {
  return renderFields(
    [
      ['id', String(k.id)],
      ['name', k.name],
      ['prefix', k.prefix],
      ['group', k.group],
      ...(k.user === null
        ? []
        : ([
            ['user', k.user],
            ['scope', k.scope],
          ] as const)),
      ['budget', k.budget === null ? 'unlimited' : formatUsd(k.budget)],
      ['spent', formatUsd(k.spent)],
      ['near the end', k.strict_budget ? 'refuse (strict budget)' : 'lower the output limit to what is left'],
      ['expires', formatTime(k.expires_at)],
      ['models', k.models.length > 0 ? k.models.join(', ') : 'all'],
      ['allowed IPs', k.allow_ips.length > 0 ? k.allow_ips.join(', ') : 'any'],
      ['rpm', limit(k.rpm)],
      ['tpm', limit(k.tpm)],
      ['concurrency', limit(k.concurrency)],
      ['status', statusText(k.status, null, style)],
      ['created', formatTime(k.created_at)],
      ['last used', formatTime(k.last_used_at)],
    ],
    style,
  );
}

/** The one time a client key's secret is printed. */
export function renderKeyCreated(k: KeyCreated, verb: 'created' | 'rotated', style: Style): string {
  return [
    `${verb} key ${k.id} (${k.name})`,
    '',
    `  ${style.bold(k.key)}`,
    '',
    style.yellow('Store this secret now: it will not be shown again.'),
  ].join('\n');
}

const priceUsd = (n: number | null): string => (n === null ? '-' : formatUsd(n));

/** What the columns cannot show: the alias's upstream, the catalog's name, long-context tiers. */
function priceNotes(p: PriceView): string {
  const notes: string[] = [];
  if (p.via !== null) notes.push(`as ${p.via}`);
  if (p.catalog_model !== null && p.catalog_model !== (p.via ?? p.model))
    notes.push(`catalog: ${p.catalog_model}`);
  for (const t of p.tiers) {
    notes.push(`over ${formatCount(t.above_input_tokens)} in: ${formatUsd(t.input)}/${formatUsd(t.output)}`);
  }
  return notes.join('; ');
}

export function renderPrices(prices: readonly PriceView[], style: Style): string {
  if (prices.length === 0) {
    return 'no models served and no prices set: add a channel with `bc channel add`, or set a price with `bc price set MODEL --input USD --output USD`';
  }
  const money = (p: PriceView, n: number | null) => (p.source === 'unpriced' ? '-' : priceUsd(n));
  const columns: Column<PriceView>[] = [
    { header: 'MODEL', value: (p) => p.model },
    {
      header: 'INPUT/1M',
      value: (p) => (p.source === 'unpriced' ? style.yellow('unpriced') : priceUsd(p.input)),
      right: true,
    },
    { header: 'OUTPUT/1M', value: (p) => money(p, p.output), right: true },
    { header: 'CACHE READ/1M', value: (p) => money(p, p.cache_read), right: true },
    { header: 'CACHE WRITE/1M', value: (p) => money(p, p.cache_write), right: true },
    { header: 'PER REQUEST', value: (p) => money(p, p.per_request), right: true },
    { header: 'MAX OUT', value: (p) => formatCount(p.max_output_tokens), right: true },
    { header: 'SOURCE', value: (p) => p.source },
    { header: 'NOTES', value: (p) => priceNotes(p) },
  ];
  const unpriced = prices.filter((p) => p.source === 'unpriced').length;
  const table = renderTable(columns, prices, style);
  if (unpriced === 0) return table;
  const hint = `${unpriced} unpriced: keys with a budget cannot use them until \`bc price set MODEL --input USD --output USD\``;
  return `${table}\n${style.yellow(hint)}`;
}

export function renderPrice(p: PriceView): string {
  if (p.source === 'unpriced') return `${p.model}: unpriced`;
  const extras = [
    p.cache_read === null ? '' : `, cache read ${formatUsd(p.cache_read)}`,
    p.cache_write === null ? '' : `, cache write ${formatUsd(p.cache_write)}`,
    p.per_request === null ? '' : `, ${formatUsd(p.per_request)} per request`,
  ].join('');
  return `${p.model}: input ${formatUsd(p.input)}, output ${formatUsd(p.output)} per 1M tokens${extras} (${p.source})`;
}

export function renderGroups(groups: readonly GroupView[], style: Style): string {
  if (groups.length === 0) return 'no groups: set one with `bc group set NAME --ratio R`';
  const columns: Column<GroupView>[] = [
    { header: 'NAME', value: (g) => g.name },
    { header: 'RATIO', value: (g) => String(g.ratio), right: true },
  ];
  return renderTable(columns, groups, style);
}

export function renderModels(models: readonly ModelView[], style: Style): string {
  if (models.length === 0) return 'no models served: add a channel with `bc channel add`';
  const columns: Column<ModelView>[] = [
    { header: 'MODEL', value: (m) => m.model },
    {
      header: 'CHANNELS',
      value: (m) =>
        m.channels
          .map((c) => {
            const target = c.upstream_model !== m.model ? `->${c.upstream_model}` : '';
            const off = c.status !== 'enabled' ? ` [${c.status}]` : '';
            return `${c.name}${target}${off}`;
          })
          .join(', '),
    },
  ];
  return renderTable(columns, models, style);
}
