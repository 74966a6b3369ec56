/**
 * The one place where SQLite rows (snake_case columns, JSON text, 0/1 booleans) become the
 * camelCase records of store/types.ts and back. Every statement in the SQLite store binds the
 * parameter objects built here, so a column rename touches only this file, row-types.ts and the migrations.
 */
import { STORED_CHANNEL_COLUMNS, type StoredChannelFields } from '../../../shared/channel-fields.js';
import { fromColumn, toColumn, type StoredColumn } from '../../../shared/field-table.js';
import { KEY_FIELD_COLUMNS, type KeyFields } from '../../../shared/key-fields.js';
import type { ChannelStatus, KeyStatus, LogRow } from '../../../shared/control-api.js';
import type {
  ChannelRecord,
  ChannelSecret,
  KeyCreator,
  KeyRecord,
  KeyScope,
  NewLogRow,
  PriceRecord,
} from '../types.js';
import type { ChannelRow, KeyRow, LogDbRow, PriceRow } from './row-types.js';

export * from './row-types.js';

/** Named parameters for a statement: better-sqlite3 binds numbers, strings and null only. */
export type Params = Record<string, string | number | null>;

function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

/**
 * The fields of the shared tables (shared/channel-fields.ts, shared/key-fields.ts) each have a
 * column of their own: read and written by walking the table. The rest of a row (status, secrets,
 * settings, a key's hash and spend, times) is the store's own and stays explicit below.
 */
function fieldsFromRow<C extends string>(
  columns: readonly StoredColumn<string, C>[],
  r: Readonly<Record<C, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c.record] = fromColumn(c.as, r[c.column]);
  return out;
}

function fieldParams<R extends string>(
  columns: readonly StoredColumn<R>[],
  f: Readonly<Record<R, unknown>>,
): Params {
  const out: Params = {};
  for (const c of columns) out[c.column] = toColumn(c.as, f[c.record]);
  return out;
}

// our own rows, written by fieldParams: each column holds its field's type (type: a ChannelType)
const storedFromRow = (r: ChannelRow) => fieldsFromRow(STORED_CHANNEL_COLUMNS, r) as StoredChannelFields;
const keyFieldsFromRow = (r: KeyRow) => fieldsFromRow(KEY_FIELD_COLUMNS, r) as KeyFields;

export function channelFromRow(r: ChannelRow): ChannelRecord {
  return {
    id: r.id,
    ...storedFromRow(r),
    status: r.status as ChannelStatus,
    statusReason: r.status_reason,
    secrets: json<ChannelSecret[]>(r.secrets),
    settings: json<Record<string, unknown>>(r.settings),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function channelParams(c: Omit<ChannelRecord, 'id'> & { id?: number }): Params {
  return {
    id: c.id ?? null,
    ...fieldParams(STORED_CHANNEL_COLUMNS, c),
    status: c.status,
    status_reason: c.statusReason,
    // only the fields of ChannelSecret, so a caller's stray property can never reach the disk
    secrets: JSON.stringify(
      c.secrets.map((s) => ({ enc: s.enc, masked: s.masked, disabledReason: s.disabledReason })),
    ),
    settings: JSON.stringify(c.settings),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

export function keyFromRow(r: KeyRow): KeyRecord {
  return {
    id: r.id,
    ...keyFieldsFromRow(r),
    hash: r.hash,
    prefix: r.prefix,
    spent: r.spent,
    status: r.status as KeyStatus,
    userId: r.user_id,
    scope: r.scope as KeyScope,
    createdBy: r.created_by as KeyCreator,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  };
}

export function keyParams(k: Omit<KeyRecord, 'id'> & { id?: number }): Params {
  return {
    id: k.id ?? null,
    ...fieldParams(KEY_FIELD_COLUMNS, k),
    hash: k.hash,
    prefix: k.prefix,
    spent: k.spent,
    status: k.status,
    user_id: k.userId,
    scope: k.scope,
    created_by: k.createdBy,
    created_at: k.createdAt,
    last_used_at: k.lastUsedAt,
  };
}

export function priceFromRow(r: PriceRow): PriceRecord {
  return {
    model: r.model,
    input: r.input,
    output: r.output,
    cacheRead: r.cache_read,
    cacheWrite: r.cache_write,
    perRequest: r.per_request,
    maxOutputTokens: r.max_output_tokens,
    // overrides are stored as 'user', the value the table's CHECK has allowed since version 1
    source: 'override',
  };
}

export function priceParams(p: PriceRecord): Params {
  return {
    model: p.model,
    input: p.input,
    output: p.output,
    cache_read: p.cacheRead,
    cache_write: p.cacheWrite,
    per_request: p.perRequest,
    max_output_tokens: p.maxOutputTokens,
    source: 'user',
  };
}

export function logFromRow(r: LogDbRow): LogRow {
  return {
    id: r.id,
    request_id: r.request_id,
    time: r.time,
    key: r.key_name,
    key_id: r.key_id,
    channel: r.channel_name,
    channel_id: r.channel_id,
    model: r.model,
    upstream_model: r.upstream_model,
    endpoint: r.endpoint,
    status: r.status,
    error: r.error,
    input_tokens: r.input_tokens,
    cached_tokens: r.cached_tokens,
    cache_write_tokens: r.cache_write_tokens,
    output_tokens: r.output_tokens,
    reasoning_tokens: r.reasoning_tokens,
    cost: r.cost,
    usage_estimated: r.usage_estimated !== 0,
    latency_ms: r.latency_ms,
    ttft_ms: r.ttft_ms,
    retries: r.retries,
    stream: r.stream !== 0,
    dropped_fields: json<string[]>(r.dropped_fields),
    max_tokens_clamped: r.max_tokens_clamped,
  };
}

export function logParams(r: NewLogRow, time: string, cost: number | null): Params {
  return {
    request_id: r.request_id,
    time,
    key_name: r.key,
    key_id: r.key_id,
    channel_name: r.channel,
    channel_id: r.channel_id,
    model: r.model,
    upstream_model: r.upstream_model,
    endpoint: r.endpoint,
    status: r.status,
    error: r.error,
    input_tokens: r.input_tokens,
    cached_tokens: r.cached_tokens,
    cache_write_tokens: r.cache_write_tokens,
    output_tokens: r.output_tokens,
    reasoning_tokens: r.reasoning_tokens,
    cost,
    usage_estimated: r.usage_estimated ? 1 : 0,
    latency_ms: r.latency_ms,
    ttft_ms: r.ttft_ms,
    retries: r.retries,
    stream: r.stream ? 1 : 0,
    dropped_fields: JSON.stringify(r.dropped_fields),
    max_tokens_clamped: r.max_tokens_clamped ?? null,
  };
}

/**
 * The same values as logParams, positionally in LOG_COLUMNS order after the id: the journal's
 * batched apply binds these (no parameter object per row). A unit test keeps the two in step.
 */
export function logValues(
  id: number,
  r: NewLogRow,
  time: string,
  cost: number | null,
): (string | number | null)[] {
  return [
    id,
    r.request_id,
    time,
    r.key,
    r.key_id,
    r.channel,
    r.channel_id,
    r.model,
    r.upstream_model,
    r.endpoint,
    r.status,
    r.error,
    r.input_tokens,
    r.cached_tokens,
    r.cache_write_tokens,
    r.output_tokens,
    r.reasoning_tokens,
    cost,
    r.usage_estimated ? 1 : 0,
    r.latency_ms,
    r.ttft_ms,
    r.retries,
    r.stream ? 1 : 0,
    JSON.stringify(r.dropped_fields),
    r.max_tokens_clamped ?? null,
  ];
}

/** Column lists for INSERT statements, derived from the parameter builders' keys. */
export function insertSql(table: string, columns: readonly string[]): string {
  const cols = columns.map((c) => `"${c}"`).join(', ');
  const vals = columns.map((c) => `@${c}`).join(', ');
  return `INSERT INTO ${table} (${cols}) VALUES (${vals})`;
}

export function updateSql(table: string, columns: readonly string[], where: string): string {
  const sets = columns.map((c) => `"${c}" = @${c}`).join(', ');
  return `UPDATE ${table} SET ${sets} WHERE ${where}`;
}
