/**
 * What the import planners share: the quota-to-money conversion, name and group clean-up to
 * BurnCloud's rules (with the rename reported), unique names, and the warnings list, whose lines
 * name the entity the way the report prints it: `channel "azure-east" (#12): ... dropped`.
 */
import { roundHalfUp } from '../../shared/money.js';
import { str } from './read.js';

export const DEFAULT_QUOTA_PER_UNIT = 500_000;

/**
 * Quota units to micro-USD: `roundHalfUp(quota * 1e6 / quotaPerUnit)`. Exact (integer arithmetic)
 * when both are integers, as they are unless an operator set a fractional QuotaPerUnit.
 */
export function quotaToMicro(quota: number, quotaPerUnit: number): number {
  if (Number.isSafeInteger(quota) && Number.isSafeInteger(quotaPerUnit) && quotaPerUnit > 0) {
    const q = BigInt(quotaPerUnit);
    // floor((2 * quota * 1e6 + q) / (2q)) = round half up of quota * 1e6 / q, negatives included
    const n = 2n * BigInt(quota) * 1_000_000n + q;
    const d = 2n * q;
    let r = n / d;
    if (n % d !== 0n && n < 0n) r -= 1n;
    return Number(r);
  }
  return roundHalfUp((quota * 1e6) / quotaPerUnit);
}

/** A ratio (One API's model or completion ratio) of an amount, rounded half up once. */
export function scaled(amount: number, ratio: number): number {
  return roundHalfUp(amount * ratio);
}

export class Warnings {
  readonly lines: string[] = [];
  add(entity: string, message: string): void {
    this.lines.push(`${entity}: ${message}`);
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

/**
 * An entity name as the daemon accepts it (channels, a key's own part): trimmed, no control
 * characters, at most 64, not all digits (numbers name ids), no `/` where `noSlash`. Empty becomes
 * `<kind>-<id>`, all digits `<kind>-<digits>`.
 */
export function entityName(raw: string, kind: string, id: number, noSlash = false): string {
  let s = raw.replace(CONTROL, ' ').trim();
  if (noSlash) s = s.replace(/\//g, '-');
  if (s === '') return `${kind}-${id}`;
  if (/^\d+$/.test(s)) s = `${kind}-${s}`;
  return s.slice(0, 64).trim();
}

/** BurnCloud's user names (daemon/tenants/user-name.ts): this, not all digits, not `deleted-...`. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function userName(raw: string, id: number): string {
  let s = raw
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, 64);
  if (s === '' || !USER_NAME.test(s)) s = `user-${id}`;
  // all digits would read as an id; `deleted-` names removed users
  if (/^\d+$/.test(s) || s.toLowerCase().startsWith('deleted-')) s = `user-${s}`.slice(0, 64);
  return s;
}

/** Group names: letters, digits, `.`, `_`, `-`; One API's default group when empty. */
export function groupName(raw: string): string {
  const s = raw
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 64);
  return s === '' ? 'default' : s;
}

/** The first of `base`, `base-2`, `base-3`... that `taken` does not hold; adds it to `taken`. */
export function uniqueName(base: string, taken: Set<string>, suffix?: string): string {
  let name = base;
  if (taken.has(name) && suffix !== undefined) name = `${base}${suffix}`;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  taken.add(name);
  return name;
}

/** A value worth reporting as dropped: set, and not an empty JSON object or list. */
export function meaningful(v: unknown): boolean {
  const s = str(v).trim();
  return s !== '' && s !== '{}' && s !== '[]' && s !== 'null';
}
