/**
 * Validation of channel input (`POST /v1/channels`, `PATCH /v1/channels/:id`): pure functions
 * from untrusted JSON to typed values, defaults applied on create, cross-field rules checked on
 * the merged channel on edit. The fields, their wire and record names and their defaults come from
 * the shared table (shared/channel-fields.ts); this module adds each field's parser. Per-type rules
 * (which types need a base URL, which need a region, how Bedrock credentials look) are data tables
 * here, so no other file branches on a type.
 */
import {
  CHANNEL_FIELDS,
  CHANNEL_WIRES,
  channelDefaults,
  type ChannelFields,
  type ChannelValue,
  type ChannelWire,
} from '../../shared/channel-fields.js';
import { CHANNEL_TYPES, type ChannelType } from '../../shared/control-api.js';
import { BcError } from '../../shared/errors.js';
import * as f from './validate-fields.js';

export { DEFAULT_GROUP, DEFAULT_TIMEOUT_MS, type ChannelFields } from '../../shared/channel-fields.js';
export const DEFAULT_BEDROCK_REGION = 'us-east-1';

/** Types without a usable default base URL: the user must say where the server is. */
const BASE_URL_REQUIRED: ReadonlySet<ChannelType> = new Set(['azure', 'openai-compatible']);
/** Types whose requests need a region (and default to this one). */
const DEFAULT_REGION: Partial<Record<ChannelType, string>> = { bedrock: DEFAULT_BEDROCK_REGION };
/** Types whose secrets have a required shape. */
const SECRET_RULES: Partial<Record<ChannelType, { test: (s: string) => boolean; hint: string }>> = {
  bedrock: {
    test: isBedrockSecret,
    hint: 'must be ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN] or a Bedrock API key (ABSK... or bedrock-api-key-...)',
  },
};

/**
 * The parser of each field of the table (shared/channel-fields.ts), given the untrusted value and
 * the field's wire name for its messages; a field missing here is a compile error.
 */
const PARSE: { readonly [W in ChannelWire]: (value: unknown, field: W) => ChannelValue<W> } = {
  name: (v) => f.entityName(v),
  type: channelType,
  keys: secretList,
  models: (v, field) => f.textList(v, field),
  base_url: (v, field) => (v === null ? null : f.httpUrl(v, field)),
  map: (v, field) => f.textMap(v, field),
  groups: groupList,
  priority: (v, field) => f.integer(v, field),
  weight: (v, field) => f.integer(v, field, { min: 1, max: 1_000_000 }),
  timeout_ms: (v, field) => f.integer(v, field, { min: 1, max: 3_600_000 }),
  region,
  api_version: (v, field) => f.nullableText(v, field, 64),
  disabled: (v, field) => f.bool(v, field),
};

export function validateChannelCreate(body: unknown): ChannelFields {
  const given = readChannelFields(f.bodyObject(body, CHANNEL_WIRES));
  if (given.name === undefined) throw f.invalid('name', 'is required');
  if (given.type === undefined) throw f.invalid('type', `is required (one of ${CHANNEL_TYPES.join(', ')})`);
  const defaults = channelDefaults();
  const merged: ChannelFields = {
    ...defaults,
    ...given,
    name: given.name,
    type: given.type,
    // a type's own region (Bedrock's) comes before the table's default, even over an explicit null
    region: given.region ?? DEFAULT_REGION[given.type] ?? defaults.region,
  };
  checkChannel(merged, true);
  return merged;
}

/** The channel as stored, as far as the cross-field rules need it. */
export type ChannelBasis = Pick<ChannelFields, 'type' | 'models' | 'map' | 'baseUrl' | 'region'>;

/** Validates a PATCH against the current channel; returns only the fields to change. */
export function validateChannelEdit(body: unknown, current: ChannelBasis): Partial<ChannelFields> {
  const given = readChannelFields(f.bodyObject(body, CHANNEL_WIRES));
  if (Object.keys(given).length === 0)
    throw new BcError('INVALID_REQUEST', 'nothing to change: give at least one field');
  const type = given.type ?? current.type;
  if (
    given.type !== undefined &&
    given.type !== current.type &&
    given.region === undefined &&
    current.region === null
  ) {
    const region = DEFAULT_REGION[type];
    if (region !== undefined) given.region = region;
  }
  checkChannel(
    {
      type,
      keys: given.keys,
      models: given.models ?? current.models,
      map: given.map ?? current.map,
      baseUrl: given.baseUrl === undefined ? current.baseUrl : given.baseUrl,
    },
    false,
  );
  return given;
}

function readChannelFields(o: f.Json): Partial<ChannelFields> {
  const out: Record<string, unknown> = {};
  for (const w of CHANNEL_WIRES) if (f.has(o, w)) out[CHANNEL_FIELDS[w].record] = parseField(w, o[w]);
  // each value was parsed by its field's parser and stored under that field's record name
  return out;
}

function parseField<W extends ChannelWire>(w: W, value: unknown): ChannelValue<W> {
  return PARSE[w](value, w);
}

interface CrossCheck {
  type: ChannelType;
  /** undefined on edit when the secrets are not being replaced */
  keys: string[] | undefined;
  models: string[];
  map: Record<string, string>;
  baseUrl: string | null;
}

function checkChannel(c: CrossCheck, creating: boolean): void {
  if (c.baseUrl === null && BASE_URL_REQUIRED.has(c.type)) {
    throw f.invalid('base_url', `is required for type ${c.type} (it has no default)`);
  }
  if (c.models.length === 0 && Object.keys(c.map).length === 0) {
    throw f.invalid('models', 'must list at least one model (or give a map of alias to upstream model)');
  }
  if (c.keys !== undefined && c.keys.length === 0) {
    throw f.invalid(
      'keys',
      'must hold at least one secret (for a server without auth, any placeholder such as "none")',
    );
  }
  if (creating && c.keys === undefined) throw f.invalid('keys', 'is required');
  const rule = SECRET_RULES[c.type];
  c.keys?.forEach((k, i) => {
    if (rule !== undefined && !rule.test(k)) throw f.invalid(`keys[${i}]`, `${rule.hint} for type ${c.type}`);
  });
}

function channelType(value: unknown): ChannelType {
  if (typeof value !== 'string' || !(CHANNEL_TYPES as readonly string[]).includes(value)) {
    throw f.invalid('type', `must be one of ${CHANNEL_TYPES.join(', ')}`);
  }
  return value as ChannelType;
}

/** Secrets go into HTTP headers: no whitespace inside. Never echoed back in an error. */
function secretList(value: unknown): string[] {
  if (!Array.isArray(value)) throw f.invalid('keys', 'must be a list of strings');
  return value.map((v, i) => {
    if (typeof v !== 'string' || v.trim() === '') throw f.invalid(`keys[${i}]`, 'must be a non-empty string');
    const s = v.trim();
    if (/\s/.test(s)) throw f.invalid(`keys[${i}]`, 'must not contain whitespace');
    if (s.length > 8192) throw f.invalid(`keys[${i}]`, 'is too long');
    return s;
  });
}

export function isBedrockSecret(s: string): boolean {
  if (!s.includes(':')) return /^(ABSK|bedrock-api-key-)[A-Za-z0-9+/=._%-]{8,}$/.test(s);
  const [akid = '', secret = '', token, ...rest] = s.split(':');
  return rest.length === 0 && /^[A-Z0-9]{16,128}$/.test(akid) && /^\S{16,}$/.test(secret) && token !== '';
}

function region(value: unknown): string | null {
  if (value === null) return null;
  const s = f.text(value, 'region', 64);
  if (!/^[a-z0-9-]+$/i.test(s)) throw f.invalid('region', `must look like us-east-1, got "${s}"`);
  return s;
}

function groupList(value: unknown): string[] {
  const list = f.textList(value, 'groups', 64);
  list.forEach((g, i) => f.groupName(g, `groups[${i}]`));
  return list;
}
