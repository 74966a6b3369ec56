/**
 * Validation of everything the control API accepts: channel, key, price and group input, and
 * the log and usage queries. Pure functions from untrusted JSON to typed, normalised values (with
 * defaults applied on create); each failure is a 400 BcError naming the field. Channel rules live
 * in validate-channel.ts, key rules in validate-key.ts and query rules in validate-query.ts; this
 * module is the one entry.
 */
import type { LogQuery, UsageDimension } from '../../shared/control-api.js';
import type { GroupRecord, PriceRecord } from '../store/types.js';
import * as f from './validate-fields.js';

export {
  DEFAULT_BEDROCK_REGION,
  DEFAULT_GROUP,
  DEFAULT_TIMEOUT_MS,
  isBedrockSecret,
  validateChannelCreate,
  validateChannelEdit,
  type ChannelBasis,
  type ChannelFields,
} from './validate-channel.js';
export { groupName } from './validate-fields.js';
export { validateKeyCreate, validateKeyEdit, validateKeyOwner, type KeyFields } from './validate-key.js';

const PRICE_FIELDS = [
  'input',
  'output',
  'cache_read',
  'cache_write',
  'per_request',
  'max_output_tokens',
] as const;

/** A price override (`bc price set`): micro-USD per 1M tokens (per request for per_request). */
export function validatePrice(model: unknown, body: unknown): PriceRecord {
  const name = f.text(model, 'model');
  const o = f.bodyObject(body, PRICE_FIELDS);
  const price = (k: string): number => {
    if (!f.has(o, k)) throw f.invalid(k, 'is required (micro-USD per 1M tokens)');
    return f.integer(o[k], k, { min: 0 });
  };
  const optional = (k: string): number | null => (f.has(o, k) ? f.limit(o[k], k) : null);
  const maxOut =
    f.has(o, 'max_output_tokens') && o.max_output_tokens !== null
      ? f.integer(o.max_output_tokens, 'max_output_tokens', { min: 1 })
      : null;
  return {
    model: name,
    input: price('input'),
    output: price('output'),
    cacheRead: optional('cache_read'),
    cacheWrite: optional('cache_write'),
    perRequest: optional('per_request'),
    maxOutputTokens: maxOut,
    source: 'override',
  };
}

export function validateGroup(name: unknown, body: unknown): GroupRecord {
  const o = f.bodyObject(body, ['ratio']);
  const ratio = o.ratio;
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio <= 0) {
    throw f.invalid('ratio', 'must be a positive number');
  }
  return { name: f.groupName(name), ratio };
}

export function validateTestBody(body: unknown): { model?: string } {
  const o = f.bodyObject(body, ['model']);
  return f.has(o, 'model') ? { model: f.text(o.model, 'model') } : {};
}

/** An id (digits) or a unique name, as in `/v1/channels/:id`. */
export function parseRef(raw: string): number | string {
  const s = raw.trim();
  if (s === '') throw f.invalid('id', 'must be an id or a name');
  return /^\d+$/.test(s) ? Number(s) : s;
}

export { DEFAULT_LOG_LIMIT, sinceTime, validateLogQuery, validateUsageQuery } from './validate-query.js';
export type { LogQuery, UsageDimension };
