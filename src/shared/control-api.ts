/**
 * The control plane's contract: every route on the Unix socket with its request and response
 * types. The daemon's control routes and the CLI/TUI client both import from here, so the two
 * ends cannot drift. JSON field names are those of SPEC section 12 (snake_case, money in integer
 * micro-USD, prices in micro-USD per 1M tokens, times ISO 8601 UTC, durations in ms).
 */

export const CHANNEL_TYPES = [
  'openai',
  'azure',
  'anthropic',
  'gemini',
  'bedrock',
  'qwen',
  'deepseek',
  'groq',
  'mistral',
  'openrouter',
  'xai',
  'together',
  'ollama',
  'vllm',
  'openai-compatible',
] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export type ChannelStatus = 'enabled' | 'disabled' | 'auto_disabled';
export type KeyStatus = 'enabled' | 'disabled' | 'revoked';

export interface ChannelView {
  id: number;
  name: string;
  type: ChannelType;
  base_url: string;
  models: string[];
  /** alias (what clients ask for) -> upstream model */
  map: Record<string, string>;
  groups: string[];
  priority: number;
  weight: number;
  status: ChannelStatus;
  status_reason: string | null;
  /** masked secrets, e.g. `sk-...a1b2` */
  keys: string[];
  cooldown_until: string | null;
  timeout_ms: number;
  region: string | null;
  api_version: string | null;
  created_at: string;
}

export interface ChannelInput {
  name?: string;
  type?: ChannelType;
  /** plain secrets; only ever sent to the daemon, never returned */
  keys?: string[];
  models?: string[];
  base_url?: string | null;
  map?: Record<string, string>;
  groups?: string[];
  priority?: number;
  weight?: number;
  timeout_ms?: number;
  region?: string | null;
  api_version?: string | null;
  disabled?: boolean;
}

export interface KeyView {
  id: number;
  name: string;
  prefix: string;
  group: string;
  /** micro-USD, null = unlimited */
  budget: number | null;
  /** micro-USD */
  spent: number;
  expires_at: string | null;
  models: string[];
  allow_ips: string[];
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  status: KeyStatus;
  /** refuses a request whose worst case does not fit instead of lowering its output limit */
  strict_budget: boolean;
  /** the owner's name (SPEC section 11), null for an operator's key */
  user: string | null;
  /** `relay` (model calls) or `account` (also manages the user's keys and redeems on /bc/v1/) */
  scope: 'relay' | 'account';
  /** `admin`, `self` (made by its user on /bc/v1/) or `import` */
  created_by: 'admin' | 'self' | 'import';
  created_at: string;
  last_used_at: string | null;
}

/** The answer to `key create` and `key rotate`: the only time the secret is shown. */
export interface KeyCreated extends KeyView {
  key: string;
}

export interface KeyInput {
  name?: string;
  group?: string;
  budget?: number | null;
  expires_at?: string | null;
  models?: string[];
  allow_ips?: string[];
  rpm?: number | null;
  tpm?: number | null;
  concurrency?: number | null;
  strict_budget?: boolean;
}

/**
 * A model's effective price. `bc price list` has one per model a channel serves (and per override):
 * `source` says where the price comes from, or `unpriced` (then every money field is null).
 */
export interface PriceView {
  model: string;
  /** micro-USD per 1M tokens */
  input: number | null;
  output: number | null;
  cache_read: number | null;
  cache_write: number | null;
  /** micro-USD per request */
  per_request: number | null;
  /** the model's output-token limit, used for budget reservations when max_tokens is absent */
  max_output_tokens: number | null;
  /** `override` (bc price set), `catalog@VERSION`, `supplement@DATE` (data/prices.json) or `unpriced` */
  source: string;
  /** long-context prices: each bills a whole request whose input tokens exceed `above_input_tokens` */
  tiers: PriceTierView[];
  /** the catalog model the name is priced as (catalog prices only) */
  catalog_model: string | null;
  /** the upstream model whose price applies to this alias, when it has none of its own */
  via: string | null;
  /** the channels that serve the model (empty for an override of a model no channel serves) */
  channels: string[];
}

export interface PriceTierView {
  above_input_tokens: number;
  input: number;
  output: number;
  cache_read: number | null;
  cache_write: number | null;
}

export interface PriceInput {
  input: number;
  output: number;
  cache_read?: number | null;
  cache_write?: number | null;
  per_request?: number | null;
  max_output_tokens?: number | null;
}

export interface GroupView {
  name: string;
  ratio: number;
}

export interface ModelView {
  model: string;
  channels: { id: number; name: string; type: ChannelType; upstream_model: string; status: ChannelStatus }[];
}

export interface LogRow {
  id: number;
  request_id: string;
  time: string;
  key: string | null;
  key_id: number | null;
  channel: string | null;
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
  /** micro-USD; null when the model is unpriced */
  cost: number | null;
  usage_estimated: boolean;
  latency_ms: number;
  ttft_ms: number | null;
  retries: number;
  stream: boolean;
  dropped_fields: string[];
  /** the output limit the key's budget lowered the request to (also sent as x-bc-max-tokens); null when not lowered */
  max_tokens_clamped: number | null;
}

export interface LogQuery {
  key?: string;
  /** a user's name or id: the rows of every key the user owns */
  user?: string;
  model?: string;
  channel?: string;
  errors?: boolean;
  limit?: number;
  /** only rows with id greater than this (used by `bc logs -f`) */
  after_id?: number;
  since?: string;
}

export type UsageDimension = 'model' | 'key' | 'channel' | 'user';

export interface UsageRow {
  /** the value of the --by dimension; also present under the dimension's own name */
  name: string;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  /** micro-USD of the priced requests; null when all the spend is on unpriced models */
  cost: number | null;
  /** requests that spent tokens on an unpriced model (their cost is unknown, not 0) */
  unpriced_requests: number;
  [dimension: string]: string | number | null;
}

export interface StatusView {
  pid: number;
  version: string;
  uptime_s: number;
  listen: string;
  socket: string;
  store: string;
  home: string;
  channels: number;
  keys: number;
  requests: number;
  /** null while the store records requests; else why it cannot (requests get 503 store_unavailable) */
  store_fault: { reason: string; since: string } | null;
  /** log lines dropped since start because the log could not be written (e.g. a full disk) */
  log_lines_dropped: number;
  /** the code of the last failed log write (ENOSPC...), null if none failed */
  log_error: string | null;
  /** with BC_REDIS only: `ok`, or why Redis cannot be used right now */
  redis?: string;
  /** with BC_REDIS only: every live node of the cluster (SPEC section 12 `node`) */
  nodes?: NodeView[];
  /** with `--workers N` only: which worker answered (`pid` above is the supervisor's) */
  worker?: { index: number; count: number; pid: number };
  /** the request log's size (cheap figures: see LogStats) */
  log?: LogStats;
}

/** The request log at a glance (`bc status`), read without scanning the table. */
export interface LogStats {
  /** rows in the log: exact up to 200,000 ids between the oldest and newest row, else the id span */
  rows: number;
  /** true when `rows` is the id span (an upper bound), not a count */
  rows_estimated: boolean;
  /** time of the oldest row, null when the log is empty */
  oldest: string | null;
  /** the store's size on disk: the SQLite file, or the PostgreSQL database */
  bytes: number;
}

/** `POST /v1/logs/prune`: delete (or with dry_run count) the rows older than `before`. */
export interface LogPruneRequest {
  /** ISO 8601 time: rows with an earlier time go */
  before: string;
  dry_run?: boolean;
  /** at most this many rows in this call (default 50,000): the CLI calls again while `more` */
  max_rows?: number;
}

export interface LogPruneResult {
  before: string;
  dry_run: boolean;
  /** rows deleted by this call (dry run: rows that would go) */
  deleted: number;
  /** dry run only: the oldest and newest time of the rows that would go */
  oldest?: string | null;
  newest?: string | null;
  /** rows older than `before` may remain: call again */
  more: boolean;
}

/** One live daemon of a cluster (SPEC section 12). */
export interface NodeView {
  node_id: string;
  host: string;
  pid: number;
  version: string;
  uptime_s: number;
  listen: string;
  requests: number;
}

export interface ChannelTestResult {
  ok: boolean;
  model: string;
  latency_ms: number;
  status: number | null;
  error: string | null;
}

/** Route table: method + path. Path parameters are `:id` (an id or a unique name). */
export const ROUTES = {
  status: 'GET /v1/status',
  reload: 'POST /v1/reload',
  shutdown: 'POST /v1/shutdown',
  channelList: 'GET /v1/channels',
  channelShow: 'GET /v1/channels/:id',
  channelAdd: 'POST /v1/channels',
  channelEdit: 'PATCH /v1/channels/:id',
  channelEnable: 'POST /v1/channels/:id/enable',
  channelDisable: 'POST /v1/channels/:id/disable',
  channelRemove: 'DELETE /v1/channels/:id',
  channelTest: 'POST /v1/channels/:id/test',
  keyList: 'GET /v1/keys',
  keyShow: 'GET /v1/keys/:id',
  keyCreate: 'POST /v1/keys',
  keyEdit: 'PATCH /v1/keys/:id',
  keyEnable: 'POST /v1/keys/:id/enable',
  keyDisable: 'POST /v1/keys/:id/disable',
  keyRevoke: 'POST /v1/keys/:id/revoke',
  keyRotate: 'POST /v1/keys/:id/rotate',
  priceList: 'GET /v1/prices',
  priceSet: 'PUT /v1/prices/:model',
  priceRemove: 'DELETE /v1/prices/:model',
  groupList: 'GET /v1/groups',
  groupSet: 'PUT /v1/groups/:name',
  models: 'GET /v1/models',
  logs: 'GET /v1/logs',
  logsExport: 'GET /v1/logs/export',
  logsPrune: 'POST /v1/logs/prune',
  usage: 'GET /v1/usage',
  metricsSnapshot: 'GET /v1/metrics/snapshot',
  metricsStream: 'GET /v1/metrics/stream',
  // tenants (SPEC section 11; shapes in tenant-api.ts)
  userList: 'GET /v1/users',
  userShow: 'GET /v1/users/:id',
  userCreate: 'POST /v1/users',
  userEdit: 'PATCH /v1/users/:id',
  userRemove: 'DELETE /v1/users/:id',
  userEnable: 'POST /v1/users/:id/enable',
  userDisable: 'POST /v1/users/:id/disable',
  userCredit: 'POST /v1/users/:id/credit',
  userLedger: 'GET /v1/users/:id/ledger',
  redeemCreate: 'POST /v1/redeem-codes',
  redeemList: 'GET /v1/redeem-codes',
  redeemShow: 'GET /v1/redeem-codes/:id',
  redeemRevoke: 'POST /v1/redeem-codes/:id/revoke',
  redeemRevokeBatch: 'POST /v1/redeem-codes/revoke',
  redeemUse: 'POST /v1/redeem',
  inviteCreate: 'POST /v1/invites',
  inviteList: 'GET /v1/invites',
  inviteShow: 'GET /v1/invites/:id',
  inviteRevoke: 'POST /v1/invites/:id/revoke',
  invitationList: 'GET /v1/invitations',
  tenantSettingsShow: 'GET /v1/tenant/settings',
  tenantSettingsSet: 'PUT /v1/tenant/settings',
  importOneApi: 'POST /v1/import/one-api',
} as const;
