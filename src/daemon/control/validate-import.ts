/**
 * Validation of an import plan (`POST /v1/import/one-api`, bc import one-api): the CLI builds it,
 * but the socket takes any JSON, so its shape is checked like any other body before anything is
 * written: a wrong top-level shape is a 400 naming the field. Entries are checked one by one by
 * the same rules as the routes that create them (channels through validateChannelCreate, keys
 * through validateKeyCreate, user names through the one user-name rule); an entry that fails is
 * left out and named in the report instead of failing the whole import.
 */
import { BcError } from '../../shared/errors.js';
import {
  IMPORT_FLAVORS,
  IMPORT_KINDS,
  IMPORT_PLAN_VERSION,
  type ImportPlan,
  type PlanCode,
  type PlanGroup,
  type PlanPrice,
  type PlanUser,
} from '../../shared/import-plan.js';
import { userNameProblem } from '../tenants/user-name.js';
import * as f from './validate-fields.js';

type Json = Record<string, unknown>;

function object(v: unknown, field: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw f.invalid(field, 'must be an object');
  return v as Json;
}

function array(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw f.invalid(field, 'must be a list');
  return v;
}

function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    throw f.invalid(field, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

const money = (v: unknown, field: string) => f.integer(v, field, { min: 0 });
const nullable = <T>(v: unknown, read: (v: unknown) => T): T | null => (v === null ? null : read(v));
const time = (v: unknown, field: string) => nullable(v, (x) => f.isoTime(x, field));

function counts(v: unknown, field: string): Record<string, number> {
  const o = object(v, field);
  for (const [k, n] of Object.entries(o)) money(n, `${field}.${k}`);
  return o as Record<string, number>;
}

/** The plan's top level; entries are read later, each on its own (validateEntries). */
export function validatePlan(body: unknown): ImportPlan {
  const o = object(body, 'plan');
  if (o.version !== IMPORT_PLAN_VERSION)
    throw f.invalid(
      'version',
      `must be ${IMPORT_PLAN_VERSION}: the CLI and the daemon are of different versions`,
    );
  if (typeof o.source !== 'string' || !/^one-api:[0-9a-f]{12}$/.test(o.source))
    throw f.invalid('source', 'must be one-api:<12 hex digits>');
  const qpu = o.quota_per_unit;
  if (typeof qpu !== 'number' || !Number.isFinite(qpu) || qpu <= 0)
    throw f.invalid('quota_per_unit', 'must be a positive number');
  const skipped = counts(o.skipped, 'skipped');
  for (const k of IMPORT_KINDS) money(skipped[k], `skipped.${k}`);
  for (const k of ['channels', 'users', 'keys', 'codes', 'prices', 'groups'] as const) array(o[k], k);
  return {
    version: IMPORT_PLAN_VERSION,
    source: o.source,
    path: f.text(o.path, 'path', 4096),
    flavor: oneOf(o.flavor, 'flavor', IMPORT_FLAVORS),
    quota_per_unit: qpu,
    prices_mode: oneOf(o.prices_mode, 'prices_mode', ['source', 'keep'] as const),
    only: array(o.only, 'only').map((k, i) => oneOf(k, `only[${i}]`, IMPORT_KINDS)),
    channels: o.channels as ImportPlan['channels'],
    users: o.users as ImportPlan['users'],
    keys: o.keys as ImportPlan['keys'],
    codes: o.codes as ImportPlan['codes'],
    prices: o.prices as ImportPlan['prices'],
    groups: o.groups as ImportPlan['groups'],
    skipped,
    skipped_channel_types: counts(o.skipped_channel_types, 'skipped_channel_types'),
    not_imported: counts(o.not_imported, 'not_imported'),
    suggested_settings: nullable(o.suggested_settings, (v) => f.text(v, 'suggested_settings', 1000)),
    warnings: array(o.warnings, 'warnings').map((w, i) => {
      if (typeof w !== 'string') throw f.invalid(`warnings[${i}]`, 'must be a string');
      return w;
    }),
  };
}

/** A source row id: a positive integer. */
export function sourceId(v: unknown, field: string): number {
  return f.integer(v, field, { min: 0 });
}

export function validateUser(v: unknown): PlanUser {
  const o = object(v, 'user');
  const problem = userNameProblem(o.name);
  if (problem !== null) throw f.invalid('name', problem);
  const balance = nullable(o.balance, (x) => f.integer(x, 'balance'));
  return {
    source_id: sourceId(o.source_id, 'source_id'),
    name: o.name as string,
    group: f.groupName(o.group, 'group'),
    status: oneOf(o.status, 'status', ['enabled', 'disabled'] as const),
    balance,
    aff_balance: money(o.aff_balance, 'aff_balance'),
    spent: money(o.spent, 'spent'),
    invited_by: nullable(o.invited_by, (x) => sourceId(x, 'invited_by')),
    referral_code: nullable(o.referral_code, (x) => f.text(x, 'referral_code', 32)),
    note: nullable(o.note, (x) => f.text(x, 'note', 500)),
    created_at: time(o.created_at, 'created_at'),
  };
}

export function validateCode(v: unknown): PlanCode {
  const o = object(v, 'code');
  if (typeof o.hash !== 'string' || !/^[0-9a-f]{64}$/.test(o.hash))
    throw f.invalid('hash', 'must be hex SHA-256');
  const amount = f.integer(o.amount, 'amount', { min: 1 });
  return {
    source_id: sourceId(o.source_id, 'source_id'),
    hash: o.hash,
    prefix: f.text(o.prefix, 'prefix', 16),
    batch: nullable(o.batch, (x) => f.text(x, 'batch', 200)),
    amount,
    status: oneOf(o.status, 'status', ['active', 'revoked'] as const),
    used: f.bool(o.used, 'used'),
    used_by: nullable(o.used_by, (x) => sourceId(x, 'used_by')),
    used_at: time(o.used_at, 'used_at'),
    expires_at: time(o.expires_at, 'expires_at'),
    created_at: time(o.created_at, 'created_at'),
  };
}

export function validatePrice(v: unknown): PlanPrice {
  const o = object(v, 'price');
  return {
    model: f.text(o.model, 'model', 200),
    input: money(o.input, 'input'),
    output: nullable(o.output, (x) => money(x, 'output')),
    cache_read: nullable(o.cache_read, (x) => money(x, 'cache_read')),
    cache_write: nullable(o.cache_write, (x) => money(x, 'cache_write')),
    per_request: nullable(o.per_request, (x) => money(x, 'per_request')),
  };
}

export function validateGroup(v: unknown): PlanGroup {
  const o = object(v, 'group');
  const ratio = o.ratio;
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0)
    throw f.invalid('ratio', 'must be a non-negative number');
  return { name: f.groupName(o.name, 'name'), ratio };
}

/** The message of an entry refused by a validator, for the report. */
export function refusal(e: unknown): string {
  if (e instanceof BcError) return e.message;
  throw e;
}
