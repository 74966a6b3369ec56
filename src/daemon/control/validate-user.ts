/**
 * Validation of the user routes' bodies (SPEC section 11): names, limits, money and the credit
 * body. Pure, like the other validators: each field's reader throws INVALID_REQUEST naming it.
 */
import { BcError } from '../../shared/errors.js';
import type { CreditInput, UserInput } from '../../shared/tenant-api.js';
import * as f from './validate-fields.js';
import { validateUserName } from '../tenants/user-name.js';

const USER_FIELDS = [
  'name',
  'group',
  'balance',
  'unmetered',
  'rpm',
  'tpm',
  'concurrency',
  'max_keys',
  'note',
  'invite',
] as const;

const money = (v: unknown, field: string) => f.integer(v, field, { min: 0 });

export function validateUserInput(body: unknown, creating: boolean): UserInput {
  const o = f.bodyObject(body, USER_FIELDS);
  const out: UserInput = {};
  if (f.has(o, 'name')) out.name = validateUserName(f.text(o.name, 'name', 64));
  else if (creating) throw f.invalid('name', 'is required');
  if (f.has(o, 'group')) out.group = f.groupName(o.group, 'group');
  if (f.has(o, 'unmetered')) out.unmetered = f.bool(o.unmetered, 'unmetered');
  if (f.has(o, 'balance')) {
    if (!creating)
      throw f.invalid('balance', 'is set only at creation: use `bc user topup` or `bc user adjust`');
    if (out.unmetered === true) throw f.invalid('balance', 'cannot be given for an unmetered user');
    out.balance = money(o.balance, 'balance');
  }
  for (const k of ['rpm', 'tpm', 'concurrency', 'max_keys'] as const) {
    if (f.has(o, k)) out[k] = f.limit(o[k], k);
  }
  if (f.has(o, 'note')) out.note = f.nullableText(o.note, 'note', 500);
  if (f.has(o, 'invite')) {
    if (!creating) throw f.invalid('invite', 'is given only at creation');
    out.invite = f.text(o.invite, 'invite', 100);
  }
  if (!creating && Object.keys(out).length === 0)
    throw new BcError('INVALID_REQUEST', 'nothing to change: give at least one field');
  return out;
}

export function validateCredit(body: unknown): CreditInput {
  const o = f.bodyObject(body, ['kind', 'amount', 'note', 'allow_negative']);
  if (o.kind !== 'topup' && o.kind !== 'adjust') throw f.invalid('kind', 'must be "topup" or "adjust"');
  if (!f.has(o, 'amount')) throw f.invalid('amount', 'is required (micro-USD)');
  const amount = f.integer(o.amount, 'amount');
  if (o.kind === 'topup' && amount <= 0) throw f.invalid('amount', 'of a top-up must be positive');
  if (amount === 0) throw f.invalid('amount', 'must not be 0');
  const out: CreditInput = { kind: o.kind, amount };
  if (f.has(o, 'note')) out.note = f.nullableText(o.note, 'note', 500);
  if (f.has(o, 'allow_negative')) out.allow_negative = f.bool(o.allow_negative, 'allow_negative');
  return out;
}
