/**
 * Validation of client key input (`POST /v1/keys`, `PATCH /v1/keys/:id`): pure functions from
 * untrusted JSON to typed values, defaults applied on create. The fields, their wire and record
 * names and their defaults come from the shared table (shared/key-fields.ts); this module adds each
 * field's parser. A key has no cross-field rules: each field stands on its own.
 */
import {
  KEY_FIELDS,
  KEY_WIRES,
  keyDefaults,
  type KeyFields,
  type KeyValue,
  type KeyWire,
} from '../../shared/key-fields.js';
import { BcError } from '../../shared/errors.js';
import * as f from './validate-fields.js';

export type { KeyFields } from '../../shared/key-fields.js';

/**
 * The parser of each field of the table (shared/key-fields.ts), given the untrusted value and the
 * field's wire name for its messages; a field missing here is a compile error.
 */
const PARSE: { readonly [W in KeyWire]: (value: unknown, field: W) => KeyValue<W> } = {
  // `/` separates a user-owned key's owner from its name (`alice/laptop`)
  name: (v) => {
    const name = f.entityName(v);
    if (name.includes('/'))
      throw f.invalid('name', 'must not contain "/" (it joins a user\'s name to their key\'s)');
    return name;
  },
  group: (v, field) => f.groupName(v, field),
  budget: (v, field) => f.limit(v, field),
  expires_at: (v, field) => (v === null ? null : f.isoTime(v, field)),
  models: (v, field) => f.textList(v, field),
  allow_ips: addressList,
  rpm: (v, field) => f.limit(v, field),
  tpm: (v, field) => f.limit(v, field),
  concurrency: (v, field) => f.limit(v, field),
  strict_budget: (v, field) => f.bool(v, field),
};

/**
 * The owner fields of a create body (SPEC section 11), taken out so the rest reads as the key
 * table's fields: `user` (a user's name or id) and `scope` (`relay` or `account`).
 */
export function validateKeyOwner(body: unknown): {
  body: unknown;
  user?: string;
  scope?: 'relay' | 'account';
} {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { body };
  const { user, scope, ...rest } = body as Record<string, unknown>;
  const out: { body: unknown; user?: string; scope?: 'relay' | 'account' } = { body: rest };
  if (user !== undefined && user !== null) {
    if (typeof user === 'number' && Number.isSafeInteger(user)) out.user = String(user);
    else out.user = f.text(user, 'user', 64);
  }
  if (scope !== undefined && scope !== null) {
    if (scope !== 'relay' && scope !== 'account') throw f.invalid('scope', 'must be "relay" or "account"');
    out.scope = scope;
  }
  return out;
}

export function validateKeyCreate(body: unknown): KeyFields {
  const given = readKeyFields(f.bodyObject(body, KEY_WIRES));
  if (given.name === undefined) throw f.invalid('name', 'is required');
  return { ...keyDefaults(), ...given, name: given.name };
}

export function validateKeyEdit(body: unknown): Partial<KeyFields> {
  const given = readKeyFields(f.bodyObject(body, KEY_WIRES));
  if (Object.keys(given).length === 0)
    throw new BcError('INVALID_REQUEST', 'nothing to change: give at least one field');
  return given;
}

function readKeyFields(o: f.Json): Partial<KeyFields> {
  const out: Record<string, unknown> = {};
  for (const w of KEY_WIRES) if (f.has(o, w)) out[KEY_FIELDS[w].record] = parseField(w, o[w]);
  // each value was parsed by its field's parser and stored under that field's record name
  return out;
}

function parseField<W extends KeyWire>(w: W, value: unknown): KeyValue<W> {
  return PARSE[w](value, w);
}

function addressList(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw f.invalid(field, 'must be a list of IP addresses or CIDR blocks');
  return value.map((v, i) => f.ipOrCidr(v, `${field}[${i}]`));
}
