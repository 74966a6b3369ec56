/**
 * Validation of the query strings of `GET /v1/logs` and `GET /v1/usage`. Query values arrive as
 * strings (or lists when repeated); these functions turn them into LogQuery and a usage window,
 * or throw a 400 naming the parameter. `since` takes an ISO time or a duration back from now
 * (`90s`, `30m`, `24h`, `7d`), so scripts can use either.
 */
import type { LogQuery, UsageDimension } from '../../shared/control-api.js';
import * as f from './validate-fields.js';

const LOG_PARAMS = ['key', 'user', 'model', 'channel', 'errors', 'limit', 'after_id', 'since'] as const;
const USAGE_DIMENSIONS: readonly UsageDimension[] = ['model', 'key', 'channel', 'user'];
const DEFAULT_USAGE_WINDOW_MS = 24 * 3600_000;
const MAX_LOG_LIMIT = 10_000;
export const DEFAULT_LOG_LIMIT = 100;

export function validateLogQuery(query: unknown): LogQuery {
  const q = queryObject(query, LOG_PARAMS);
  const out: LogQuery = { limit: DEFAULT_LOG_LIMIT };
  for (const k of ['key', 'user', 'model', 'channel'] as const)
    if (q[k] !== undefined) out[k] = f.text(q[k], k);
  if (q.errors !== undefined) out.errors = flag(q.errors, 'errors');
  if (q.limit !== undefined) out.limit = intParam(q.limit, 'limit', 1, MAX_LOG_LIMIT);
  if (q.after_id !== undefined) out.after_id = intParam(q.after_id, 'after_id', 0, Number.MAX_SAFE_INTEGER);
  if (q.since !== undefined) out.since = sinceTime(q.since, Date.now());
  return out;
}

export function validateUsageQuery(query: unknown, now = Date.now()): { by: UsageDimension; since: string } {
  const q = queryObject(query, ['by', 'since']);
  let by: UsageDimension = 'model';
  if (q.by !== undefined) {
    if (!(USAGE_DIMENSIONS as readonly string[]).includes(q.by))
      throw f.invalid('by', `must be one of ${USAGE_DIMENSIONS.join(', ')}`);
    by = q.by as UsageDimension;
  }
  const since =
    q.since !== undefined ? sinceTime(q.since, now) : new Date(now - DEFAULT_USAGE_WINDOW_MS).toISOString();
  return { by, since };
}

/** An ISO time, or a duration before `now` such as 24h. */
export function sinceTime(value: string, now: number): string {
  const m = /^(\d+)\s*(s|m|h|d|w)$/.exec(value.trim());
  if (m) {
    const unit = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000, w: 604_800_000 }[
      m[2] as 's' | 'm' | 'h' | 'd' | 'w'
    ];
    return new Date(now - Number(m[1]) * unit).toISOString();
  }
  try {
    return f.isoTime(value, 'since');
  } catch {
    throw f.invalid('since', 'must be an ISO 8601 time or a duration such as 30m, 24h, 7d');
  }
}

export function queryObject<K extends string>(
  query: unknown,
  allowed: readonly K[],
): Partial<Record<K, string>> {
  const raw = query === undefined || query === null ? {} : (query as Record<string, unknown>);
  const out: Partial<Record<K, string>> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(allowed as readonly string[]).includes(k))
      throw f.invalid(k, `is not a known parameter (known: ${allowed.join(', ')})`);
    if (typeof v !== 'string') throw f.invalid(k, 'must be given once');
    out[k as K] = v;
  }
  return out;
}

export function flag(value: string, field: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === '1' || v === 'true' || v === '' || v === 'yes') return true;
  if (v === '0' || v === 'false' || v === 'no') return false;
  throw f.invalid(field, 'must be 1 or 0');
}

function intParam(value: string, field: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw f.invalid(field, 'must be a whole number');
  const n = Number(value.trim());
  if (n < min || n > max) throw f.invalid(field, `must be between ${min} and ${max}`);
  return n;
}
