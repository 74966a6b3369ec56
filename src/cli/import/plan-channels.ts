/**
 * Channels of a One API / New API database as BurnCloud channels (TENANTS.md 3.1, 3.2): the type
 * and SDK base URL from the flavour's type table, then the exceptions no table row can say (Azure
 * deployments and api-version, Bedrock credentials packed in the key, New API's Custom full URL and
 * named bases, Cloudflare's AI gateway), statuses, per-key states of New API multi-key channels, and
 * every column BurnCloud cannot carry named in the warnings. Types BurnCloud does not speak are
 * skipped and counted by the source's type name. The per-type exceptions live in channel-parts.ts.
 * Pure: rows in, plan entries out.
 */
import type { ChannelStatus, ChannelType } from '../../shared/control-api.js';
import type { ImportFlavor, PlanChannel } from '../../shared/import-plan.js';
import {
  azureApiVersion,
  azureDeployments,
  bedrockKeys,
  flavorName,
  merge,
  multiKeyStates,
} from './channel-parts.js';
import { NEW_API_AZURE_DOTS_FROM, NEW_API_SPECIAL_BASES, typeRow, type TypeRow } from './channel-types.js';
import { entityName, groupName, meaningful, uniqueName, Warnings } from './plan-util.js';
import { jsonObject, num, str, type Row } from './read.js';

export interface ChannelsPlanned {
  channels: PlanChannel[];
  skipped: number;
  skippedTypes: Record<string, number>;
}

const GOOGLE = 'https://generativelanguage.googleapis.com';
const CLOUDFLARE_GATEWAY = 'https://gateway.ai.cloudflare.com';
/** Columns BurnCloud has no place for: reported per channel when set. */
const DROPPED = [
  'system_prompt',
  'param_override',
  'header_override',
  'status_code_mapping',
  'tag',
  'openai_organization',
  'open_ai_organization',
  'remark',
] as const;

interface Mapped {
  type: ChannelType;
  baseUrl: string | null;
}

export function planChannels(
  rows: readonly Row[],
  flavor: ImportFlavor,
  mergeKeys: boolean,
  warn: Warnings,
): ChannelsPlanned {
  const out: ChannelsPlanned = { channels: [], skipped: 0, skippedTypes: {} };
  const skip = (typeName: string) => {
    out.skipped++;
    out.skippedTypes[typeName] = (out.skippedTypes[typeName] ?? 0) + 1;
  };
  for (const r of rows) {
    const c = planOne(r, flavor, warn, skip);
    if (c !== undefined) out.channels.push(c);
  }
  if (mergeKeys) out.channels = merge(out.channels);
  const taken = new Set<string>();
  for (const c of out.channels) c.name = uniqueName(c.name, taken);
  return out;
}

function planOne(
  r: Row,
  flavor: ImportFlavor,
  warn: Warnings,
  skip: (typeName: string) => void,
): PlanChannel | undefined {
  const id = num(r.id);
  const rawName = str(r.name);
  const label = `channel "${rawName}" (#${id})`;
  const row = typeRow(flavor, num(r.type, 0));
  const other = str(r.other).trim();
  const config = jsonObject(r.config) ?? {};
  const used = new Set<string>();
  const mapped = mapType(r, flavor, row, label, warn);
  if (mapped === undefined) {
    skip(row.name);
    return undefined;
  }
  if (row.note !== undefined) warn.add(label, row.note);

  let keys = splitKeys(str(r.key));
  let region: string | null = null;
  let apiVersion: string | null = null;
  let map = mapping(r.model_mapping, label, warn);
  const models = list(str(r.models));
  if (mapped.type === 'bedrock') {
    const parsed = bedrockKeys(keys, config, label, warn);
    if (parsed === undefined) {
      skip(row.name);
      return undefined;
    }
    ({ keys, region } = parsed);
    for (const k of ['ak', 'sk', 'region']) used.add(`config.${k}`);
    used.add('settings.aws_key_type');
  }
  if (mapped.type === 'azure') {
    apiVersion = azureApiVersion(flavor, config, other);
    used.add('other').add('config.api_version');
    const removeDots = flavor === 'one-api' || num(r.created_time, 0) < NEW_API_AZURE_DOTS_FROM;
    map = azureDeployments(models, map, removeDots);
  }
  if (mapped.type === 'gemini' && (other !== '' || meaningful(config.api_version))) {
    warn.add(
      label,
      `api_version "${other || str(config.api_version)}" dropped (BurnCloud picks the Gemini API version)`,
    );
    used.add('other').add('config.api_version');
  }
  if (keys.length === 0) {
    warn.add(label, 'skipped: no usable key');
    skip(row.name);
    return undefined;
  }
  if (models.length === 0 && Object.keys(map).length === 0) {
    warn.add(label, 'skipped: no models');
    skip(row.name);
    return undefined;
  }
  const keyDisabled = multiKeyStates(r, keys.length, flavor);
  reportDropped(r, other, used, label, warn);

  const status = channelStatus(num(r.status, 1));
  const extra: Record<string, string> = {};
  const testModel = str(r.test_model).trim();
  if (testModel !== '') extra.test_model = testModel;
  const weight = Math.trunc(num(r.weight, 0));
  return {
    source_ids: [id],
    name: entityName(rawName, 'channel', id),
    type: mapped.type,
    base_url: mapped.baseUrl,
    keys,
    key_disabled: keyDisabled,
    models,
    map,
    groups: groupList(str(r.group), label, warn),
    priority: Number.isSafeInteger(Math.trunc(num(r.priority, 0))) ? Math.trunc(num(r.priority, 0)) : 0,
    weight: Math.min(Math.max(weight, 1), 1_000_000),
    region,
    api_version: apiVersion,
    status,
    status_reason: status === 'auto_disabled' ? `imported: auto-disabled in ${flavorName(flavor)}` : null,
    settings: extra,
  };
}

/** The BurnCloud type and base URL, or undefined (skipped) with the reason in the warnings. */
function mapType(
  r: Row,
  flavor: ImportFlavor,
  row: TypeRow,
  label: string,
  warn: Warnings,
): Mapped | undefined {
  if (row.to === undefined || row.how === undefined) return undefined;
  const own = str(r.base_url).trim().replace(/\/+$/, '');
  if (flavor === 'new-api' && own !== '' && !own.includes('://')) {
    const special = NEW_API_SPECIAL_BASES[own];
    if (special === undefined) {
      warn.add(
        label,
        `skipped: base_url "${own}" is a New API named base this importer does not know; add the channel with bc channel add --base-url URL`,
      );
      return undefined;
    }
    return { type: 'openai-compatible', baseUrl: special };
  }
  if (flavor === 'new-api' && num(r.type) === 8) return newApiCustom(own, label, warn);
  const b = own === '' ? row.base.replace(/\/+$/, '') : own;
  const how = row.to === 'openai' && b.startsWith(CLOUDFLARE_GATEWAY) ? 'as-is' : row.how;
  if (how === 'default') {
    // Gemini through a proxy keeps it; the official endpoint is BurnCloud's default
    const custom = row.to === 'gemini' && own !== '' && own !== GOOGLE && !own.startsWith(`${GOOGLE}/`);
    return { type: row.to, baseUrl: custom ? checkedUrl(own, label, warn) : null };
  }
  if (b === '') {
    warn.add(label, `skipped: ${row.name} needs a base URL and the channel has none`);
    return undefined;
  }
  const url = checkedUrl(how === 'as-is' ? b : `${b}${how.path}`, label, warn);
  return url === null ? undefined : { type: row.to, baseUrl: url };
}

/** New API's Custom type holds a full URL; only a chat completions URL without `{model}` fits. */
function newApiCustom(own: string, label: string, warn: Warnings): Mapped | undefined {
  const suffix = '/chat/completions';
  if (own.endsWith(suffix) && !own.includes('{model}')) {
    const url = checkedUrl(own.slice(0, -suffix.length), label, warn);
    return url === null ? undefined : { type: 'openai-compatible', baseUrl: url };
  }
  warn.add(label, `skipped: New API Custom URL "${own}" is not a chat completions URL without {model}`);
  return undefined;
}

function checkedUrl(s: string, label: string, warn: Warnings): string | null {
  try {
    const u = new URL(s);
    if (
      (u.protocol === 'http:' || u.protocol === 'https:') &&
      u.search === '' &&
      u.hash === '' &&
      u.username === ''
    )
      return s.replace(/\/+$/, '');
  } catch {
    // reported below
  }
  warn.add(label, `skipped: base URL "${s}" is not an http(s) URL without query or credentials`);
  return null;
}

function channelStatus(s: number): ChannelStatus {
  if (s === 2) return 'disabled';
  if (s === 3) return 'auto_disabled';
  return 'enabled';
}

function splitKeys(key: string): string[] {
  return key
    .split(/\r?\n/)
    .map((k) => k.trim())
    .filter((k) => k !== '');
}

function list(s: string): string[] {
  return [...new Set(s.split(',').map((x) => x.trim()))].filter((x) => x !== '');
}

function groupList(s: string, label: string, warn: Warnings): string[] {
  const out: string[] = [];
  for (const raw of list(s)) {
    const g = groupName(raw);
    if (g !== raw) warn.add(label, `group "${raw}" renamed to "${g}"`);
    if (!out.includes(g)) out.push(g);
  }
  return out.length > 0 ? out : ['default'];
}

function mapping(v: unknown, label: string, warn: Warnings): Record<string, string> {
  if (!meaningful(v)) return {};
  const o = jsonObject(v);
  if (o === undefined) {
    warn.add(label, 'model_mapping dropped (not a JSON object)');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [alias, upstream] of Object.entries(o)) {
    if (typeof upstream === 'string' && alias.trim() !== '' && upstream.trim() !== '')
      out[alias.trim()] = upstream.trim();
    else warn.add(label, `model_mapping entry "${alias}" dropped (not a model name)`);
  }
  return out;
}

function reportDropped(
  r: Row,
  other: string,
  used: ReadonlySet<string>,
  label: string,
  warn: Warnings,
): void {
  for (const col of DROPPED) if (meaningful(r[col])) warn.add(label, `${col} dropped`);
  if (r.auto_ban !== undefined && r.auto_ban !== null && num(r.auto_ban, 1) === 0)
    warn.add(label, 'auto_ban 0 dropped (BurnCloud always disables a key its upstream refuses)');
  if (other !== '' && !used.has('other')) warn.add(label, `other "${other}" dropped`);
  // JSON columns: One API's config, New API's setting (switches) and settings (ChannelOtherSettings)
  for (const col of ['config', 'setting', 'settings'] as const) {
    for (const [k, v] of Object.entries(jsonObject(r[col]) ?? {}))
      if (meaningful(v) && v !== false && v !== 0 && !used.has(`${col}.${k}`))
        warn.add(label, `${col}.${k} dropped`);
  }
}
