/**
 * The tenant's own API on the gateway port (SPEC section 11, TENANTS.md 5.6): every `/bc/v1/`
 * route with its request and answer types, shared by the gateway's routes and `bc --gateway URL
 * --key KEY me ...`, so the two ends cannot drift. Field names are those of SPEC section 12
 * (money in integer micro-USD, times ISO 8601 UTC); a tenant's views leave out whatever would
 * show channels, upstream models or other users.
 */
import type { KeyView, LogRow, UsageRow } from './control-api.js';

/** Route table: method and path. `:id` is one of the caller's own keys, by id or name. */
export const SELF_ROUTES = {
  me: 'GET /bc/v1/me',
  usage: 'GET /bc/v1/me/usage',
  logs: 'GET /bc/v1/me/logs',
  ledger: 'GET /bc/v1/me/ledger',
  redeem: 'POST /bc/v1/me/redeem',
  keyList: 'GET /bc/v1/me/keys',
  keyCreate: 'POST /bc/v1/me/keys',
  keyEdit: 'PATCH /bc/v1/me/keys/:id',
  keyEnable: 'POST /bc/v1/me/keys/:id/enable',
  keyDisable: 'POST /bc/v1/me/keys/:id/disable',
  keyRevoke: 'POST /bc/v1/me/keys/:id/revoke',
  keyRotate: 'POST /bc/v1/me/keys/:id/rotate',
  referral: 'GET /bc/v1/me/referral',
  signup: 'POST /bc/v1/signup',
} as const;

/** `GET /bc/v1/me/referral` (signup `invite+referral` only): the user's code and what it brought. */
export interface ReferralView {
  /** the public referral code others sign up with */
  code: string;
  /** users who signed up with it */
  invited: number;
  /** of them, how many paid the inviter's reward */
  rewarded: number;
  /** waiting for their first paid credit */
  pending: number;
  /** micro-USD earned: rewards plus rebates */
  earned: number;
}

export type SelfRouteName = keyof typeof SELF_ROUTES;

/** `GET /bc/v1/me`: the calling key and the user who owns it. */
export interface MeView {
  user: {
    name: string;
    group: string;
    /** micro-USD left; null = unmetered */
    balance: number | null;
    spent: number;
    status: 'enabled' | 'disabled';
    rpm: number | null;
    tpm: number | null;
    concurrency: number | null;
  };
  key: {
    id: number;
    name: string;
    prefix: string;
    scope: 'relay' | 'account';
    /** micro-USD, null = no budget of its own */
    budget: number | null;
    spent: number;
    expires_at: string | null;
    /** empty: every model */
    models: string[];
  };
}

/** What `GET /bc/v1/me/usage?by=` sums over: no channel, and days instead of users. */
export type SelfUsageDimension = 'model' | 'key' | 'day';
export const SELF_USAGE_DIMENSIONS: readonly SelfUsageDimension[] = ['model', 'key', 'day'];

/** A usage row as `bc usage` has it (the dimension's value under `name` and its own name). */
export type SelfUsageRow = UsageRow;

/**
 * A log row as the tenant sees it: no channel, upstream model or retries, and `error` only the
 * failure's category (`upstream`, `rate_limit`, `quota`...).
 */
export type SelfLogRow = Omit<LogRow, 'channel' | 'channel_id' | 'upstream_model' | 'retries'>;

/** The fields a tenant may set on a key of their own (always scope relay, created by `self`). */
export interface SelfKeyInput {
  name?: string;
  /** micro-USD, null = none */
  budget?: number | null;
  expires_at?: string | null;
  /** only a narrowing of the calling key's own list, when it has one */
  models?: string[];
  allow_ips?: string[];
  /** at most the user's own cap, when the user has one */
  rpm?: number | null;
  tpm?: number | null;
  concurrency?: number | null;
  strict_budget?: boolean;
}

export const SELF_KEY_FIELDS: readonly (keyof SelfKeyInput)[] = [
  'name',
  'budget',
  'expires_at',
  'models',
  'allow_ips',
  'rpm',
  'tpm',
  'concurrency',
  'strict_budget',
];

/** `POST /bc/v1/me/keys` and `.../rotate`: the only time the secret is shown. */
export type SelfKeyCreated = KeyView & { key: string };
