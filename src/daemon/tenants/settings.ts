/**
 * Tenant-wide policy (`bc tenant settings`, TENANTS.md 5.2): one JSON document in bc_meta under
 * `tenant.settings`, merged over the defaults on every read so a field added later has its default
 * for a database written before it. Writes validate the whole result, so a stored document is
 * always complete and valid.
 */
import { BcError } from '../../shared/errors.js';
import {
  DEFAULT_TENANT_SETTINGS,
  type TenantSettings,
  type TenantSettingsInput,
} from '../../shared/tenant-api.js';
import type { Store } from '../store/types.js';

export const TENANT_SETTINGS_KEY = 'tenant.settings';

export async function readTenantSettings(store: Store): Promise<TenantSettings> {
  return parseTenantSettings(await store.getMeta(TENANT_SETTINGS_KEY));
}

/** The stored document (or null) over the defaults; synchronous, for a store inside a transaction. */
export function parseTenantSettings(raw: string | null): TenantSettings {
  if (raw === null) return structuredClone(DEFAULT_TENANT_SETTINGS);
  let stored: TenantSettingsInput;
  try {
    stored = JSON.parse(raw) as TenantSettingsInput;
  } catch {
    return structuredClone(DEFAULT_TENANT_SETTINGS);
  }
  return merge(DEFAULT_TENANT_SETTINGS, stored);
}

/** Applies a partial update and stores the result; throws INVALID_REQUEST naming the bad field. */
export async function writeTenantSettings(store: Store, input: unknown): Promise<TenantSettings> {
  const next = merge(await readTenantSettings(store), checkInput(input));
  await store.setMeta(TENANT_SETTINGS_KEY, JSON.stringify(next));
  return next;
}

function merge(base: TenantSettings, over: TenantSettingsInput): TenantSettings {
  return { ...base, ...over, referral: { ...base.referral, ...(over.referral ?? {}) } };
}

const invalid = (field: string, msg: string) =>
  new BcError('INVALID_REQUEST', `${field} ${msg}`, { param: field });

function count(v: unknown, field: string, max = 1_000_000_000): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
    throw invalid(field, `must be a whole number from 0 to ${max}`);
  return v;
}

function money(v: unknown, field: string): number {
  return count(v, field, Number.MAX_SAFE_INTEGER);
}

const REFERRAL_FIELDS: Record<keyof TenantSettings['referral'], (v: unknown, f: string) => unknown> = {
  invitee_amount: money,
  inviter_amount: money,
  reward_on: (v, f) => {
    if (v !== 'signup' && v !== 'first_credit') throw invalid(f, 'must be "signup" or "first_credit"');
    return v;
  },
  min_credit: money,
  inviter_max: (v, f) => count(v, f),
  inviter_daily_max: (v, f) => count(v, f),
  rebate_percent: (v, f) => count(v, f, 100),
  rebate_cap: money,
};

const TOP_FIELDS: Record<Exclude<keyof TenantSettings, 'referral'>, (v: unknown, f: string) => unknown> = {
  self_service: (v, f) => {
    if (typeof v !== 'boolean') throw invalid(f, 'must be true or false');
    return v;
  },
  signup: (v, f) => {
    if (v !== 'off' && v !== 'invite' && v !== 'invite+referral')
      throw invalid(f, 'must be "off", "invite" or "invite+referral"');
    return v;
  },
  default_max_keys: (v, f) => count(v, f, 100_000),
  signups_per_ip_per_day: (v, f) => count(v, f),
  signups_per_day: (v, f) => count(v, f),
  redeem_failures_per_10m: (v, f) => count(v, f),
};

function checkInput(input: unknown): TenantSettingsInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new BcError('INVALID_REQUEST', 'the request body must be a JSON object of settings');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    if (k === 'referral') {
      if (v === null || typeof v !== 'object' || Array.isArray(v))
        throw invalid('referral', 'must be an object');
      const r: Record<string, unknown> = {};
      for (const [rk, rv] of Object.entries(v as Record<string, unknown>)) {
        const check = REFERRAL_FIELDS[rk as keyof typeof REFERRAL_FIELDS];
        if (!check)
          throw invalid(
            `referral.${rk}`,
            `is not a known setting (known: ${Object.keys(REFERRAL_FIELDS).join(', ')})`,
          );
        r[rk] = check(rv, `referral.${rk}`);
      }
      out.referral = r;
      continue;
    }
    const check = TOP_FIELDS[k as keyof typeof TOP_FIELDS];
    if (!check)
      throw invalid(
        k,
        `is not a known setting (known: ${[...Object.keys(TOP_FIELDS), 'referral'].join(', ')})`,
      );
    out[k] = check(v, k);
  }
  return out;
}
