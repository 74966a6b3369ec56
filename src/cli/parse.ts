/**
 * Pure parsers for everything a user types on the command line: durations, dates, USD amounts,
 * addresses, URLs, integers, channel types, alias maps and comma lists. Each returns the value the
 * control API wants or throws a UsageError saying what was expected, so invalid input is refused
 * with exit 2 before anything reaches the daemon. No I/O here; `now` is passed in where it matters.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { CHANNEL_TYPES } from '../shared/control-api.js';
import type { ChannelType, UsageDimension } from '../shared/control-api.js';
import { parseUsd } from '../shared/money.js';
import { parseListen } from '../shared/paths.js';

/** Invalid command-line input: exit code 2. `hint` names where to read more. */
export class UsageError extends Error {
  hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
  }
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `500ms`, `60s`, `90m`, `12h`, `30d`, `2w`, or combined like `1h30m` -> milliseconds. */
export function parseDuration(input: string): number {
  const s = input.trim().toLowerCase();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;
  let total = 0;
  let matched = 0;
  while (matched < s.length) {
    part.lastIndex = matched;
    const m = part.exec(s);
    if (!m) break;
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN);
    matched = part.lastIndex;
  }
  if (s.length === 0 || matched !== s.length || !Number.isFinite(total)) {
    throw new UsageError(
      `"${input}" is not a duration: use a number and a unit, e.g. 500ms, 60s, 90m, 12h, 30d`,
    );
  }
  return Math.round(total);
}

/** A calendar date `YYYY-MM-DD` -> the start of that day in UTC; undefined when not that shape. */
function parseDay(s: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  const valid = date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
  if (!valid) throw new UsageError(`"${s}" is not a calendar date`);
  return date;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** A point in time: a duration from `now` (signed by `direction`), a date, or an ISO time. */
function parseInstant(input: string, now: number, direction: 1 | -1): Date {
  const s = input.trim();
  const day = parseDay(s);
  if (day) return day;
  if (ISO_TIME.test(s)) {
    const t = Date.parse(s);
    if (Number.isFinite(t)) return new Date(t);
  }
  let ms: number;
  try {
    ms = parseDuration(s);
  } catch {
    throw new UsageError(`"${input}" is neither a duration (30d, 12h) nor a date (2027-01-31)`);
  }
  return new Date(now + direction * ms);
}

/**
 * `--expires`: a duration from now (`30d`) or a date (`2027-01-31`, meaning the start of that day,
 * 00:00 UTC) or an ISO time -> ISO 8601 UTC. `never`/`none` clears the expiry (null). Must lie in
 * the future.
 */
export function parseExpires(input: string, now: number = Date.now()): string | null {
  if (/^(never|none)$/i.test(input.trim())) return null;
  const when = parseInstant(input, now, 1);
  if (when.getTime() <= now) throw new UsageError(`"${input}" is in the past`);
  return when.toISOString();
}

/** `--since`: a duration back from now (`24h`) or a date/ISO time -> ISO 8601 UTC. */
export function parseSince(input: string, now: number = Date.now()): string {
  return parseInstant(input, now, -1).toISOString();
}

/** A USD amount (`12`, `0.5`, `$3.25`) -> integer micro-USD. */
export function parseUsdAmount(input: string): number {
  const micro = parseUsd(input);
  if (micro === undefined) {
    throw new UsageError(`"${input}" is not a USD amount: use e.g. 10, 0.25 or $2.50 (up to 6 decimals)`);
  }
  return micro;
}

/** A budget: a USD amount, or `none`/`unlimited` for no budget (null). */
export function parseBudget(input: string): number | null {
  if (/^(none|unlimited)$/i.test(input.trim())) return null;
  return parseUsdAmount(input);
}

/** An IPv4/IPv6 address or CIDR block (`10.0.0.0/8`, `::1`, `2001:db8::/32`). */
export function parseCidr(input: string): string {
  const s = input.trim();
  const [addr = '', bits, extra] = s.split('/');
  const v4 = isIPv4(addr);
  const v6 = !v4 && isIPv6(addr);
  const max = v4 ? 32 : 128;
  const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
  if ((!v4 && !v6) || !bitsOk || extra !== undefined) {
    throw new UsageError(
      `"${input}" is not an IP address or CIDR block: use e.g. 10.0.0.0/8, 203.0.113.7 or ::1`,
    );
  }
  return s;
}

/** An http(s) URL (a channel's base URL). */
export function parseHttpUrl(input: string): string {
  const s = input.trim();
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new UsageError(`"${input}" is not a URL: use e.g. https://api.openai.com/v1`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`"${input}" is not an http or https URL`);
  }
  return s.replace(/\/+$/, '');
}

/** A positive integer (1, 2, ...). */
export function parsePositiveInt(input: string): number {
  const s = input.trim();
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`"${input}" is not a positive integer`);
  }
  return n;
}

/** An integer, possibly negative (a channel's priority). */
export function parseInteger(input: string): number {
  const s = input.trim();
  const n = Number(s);
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(n)) throw new UsageError(`"${input}" is not an integer`);
  return n;
}

/** A limit that `none` clears: a positive integer or null. */
export function parseLimit(input: string): number | null {
  if (/^(none|unlimited)$/i.test(input.trim())) return null;
  return parsePositiveInt(input);
}

/** A non-negative decimal number (a group's price ratio). */
export function parseRatio(input: string): number {
  const s = input.trim();
  const n = Number(s);
  if (!/^\d+(?:\.\d+)?$/.test(s) || !Number.isFinite(n)) {
    throw new UsageError(`"${input}" is not a ratio: use a number such as 1, 0.8 or 1.5`);
  }
  return n;
}

export function parseChannelType(input: string): ChannelType {
  const s = input.trim().toLowerCase();
  const found = CHANNEL_TYPES.find((t) => t === s);
  if (!found) throw new UsageError(`"${input}" is not a channel type: one of ${CHANNEL_TYPES.join(', ')}`);
  return found;
}

export function parseUsageDimension(input: string): UsageDimension {
  const s = input.trim().toLowerCase();
  if (s === 'model' || s === 'key' || s === 'channel' || s === 'user') return s;
  throw new UsageError(`"${input}" is not a usage dimension: one of model, key, channel, user`);
}

/** `alias=upstream-model` -> [alias, upstream]. */
export function parseMapPair(input: string): [string, string] {
  const eq = input.indexOf('=');
  const alias = input.slice(0, Math.max(eq, 0)).trim();
  const upstream = input.slice(eq + 1).trim();
  if (eq < 0 || alias === '' || upstream === '') {
    throw new UsageError(`"${input}" is not a mapping: use alias=upstream-model, e.g. gpt-4o=my-deployment`);
  }
  return [alias, upstream];
}

/** `a, b,c` -> ['a', 'b', 'c'] (trimmed, without empties or repeats); at least one item. */
export function parseList(input: string): string[] {
  const items = [...new Set(input.split(',').map((x) => x.trim()))].filter((x) => x !== '');
  if (items.length === 0)
    throw new UsageError(`"${input}" is an empty list: use comma-separated values, e.g. a,b`);
  return items;
}

/** A non-empty name or id (spaces around it removed). */
export function parseName(input: string): string {
  const s = input.trim();
  if (s === '') throw new UsageError('an empty value is not allowed');
  return s;
}

/** `host:port` (IPv6 as `[::1]:8300`); port 0 picks a free port. */
export function parseListenAddress(input: string): string {
  try {
    parseListen(input);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return input.trim();
}

/** `true/false/yes/no/on/off/1/0` -> boolean. */
export function parseBoolean(input: string): boolean {
  const s = input.trim().toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(s)) return true;
  if (['false', 'no', 'off', '0'].includes(s)) return false;
  throw new UsageError(`"${input}" is not a boolean: use true or false`);
}

/** Secrets read from stdin (`--key -`): one per line, blank lines ignored. */
export function splitSecrets(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
