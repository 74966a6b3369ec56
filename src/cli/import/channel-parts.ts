/**
 * The channel columns whose import is more than a copy (TENANTS.md 3.1, 3.2): Azure deployments
 * (the model without its dots where the source removed them) and api-version, Bedrock credentials
 * packed in the key, the per-key states of New API multi-key channels, and `--merge-keys`, which
 * makes One API's one-channel-per-key siblings one multi-key channel. Pure.
 */
import type { ImportFlavor, PlanChannel } from '../../shared/import-plan.js';
import { NEW_API_AZURE_API_VERSION } from './channel-types.js';
import { meaningful, Warnings } from './plan-util.js';
import { jsonObject, num, str, type Row } from './read.js';

export function flavorName(flavor: ImportFlavor): string {
  return flavor === 'one-api' ? 'One API' : 'New API';
}

/** A `--map` entry per model: the deployment is the upstream model, without dots where the source removed them. */
export function azureDeployments(
  models: readonly string[],
  map: Record<string, string>,
  removeDots: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const alias of new Set([...models, ...Object.keys(map)])) {
    const upstream = map[alias] ?? alias;
    out[alias] = removeDots ? upstream.replace(/\./g, '') : upstream;
  }
  return out;
}

export function azureApiVersion(
  flavor: ImportFlavor,
  config: Record<string, unknown>,
  other: string,
): string | null {
  if (flavor === 'new-api') return other !== '' ? other : NEW_API_AZURE_API_VERSION;
  const v = str(config.api_version).trim();
  return v !== '' ? v : other !== '' ? other : null;
}

const AKID = /^[A-Z0-9]{16,128}$/;
const API_KEY = /^(ABSK|bedrock-api-key-)[A-Za-z0-9+/=._%-]{8,}$/;

/** `AK|SK|REGION` or `APIKEY|REGION` (One API also keeps them in config) -> `AK:SK` or the API key, and the region. */
export function bedrockKeys(
  keys: readonly string[],
  config: Record<string, unknown>,
  label: string,
  warn: Warnings,
): { keys: string[]; region: string | null } | undefined {
  const out: string[] = [];
  let region: string | null = null;
  const packed = keys.length > 0 ? keys : [''];
  for (const key of packed) {
    let parts = key.split('|').map((p) => p.trim());
    if (parts.length === 1 && meaningful(config.ak))
      parts = [str(config.ak), str(config.sk), str(config.region)];
    let secret: string | undefined;
    let r = '';
    if (parts.length === 3 && AKID.test(parts[0] ?? '') && /^\S{16,}$/.test(parts[1] ?? '')) {
      secret = `${parts[0]}:${parts[1]}`;
      r = parts[2] ?? '';
    } else if (parts.length === 2 && API_KEY.test(parts[0] ?? '')) {
      secret = parts[0];
      r = parts[1] ?? '';
    }
    if (secret === undefined || !/^[a-z0-9-]+$/i.test(r)) {
      warn.add(label, 'a key dropped: not AK|SK|REGION nor APIKEY|REGION');
      continue;
    }
    if (region !== null && region !== r)
      warn.add(label, `key region ${r} dropped: the channel uses ${region}`);
    region ??= r;
    out.push(secret);
  }
  return out.length === 0 ? undefined : { keys: out, region };
}

function objectOf(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Per key of a New API multi-key channel: why it is disabled, or null. */
export function multiKeyStates(r: Row, count: number, flavor: ImportFlavor): (string | null)[] {
  const states: (string | null)[] = Array.from({ length: count }, () => null);
  const info = jsonObject(r.channel_info);
  const statuses = objectOf(info?.multi_key_status_list);
  const reasons = objectOf(info?.multi_key_disabled_reason);
  for (const [i, s] of Object.entries(statuses)) {
    const idx = Number(i);
    if (!Number.isInteger(idx) || idx < 0 || idx >= count || num(s, 1) === 1) continue;
    const why = str(reasons[i]).trim();
    states[idx] =
      num(s) === 3
        ? `imported: auto-disabled in ${flavorName(flavor)}${why === '' ? '' : ` (${why})`}`
        : `imported: disabled in ${flavorName(flavor)}`;
  }
  return states;
}

/** `--merge-keys`: siblings alike in everything but the key become one multi-key channel. */
export function merge(channels: PlanChannel[]): PlanChannel[] {
  const bySignature = new Map<string, PlanChannel>();
  const out: PlanChannel[] = [];
  for (const c of channels) {
    const sig = JSON.stringify([
      c.name,
      c.type,
      c.base_url,
      c.models,
      c.groups,
      c.map,
      c.priority,
      c.region,
      c.api_version,
    ]);
    const first = bySignature.get(sig);
    if (first === undefined) {
      bySignature.set(sig, c);
      out.push(c);
      continue;
    }
    const reason = c.status === 'enabled' ? null : (c.status_reason ?? 'imported: disabled');
    first.source_ids.push(...c.source_ids);
    first.keys.push(...c.keys);
    first.key_disabled.push(...c.key_disabled.map((d) => d ?? reason));
    if (first.status !== 'enabled' && c.status === 'enabled') {
      // the merged channel serves while any sibling did; the siblings that did not keep their keys off
      const was = first.status_reason ?? 'imported: disabled';
      first.key_disabled = first.key_disabled.map((d, i) =>
        i < first.keys.length - c.keys.length ? (d ?? was) : d,
      );
      first.status = 'enabled';
      first.status_reason = null;
    }
  }
  return out;
}
