/**
 * `bc import one-api` (SPEC section 11, TENANTS.md 5.11): the plan the CLI builds from a One API or
 * New API database and sends to the daemon (`POST /v1/import/one-api`), and the report the daemon
 * answers with. The CLI reads the source read-only and does every mapping (type ids, base URLs,
 * quota to micro-USD, statuses); the daemon only seals upstream secrets, hashes client secrets and
 * writes everything in one transaction, so `--dry-run` shows exactly what would be written without
 * a daemon. The plan is plain JSON. It holds plain upstream and client secrets (on their way over
 * the 0600 socket), so whatever prints it masks them first (`maskPlan`). Redemption codes are hashed
 * by the CLI already: the plain codes never leave it. Money is integer micro-USD, times ISO 8601 UTC.
 * Pure types and data: the CLI and the daemon import it.
 */
import type { ChannelStatus, ChannelType } from './control-api.js';

export const IMPORT_PLAN_VERSION = 1;

export type ImportFlavor = 'one-api' | 'new-api';
export const IMPORT_FLAVORS: readonly ImportFlavor[] = ['one-api', 'new-api'];

/** What `--only` selects, in the order the report lists them. */
export const IMPORT_KINDS = ['channels', 'keys', 'users', 'codes', 'prices', 'groups'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export type PricesMode = 'source' | 'keep';

export interface PlanChannel {
  /** the source row's id; more than one when `--merge-keys` merged siblings into this channel */
  source_ids: number[];
  name: string;
  type: ChannelType;
  /** null: the BurnCloud type's default base URL */
  base_url: string | null;
  /** plain upstream secrets, sealed by the daemon; never printed */
  keys: string[];
  /** per key (same order): why it is disabled, null when usable */
  key_disabled: (string | null)[];
  models: string[];
  map: Record<string, string>;
  groups: string[];
  priority: number;
  weight: number;
  region: string | null;
  api_version: string | null;
  status: ChannelStatus;
  status_reason: string | null;
  /** per-type extras kept beside the channel (e.g. `test_model`) */
  settings: Record<string, string>;
}

export interface PlanUser {
  source_id: number;
  name: string;
  group: string;
  status: 'enabled' | 'disabled';
  /** micro-USD converted from `quota`; null = unmetered (admins and root unless `--admins metered`) */
  balance: number | null;
  /** New API's unspent invitation rewards (`aff_quota`), micro-USD, added with a ledger row of its own */
  aff_balance: number;
  /** micro-USD converted from `used_quota` */
  spent: number;
  /** the inviter's source id */
  invited_by: number | null;
  referral_code: string | null;
  note: string | null;
  created_at: string | null;
}

export interface PlanKey {
  source_id: number;
  /** the owner's source id: the daemon maps it to the imported user */
  user_source_id: number;
  /** the part after `user/` */
  token_name: string;
  /** `<user>/<token name>` as planned (the daemon renames on a clash with what it already holds) */
  name: string;
  /** `sk-<key>`: hashed by the daemon, never stored or printed */
  secret: string;
  /** display prefix, `sk-` and the key's first 4 characters */
  prefix: string;
  budget: number | null;
  spent: number;
  expires_at: string | null;
  models: string[];
  allow_ips: string[];
  status: 'enabled' | 'disabled';
  created_at: string | null;
}

export interface PlanCode {
  source_id: number;
  /** hashCode() of the code as One API issued it (shared/redeem-code.ts) */
  hash: string;
  prefix: string;
  batch: string | null;
  amount: number;
  status: 'active' | 'revoked';
  /** redeemed in the source: imported as history, uses = max_uses = 1 */
  used: boolean;
  /** New API's `used_user_id` (a source user id), for the redemption row */
  used_by: number | null;
  used_at: string | null;
  expires_at: string | null;
  created_at: string | null;
}

/** micro-USD per 1M tokens, per request for `per_request` */
export interface PlanPrice {
  model: string;
  input: number;
  /** null: the source has no completion ratio; the daemon uses the catalog's output/input ratio, else 1 */
  output: number | null;
  cache_read: number | null;
  cache_write: number | null;
  per_request: number | null;
}

export interface PlanGroup {
  name: string;
  ratio: number;
}

export interface ImportPlan {
  version: typeof IMPORT_PLAN_VERSION;
  /** `one-api:<sha256(absolute path)[:12]>`: import_map rows are keyed by it */
  source: string;
  path: string;
  flavor: ImportFlavor;
  quota_per_unit: number;
  prices_mode: PricesMode;
  only: ImportKind[];
  channels: PlanChannel[];
  users: PlanUser[];
  keys: PlanKey[];
  codes: PlanCode[];
  prices: PlanPrice[];
  groups: PlanGroup[];
  /** source rows the plan leaves out, per kind */
  skipped: Record<ImportKind, number>;
  /** channels of types BurnCloud does not speak, by the source's type name */
  skipped_channel_types: Record<string, number>;
  /** rows of tables nothing is imported from (logs, top-ups, ...) */
  not_imported: Record<string, number>;
  /** One API's invitation amounts as a `bc tenant settings ...` line; nothing is applied */
  suggested_settings: string | null;
  warnings: string[];
}

export interface ImportCounts {
  imported: number;
  skipped: number;
  /** found in import_map: brought over by an earlier run */
  already: number;
}

export interface ImportReport {
  source: string;
  path: string;
  flavor: ImportFlavor;
  quota_per_unit: number;
  /** true: nothing was written; `imported` counts what would be */
  dry_run: boolean;
  counts: Record<ImportKind, ImportCounts>;
  skipped_channel_types: Record<string, number>;
  not_imported: Record<string, number>;
  suggested_settings: string | null;
  warnings: string[];
}

export function emptyKindCounts(): Record<ImportKind, number> {
  return { channels: 0, keys: 0, users: 0, codes: 0, prices: 0, groups: 0 };
}

/** `sk-...a1b2`, like the daemon shows secrets; short ones keep only their last 2 characters. */
function mask(secret: string): string {
  return secret.length < 12 ? `...${secret.slice(-2)}` : `${secret.slice(0, 3)}...${secret.slice(-4)}`;
}

/** The plan with every secret masked, for `--dry-run` output. */
export function maskPlan(plan: ImportPlan): ImportPlan {
  return {
    ...plan,
    channels: plan.channels.map((c) => ({ ...c, keys: c.keys.map(mask) })),
    keys: plan.keys.map((k) => ({ ...k, secret: mask(k.secret) })),
  };
}

/** The report of a plan not applied: what would be imported, and what the plan leaves out. */
export function dryRunReport(plan: ImportPlan): ImportReport {
  const counts = {} as Record<ImportKind, ImportCounts>;
  for (const kind of IMPORT_KINDS) {
    counts[kind] = { imported: plan[kind].length, skipped: plan.skipped[kind], already: 0 };
  }
  return {
    source: plan.source,
    path: plan.path,
    flavor: plan.flavor,
    quota_per_unit: plan.quota_per_unit,
    dry_run: true,
    counts,
    skipped_channel_types: plan.skipped_channel_types,
    not_imported: plan.not_imported,
    suggested_settings: plan.suggested_settings,
    warnings: plan.warnings,
  };
}
