/**
 * Field readers for control-plane input: each takes an untrusted JSON value and either returns it
 * typed and normalised or throws a 400 BcError INVALID_REQUEST whose message starts with the
 * field's name and whose `param` is that name. Pure (no I/O), so validate.ts and its tests need no
 * daemon.
 */
import net from 'node:net';
import { BcError } from '../../shared/errors.js';

export type Json = Record<string, unknown>;

export function invalid(field: string, message: string): BcError {
  return new BcError('INVALID_REQUEST', `${field} ${message}`, { param: field });
}

/** The request body as an object whose keys are all known; no body reads as `{}`. */
export function bodyObject(body: unknown, allowed: readonly string[]): Json {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new BcError('INVALID_REQUEST', 'the request body must be a JSON object');
  }
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw invalid(k, `is not a known field (known: ${allowed.join(', ')})`);
  }
  return body as Json;
}

export function has(o: Json, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, field) && o[field] !== undefined;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** A trimmed, non-empty string without control characters, at most `max` long. */
export function text(value: unknown, field: string, max = 200): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  const s = value.trim();
  if (s === '') throw invalid(field, 'must not be empty');
  if (s.length > max) throw invalid(field, `must be at most ${max} characters`);
  if (CONTROL_CHARS.test(s)) throw invalid(field, 'must not contain control characters');
  return s;
}

/** An entity name: referable by name wherever an id is accepted, so it cannot look like an id. */
export function entityName(value: unknown, field = 'name'): string {
  const s = text(value, field, 64);
  if (/^\d+$/.test(s)) throw invalid(field, 'must not be a number (numbers name ids)');
  return s;
}

/** A group name: letters, digits, dot, underscore and dash. */
export function groupName(value: unknown, field = 'name'): string {
  const s = text(value, field, 64);
  if (!/^[A-Za-z0-9._-]+$/.test(s)) throw invalid(field, 'may hold only letters, digits, ".", "_" and "-"');
  return s;
}

export function nullableText(value: unknown, field: string, max = 200): string | null {
  return value === null ? null : text(value, field, max);
}

/** A list of non-empty strings, trimmed and de-duplicated in order. */
export function textList(value: unknown, field: string, max = 200): string[] {
  if (!Array.isArray(value)) throw invalid(field, 'must be a list of strings');
  const out: string[] = [];
  value.forEach((v, i) => {
    const s = text(v, `${field}[${i}]`, max);
    if (!out.includes(s)) out.push(s);
  });
  return out;
}

/** An object of non-empty string keys to non-empty string values. */
export function textMap(value: unknown, field: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field, 'must be an object of alias to upstream model');
  }
  // fromEntries defines own properties, so an alias such as "__proto__" stays plain data.
  return Object.fromEntries(
    Object.entries(value as Json).map(([k, v]) => {
      const alias = text(k, `${field} key`);
      return [alias, text(v, `${field}.${alias}`)];
    }),
  );
}

export interface IntRange {
  min?: number;
  max?: number;
}

export function integer(value: unknown, field: string, range: IntRange = {}): number {
  const min = range.min ?? Number.MIN_SAFE_INTEGER;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(field, 'must be an integer');
  if (value < min) throw invalid(field, min === 1 ? 'must be a positive integer' : `must be at least ${min}`);
  if (value > max) throw invalid(field, `must be at most ${max}`);
  return value;
}

/** A non-negative integer, or null meaning "no limit". */
export function limit(value: unknown, field: string): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(field, 'must be a non-negative integer or null');
  }
  return value;
}

export function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false');
  return value;
}

/** An http(s) URL without query or fragment, returned without trailing slashes. */
export function httpUrl(value: unknown, field: string): string {
  const s = text(value, field, 2000);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw invalid(field, `must be an http(s) URL, got "${s}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalid(field, `must be an http(s) URL, got "${s}"`);
  if (url.search !== '' || url.hash !== '') throw invalid(field, 'must not have a query string or fragment');
  if (url.username !== '' || url.password !== '')
    throw invalid(field, 'must not carry credentials: use keys');
  return s.replace(/\/+$/, '');
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** An ISO 8601 date or time, returned as a UTC ISO string. */
export function isoTime(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ISO_TIME.test(value.trim())) {
    throw invalid(field, 'must be an ISO 8601 time, e.g. 2027-01-31 or 2027-01-31T12:00:00Z');
  }
  const ms = Date.parse(value.trim());
  if (!Number.isFinite(ms)) throw invalid(field, `is not a valid date: "${value}"`);
  return new Date(ms).toISOString();
}

/** An IPv4/IPv6 address or CIDR block. */
export function ipOrCidr(value: unknown, field: string): string {
  const s = text(value, field, 64);
  const [addr = '', bits, extra] = s.split('/');
  const kind = net.isIP(addr);
  const max = kind === 6 ? 128 : 32;
  const prefixOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
  if (kind === 0 || extra !== undefined || !prefixOk) {
    throw invalid(field, `must be an IP address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32), got "${s}"`);
  }
  return s;
}
