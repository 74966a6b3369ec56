/**
 * Users, tokens and redemption codes of a One API / New API database as BurnCloud users, keys
 * and codes (TENANTS.md 3.3, 5.11). Quota becomes micro-USD through quotaToMicro; a token's cap is
 * what it had left plus what it used (BurnCloud's budget is a cap, One API's remain_quota what is
 * left); statuses follow 5.11. Deleted users are skipped, and so are their tokens. Codes are hashed
 * here (shared/redeem-code.ts), so the plain codes never leave the CLI. Pure: rows in, plan entries
 * out, every field that cannot be carried named in the warnings.
 */
import { isIP } from 'node:net';
import type { ImportFlavor, PlanCode, PlanKey, PlanUser } from '../../shared/import-plan.js';
import { codePrefix, hashCode } from '../../shared/redeem-code.js';
import {
  entityName,
  groupName,
  meaningful,
  quotaToMicro,
  uniqueName,
  userName,
  Warnings,
} from './plan-util.js';
import { bool, num, present, str, unixTime, type Row } from './read.js';

export interface TenantOptions {
  quotaPerUnit: number;
  /** `--admins metered`: admins and root keep their (converted) balance */
  meterAdmins: boolean;
  skipUsedCodes: boolean;
}

export interface UsersPlanned {
  users: PlanUser[];
  skipped: number;
}

const ADMIN_ROLE = 10;
const ROOT_ROLE = 100;
/** BurnCloud's referral codes: 8 Crockford base32 characters. */
const REFERRAL_CODE = /^[0-9A-HJKMNP-TV-Z]{8}$/;

function deleted(r: Row): boolean {
  return present(r.deleted_at) || num(r.status, 1) === 3;
}

export function planUsers(rows: readonly Row[], opts: TenantOptions, warn: Warnings): UsersPlanned {
  const out: UsersPlanned = { users: [], skipped: 0 };
  const taken = new Set<string>();
  let affDropped = 0;
  for (const r of rows) {
    if (deleted(r)) {
      out.skipped++;
      continue;
    }
    const id = num(r.id);
    const raw = str(r.username);
    const label = `user "${raw}" (#${id})`;
    const clean = userName(raw, id);
    const name = uniqueName(clean, taken, `-${id}`);
    if (name !== raw) warn.add(label, `imported as "${name}"`);
    const rawGroup = str(r.group).trim();
    const group = groupName(rawGroup);
    if (rawGroup !== '' && group !== rawGroup) warn.add(label, `group "${rawGroup}" renamed to "${group}"`);
    const role = num(r.role, 1);
    const unmetered = role >= ADMIN_ROLE && !opts.meterAdmins;
    const aff = num(r.aff_quota, 0);
    if (aff > 0 && unmetered) warn.add(label, 'aff_quota dropped (an unmetered admin has no balance)');
    const code = str(r.aff_code).trim();
    const referral = REFERRAL_CODE.test(code) ? code : null;
    if (code !== '' && referral === null) affDropped++;
    out.users.push({
      source_id: id,
      name,
      group,
      status: num(r.status, 1) === 2 ? 'disabled' : 'enabled',
      balance: unmetered ? null : quotaToMicro(num(r.quota), opts.quotaPerUnit),
      aff_balance: aff > 0 && !unmetered ? quotaToMicro(aff, opts.quotaPerUnit) : 0,
      spent: quotaToMicro(num(r.used_quota), opts.quotaPerUnit),
      invited_by: num(r.inviter_id, 0) > 0 ? num(r.inviter_id) : null,
      referral_code: referral,
      note: userNote(r, role, unmetered),
      created_at: unixTime(r.created_at),
    });
  }
  if (affDropped > 0) {
    warn.add(
      'users',
      `aff_code dropped for ${affDropped} user(s): BurnCloud issues its own 8-character referral codes on first ask`,
    );
  }
  return out;
}

/** Display name and remark have no column of their own: they go into the note. */
function userNote(r: Row, role: number, unmetered: boolean): string | null {
  const parts: string[] = [];
  const display = str(r.display_name).trim();
  if (display !== '' && display !== str(r.username)) parts.push(display);
  if (meaningful(r.remark)) parts.push(str(r.remark).trim());
  if (unmetered)
    parts.push(role >= ROOT_ROLE ? 'root in the source: unmetered' : 'admin in the source: unmetered');
  return parts.length === 0 ? null : parts.join('; ').slice(0, 500);
}

export interface KeysPlanned {
  keys: PlanKey[];
  skipped: number;
}

export function planKeys(
  rows: readonly Row[],
  users: readonly PlanUser[],
  flavor: ImportFlavor,
  opts: TenantOptions,
  warn: Warnings,
): KeysPlanned {
  const out: KeysPlanned = { keys: [], skipped: 0 };
  const owners = new Map(users.map((u) => [u.source_id, u]));
  const taken = new Set<string>();
  let orphans = 0;
  for (const r of rows) {
    const id = num(r.id);
    const label = `token "${str(r.name)}" (#${id})`;
    const owner = owners.get(num(r.user_id));
    const key = str(r.key).trim();
    if (present(r.deleted_at)) {
      out.skipped++;
      continue;
    }
    if (owner === undefined) {
      orphans++;
      out.skipped++;
      continue;
    }
    if (key === '' || /\s/.test(key)) {
      warn.add(label, 'skipped: no usable key');
      out.skipped++;
      continue;
    }
    const tokenName = entityName(str(r.name), 'token', id, true);
    const name = uniqueName(`${owner.name}/${tokenName}`, taken, `-${id}`);
    const spent = quotaToMicro(num(r.used_quota), opts.quotaPerUnit);
    const status = num(r.status, 1);
    let budget: number | null = bool(r.unlimited_quota)
      ? null
      : Math.max(quotaToMicro(num(r.remain_quota) + num(r.used_quota), opts.quotaPerUnit), spent);
    // 4: exhausted; its cap is what it spent
    if (status === 4) budget = spent;
    const expiresAt = unixTime(r.expired_time);
    if (status < 1 || status > 4) warn.add(label, `status ${status} unknown: imported disabled`);
    const tokenGroup = str(r.group).trim();
    if (tokenGroup !== '' && tokenGroup !== owner.group)
      warn.add(label, `group "${tokenGroup}" dropped (a user's keys use the user's group "${owner.group}")`);
    out.keys.push({
      source_id: id,
      user_source_id: owner.source_id,
      token_name: tokenName,
      name,
      secret: `sk-${key}`,
      prefix: `sk-${key.slice(0, 4)}`,
      budget,
      spent,
      expires_at: expiresAt,
      models: tokenModels(r, flavor),
      allow_ips: allowIps(r, label, warn),
      // 3 (expired) keeps its past expiry and 4 (exhausted) its spent cap: both stay refused as before
      status: status === 1 || (status === 3 && expiresAt !== null) || status === 4 ? 'enabled' : 'disabled',
      created_at: unixTime(r.created_time),
    });
  }
  if (orphans > 0) warn.add('tokens', `${orphans} token(s) of deleted or missing users skipped`);
  return out;
}

function commaList(s: string): string[] {
  return [...new Set(s.split(',').map((x) => x.trim()))].filter((x) => x !== '');
}

/** One API: `models`; New API: `model_limits` when `model_limits_enabled`. */
function tokenModels(r: Row, flavor: ImportFlavor): string[] {
  if (flavor === 'new-api' || r.model_limits_enabled !== undefined) {
    return bool(r.model_limits_enabled) ? commaList(str(r.model_limits)) : [];
  }
  return commaList(str(r.models));
}

/** One API's `subnet` (commas), New API's `allow_ips` (lines); a bare address becomes /32 or /128. */
function allowIps(r: Row, label: string, warn: Warnings): string[] {
  const raw = `${str(r.subnet)}\n${str(r.allow_ips)}`;
  const out: string[] = [];
  for (const entry of raw.split(/[\s,]+/).filter((x) => x !== '')) {
    const [addr = '', bits, extra] = entry.split('/');
    const kind = isIP(addr);
    const max = kind === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
    if (kind === 0 || !bitsOk || extra !== undefined) {
      warn.add(label, `allow_ips entry "${entry}" dropped (not an address or CIDR block)`);
      continue;
    }
    const cidr = bits === undefined ? `${addr}/${max}` : entry;
    if (!out.includes(cidr)) out.push(cidr);
  }
  return out;
}

export interface CodesPlanned {
  codes: PlanCode[];
  skipped: number;
}

export function planCodes(rows: readonly Row[], opts: TenantOptions, warn: Warnings): CodesPlanned {
  const out: CodesPlanned = { codes: [], skipped: 0 };
  for (const r of rows) {
    const id = num(r.id);
    const code = str(r.key).trim();
    const label = `code "${codePrefix(code)}" (#${id})`;
    const status = num(r.status, 1);
    if (present(r.deleted_at) || (status === 3 && opts.skipUsedCodes)) {
      out.skipped++;
      continue;
    }
    const amount = quotaToMicro(num(r.quota), opts.quotaPerUnit);
    if (code === '' || amount <= 0 || status < 1 || status > 3) {
      warn.add(
        label,
        code === ''
          ? 'skipped: no code'
          : amount <= 0
            ? 'skipped: no amount'
            : `skipped: status ${status} unknown`,
      );
      out.skipped++;
      continue;
    }
    const batch = str(r.name).trim();
    const usedBy = num(r.used_user_id, 0);
    out.codes.push({
      source_id: id,
      hash: hashCode(code),
      prefix: codePrefix(code),
      batch: batch === '' ? null : batch.slice(0, 200),
      amount,
      status: status === 2 ? 'revoked' : 'active',
      used: status === 3,
      used_by: status === 3 && usedBy > 0 ? usedBy : null,
      used_at: status === 3 ? unixTime(r.redeemed_time) : null,
      expires_at: unixTime(r.expired_time),
      created_at: unixTime(r.created_time),
    });
  }
  return out;
}
