/**
 * The import plan of a One API / New API database (SPEC section 11, TENANTS.md 5.11): what
 * `bc import one-api` shows with `--dry-run` and otherwise sends to the daemon. buildPlan is pure
 * over what read.ts read; planFromFile reads and plans. `--only` leaves kinds out of the plan, but
 * users are always planned, because a key's name and owner come from its user.
 */
import {
  emptyKindCounts,
  IMPORT_KINDS,
  IMPORT_PLAN_VERSION,
  type ImportFlavor,
  type ImportKind,
  type ImportPlan,
  type PricesMode,
} from '../../shared/import-plan.js';
import { planChannels } from './plan-channels.js';
import { planGroups, planPrices, suggestedSettings } from './plan-prices.js';
import { planCodes, planKeys, planUsers } from './plan-tenants.js';
import { DEFAULT_QUOTA_PER_UNIT, Warnings } from './plan-util.js';
import { readSource, type SourceData } from './read.js';

export interface PlanOptions {
  flavor?: ImportFlavor;
  only?: readonly ImportKind[];
  quotaPerUnit?: number;
  mergeKeys?: boolean;
  prices?: PricesMode;
  admins?: 'unmetered' | 'metered';
  skipUsedCodes?: boolean;
}

/** `--quota-per-unit`, else the source's QuotaPerUnit option, else One API's default 500000. */
function quotaPerUnit(src: SourceData, given: number | undefined, warn: Warnings): number {
  if (given !== undefined) return given;
  const raw = src.options.get('QuotaPerUnit');
  if (raw === undefined || raw.trim() === '') return DEFAULT_QUOTA_PER_UNIT;
  const n = Number(raw);
  if (Number.isFinite(n) && n > 0) return n;
  warn.add('option QuotaPerUnit', `"${raw}" is not a positive number: ${DEFAULT_QUOTA_PER_UNIT} used`);
  return DEFAULT_QUOTA_PER_UNIT;
}

export function buildPlan(src: SourceData, opts: PlanOptions = {}): ImportPlan {
  const warn = new Warnings();
  const only = new Set<ImportKind>(opts.only ?? IMPORT_KINDS);
  if (src.flavor !== src.detected)
    warn.add('source', `looks like ${src.detected}, read as ${src.flavor} (--flavor)`);
  const qpu = quotaPerUnit(src, opts.quotaPerUnit, warn);
  const tenantOpts = {
    quotaPerUnit: qpu,
    meterAdmins: opts.admins === 'metered',
    skipUsedCodes: opts.skipUsedCodes === true,
  };
  const skipped = emptyKindCounts();
  const plan: ImportPlan = {
    version: IMPORT_PLAN_VERSION,
    source: src.source,
    path: src.path,
    flavor: src.flavor,
    quota_per_unit: qpu,
    prices_mode: opts.prices ?? 'source',
    only: IMPORT_KINDS.filter((k) => only.has(k)),
    channels: [],
    users: [],
    keys: [],
    codes: [],
    prices: [],
    groups: [],
    skipped,
    skipped_channel_types: {},
    not_imported: src.notImported,
    suggested_settings: null,
    warnings: warn.lines,
  };
  if (only.has('channels')) {
    const c = planChannels(src.channels.rows, src.flavor, opts.mergeKeys === true, warn);
    plan.channels = c.channels;
    skipped.channels = c.skipped;
    plan.skipped_channel_types = c.skippedTypes;
  }
  // keys need their users' names and groups, so users are planned whatever --only says
  const needUsers = only.has('users') || only.has('keys');
  const users = needUsers
    ? planUsers(src.users.rows, tenantOpts, only.has('users') ? warn : new Warnings())
    : undefined;
  if (users !== undefined && only.has('users')) {
    plan.users = users.users;
    skipped.users = users.skipped;
  }
  if (users !== undefined && only.has('keys')) {
    const k = planKeys(src.tokens.rows, users.users, src.flavor, tenantOpts, warn);
    plan.keys = k.keys;
    skipped.keys = k.skipped;
  }
  if (only.has('codes')) {
    const c = planCodes(src.redemptions.rows, tenantOpts, warn);
    plan.codes = c.codes;
    skipped.codes = c.skipped;
  }
  if (only.has('prices')) {
    const p = planPrices(src.options, qpu, src.flavor === 'new-api', warn);
    plan.prices = p.prices;
    skipped.prices = p.skipped;
  }
  if (only.has('groups')) {
    const g = planGroups(src.options, warn);
    plan.groups = g.groups;
    skipped.groups = g.skipped;
  }
  if (only.has('users')) plan.suggested_settings = suggestedSettings(src.options, qpu, warn);
  return plan;
}

export function planFromFile(file: string, opts: PlanOptions = {}): ImportPlan {
  return buildPlan(readSource(file, opts.flavor), opts);
}
