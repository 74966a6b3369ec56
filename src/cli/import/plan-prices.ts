/**
 * One API's ratios (the `options` rows, TENANTS.md 2.6) as BurnCloud price overrides and groups.
 * A model ratio r means r x $0.002 per 1K tokens at the default QuotaPerUnit, so the input price is
 * `r * 1e12 / QuotaPerUnit` micro-USD per 1M tokens (ratio 1 -> $2); the completion ratio
 * multiplies it for output, New API's cache ratios for cache reads and writes, and New API's fixed
 * ModelPrice is a per-request price. Only models the database has a ratio for are imported: the
 * anchors' defaults live in their code, not in the database. Invitation amounts become a suggested
 * `bc tenant settings` line. Pure.
 */
import type { PlanGroup, PlanPrice } from '../../shared/import-plan.js';
import { roundHalfUp } from '../../shared/money.js';
import { groupName, meaningful, quotaToMicro, scaled, Warnings } from './plan-util.js';
import { jsonObject, num } from './read.js';

export interface PricesPlanned {
  prices: PlanPrice[];
  skipped: number;
}

/** Families whose completion ratio New API fixes in code, ignoring the option (2.6). */
const NEW_API_LOCKED = [/^claude-/, /^o1/, /^o3/, /^gpt-5(?!\.)/];

function ratios(options: ReadonlyMap<string, string>, name: string, warn: Warnings): Map<string, number> {
  const out = new Map<string, number>();
  const raw = options.get(name);
  if (raw === undefined || !meaningful(raw)) return out;
  const o = jsonObject(raw);
  if (o === undefined) {
    warn.add(`option ${name}`, 'dropped (not a JSON object)');
    return out;
  }
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out.set(k, v);
    else warn.add(`option ${name}`, `entry "${k}" dropped (not a non-negative number)`);
  }
  return out;
}

export function planPrices(
  options: ReadonlyMap<string, string>,
  quotaPerUnit: number,
  newApi: boolean,
  warn: Warnings,
): PricesPlanned {
  const model = ratios(options, 'ModelRatio', warn);
  const completion = ratios(options, 'CompletionRatio', warn);
  const perCall = ratios(options, 'ModelPrice', warn);
  const cache = ratios(options, 'CacheRatio', warn);
  const cacheWrite = ratios(options, 'CreateCacheRatio', warn);
  const out: PricesPlanned = { prices: [], skipped: 0 };
  for (const name of [...new Set([...model.keys(), ...perCall.keys()])].sort()) {
    const label = `price "${name}"`;
    if (/\(\d+\)$/.test(name)) {
      warn.add(
        label,
        'skipped: a ratio for one channel type only; BurnCloud prices a model the same on every channel',
      );
      out.skipped++;
      continue;
    }
    if (name.trim() === '' || name.length > 200) {
      out.skipped++;
      continue;
    }
    const price = perCall.get(name);
    if (price !== undefined) {
      // New API bills a fixed price per call before looking at any ratio
      out.prices.push({
        model: name,
        input: 0,
        output: 0,
        cache_read: null,
        cache_write: null,
        per_request: roundHalfUp(price * 1e6),
      });
      continue;
    }
    const input = roundHalfUp(((model.get(name) ?? 0) * 1e12) / quotaPerUnit);
    const c = completion.get(name);
    if (c === undefined)
      warn.add(
        label,
        "no CompletionRatio: output priced at the catalog's output/input ratio for the model, else as input",
      );
    if (newApi && c !== undefined && NEW_API_LOCKED.some((re) => re.test(name)))
      warn.add(
        label,
        'New API ignores CompletionRatio for this family (a ratio fixed in its code): check the output price',
      );
    const cr = cache.get(name);
    const cw = cacheWrite.get(name);
    out.prices.push({
      model: name,
      input,
      output: c === undefined ? null : scaled(input, c),
      cache_read: cr === undefined ? null : scaled(input, cr),
      cache_write: cw === undefined ? null : scaled(input, cw),
      per_request: null,
    });
  }
  return out;
}

export interface GroupsPlanned {
  groups: PlanGroup[];
  skipped: number;
}

export function planGroups(options: ReadonlyMap<string, string>, warn: Warnings): GroupsPlanned {
  const out: GroupsPlanned = { groups: [], skipped: 0 };
  const seen = new Set<string>();
  for (const [raw, ratio] of ratios(options, 'GroupRatio', warn)) {
    const name = groupName(raw);
    if (name !== raw) warn.add(`group "${raw}"`, `renamed to "${name}"`);
    if (seen.has(name)) {
      warn.add(`group "${raw}"`, `skipped: "${name}" is imported already`);
      out.skipped++;
      continue;
    }
    seen.add(name);
    out.groups.push({ name, ratio });
  }
  for (const dropped of ['GroupGroupRatio', 'UserUsableGroups', 'TopupGroupRatio']) {
    if (meaningful(options.get(dropped)))
      warn.add(`option ${dropped}`, "dropped (BurnCloud prices a user-owned key by its user's group)");
  }
  return out;
}

/** micro-USD as a plain decimal USD amount for a command line: 1500000 -> "1.5". */
function usd(micro: number): string {
  const whole = Math.floor(micro / 1e6);
  const frac = String(micro % 1e6)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return frac === '' ? String(whole) : `${whole}.${frac}`;
}

/** QuotaForInvitee / QuotaForInviter as a `bc tenant settings` line; null when both are 0. */
export function suggestedSettings(
  options: ReadonlyMap<string, string>,
  quotaPerUnit: number,
  warn: Warnings,
): string | null {
  const invitee = quotaToMicro(Math.max(num(options.get('QuotaForInvitee'), 0), 0), quotaPerUnit);
  const inviter = quotaToMicro(Math.max(num(options.get('QuotaForInviter'), 0), 0), quotaPerUnit);
  if (num(options.get('QuotaForNewUser'), 0) > 0)
    warn.add(
      'option QuotaForNewUser',
      'dropped (BurnCloud has no open sign-up: a starting balance comes with an invitation)',
    );
  if (invitee <= 0 && inviter <= 0) return null;
  return `bc tenant settings --signup invite+referral --invitee-usd ${usd(invitee)} --inviter-usd ${usd(inviter)}`;
}
