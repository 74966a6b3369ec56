/**
 * The shape of the SQLite tables as better-sqlite3 returns them (snake_case, JSON as text,
 * booleans as 0/1), and the column lists the INSERT and UPDATE statements are generated from.
 * Kept next to migrations.ts in spirit: a schema change edits both.
 */

export interface ChannelRow {
  id: number;
  name: string;
  type: string;
  base_url: string | null;
  models: string;
  map: string;
  groups: string;
  priority: number;
  weight: number;
  status: string;
  status_reason: string | null;
  secrets: string;
  timeout_ms: number;
  region: string | null;
  api_version: string | null;
  settings: string;
  created_at: string;
  updated_at: string;
}

export interface KeyRow {
  id: number;
  name: string;
  hash: string;
  prefix: string;
  group: string;
  budget: number | null;
  spent: number;
  expires_at: string | null;
  models: string;
  allow_ips: string;
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  status: string;
  user_id: number | null;
  created_at: string;
  last_used_at: string | null;
  strict_budget: number;
  scope: string;
  created_by: string;
}

export interface PriceRow {
  model: string;
  input: number;
  output: number;
  cache_read: number | null;
  cache_write: number | null;
  per_request: number | null;
  max_output_tokens: number | null;
  source: string;
}

export interface LogDbRow {
  id: number;
  request_id: string;
  time: string;
  key_name: string | null;
  key_id: number | null;
  channel_name: string | null;
  channel_id: number | null;
  model: string;
  upstream_model: string | null;
  endpoint: string;
  status: number;
  error: string | null;
  input_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost: number | null;
  usage_estimated: number;
  latency_ms: number;
  ttft_ms: number | null;
  retries: number;
  stream: number;
  dropped_fields: string;
  max_tokens_clamped: number | null;
}

export const CHANNEL_COLUMNS = [
  'name',
  'type',
  'base_url',
  'models',
  'map',
  'groups',
  'priority',
  'weight',
  'status',
  'status_reason',
  'secrets',
  'timeout_ms',
  'region',
  'api_version',
  'settings',
  'created_at',
  'updated_at',
] as const;

export const KEY_COLUMNS = [
  'name',
  'hash',
  'prefix',
  'group',
  'budget',
  'spent',
  'expires_at',
  'models',
  'allow_ips',
  'rpm',
  'tpm',
  'concurrency',
  'status',
  'user_id',
  'created_at',
  'last_used_at',
  'strict_budget',
  'scope',
  'created_by',
] as const;

export const PRICE_COLUMNS = [
  'model',
  'input',
  'output',
  'cache_read',
  'cache_write',
  'per_request',
  'max_output_tokens',
  'source',
] as const;

export const LOG_COLUMNS = [
  'request_id',
  'time',
  'key_name',
  'key_id',
  'channel_name',
  'channel_id',
  'model',
  'upstream_model',
  'endpoint',
  'status',
  'error',
  'input_tokens',
  'cached_tokens',
  'cache_write_tokens',
  'output_tokens',
  'reasoning_tokens',
  'cost',
  'usage_estimated',
  'latency_ms',
  'ttft_ms',
  'retries',
  'stream',
  'dropped_fields',
  'max_tokens_clamped',
] as const;
