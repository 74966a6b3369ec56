/**
 * A client key's settable fields in one table, in the style of channel-fields.ts. Each row is a
 * field of KeyInput (its wire name, snake_case) with its record name (camelCase, as the daemon's
 * validated fields and KeyRecord hold it), its SQLite column in the keys table, its default on
 * create and its `bc key create/edit` flag. The CLI, the daemon's validation (which adds a parser
 * per field, typed against this table), the control routes, the store's row mappers and the key
 * view walk it, so a new field is a row here plus its parser (and its flag's spec in the CLI)
 * instead of a line in each hand-written mapper. Every field has a column of its own; the rest of
 * a key (secret hash and prefix, spend, status, times) is derived and stays explicit where used.
 * Pure data and types over the control contract: the CLI imports it without reaching daemon code.
 */
import { DEFAULT_GROUP } from './channel-fields.js';
import type { KeyInput } from './control-api.js';
import {
  attributeOf,
  defaultsOf,
  pickStored,
  storedColumnsOf,
  storedToWireOf,
  type Camel,
  type DefaultedWireOf,
  type FieldTable,
  type FlagAttributeOf,
  type StoredColumn,
} from './field-table.js';

export type KeyWire = keyof KeyInput;
/** A field's value once given (KeyInput's fields are all optional). */
export type KeyValue<W extends KeyWire> = Exclude<KeyInput[W], undefined>;

/** In the order the daemon reads and lists them (its "known fields" message and `--help`). */
export const KEY_FIELDS = {
  name: { record: 'name', column: { name: 'name', as: 'value' }, flag: '--name' },
  // the price group, the same names as a channel's groups
  group: { record: 'group', column: { name: 'group', as: 'value' }, default: DEFAULT_GROUP, flag: '--group' },
  // micro-USD; null: unlimited (as for every limit below)
  budget: { record: 'budget', column: { name: 'budget', as: 'value' }, default: null, flag: '--budget' },
  expires_at: {
    record: 'expiresAt',
    column: { name: 'expires_at', as: 'value' },
    default: null,
    flag: '--expires',
  },
  // empty: every model
  models: { record: 'models', column: { name: 'models', as: 'json' }, default: [], flag: '--models' },
  // empty: any address
  allow_ips: {
    record: 'allowIps',
    column: { name: 'allow_ips', as: 'json' },
    default: [],
    flag: '--allow-ip',
  },
  rpm: { record: 'rpm', column: { name: 'rpm', as: 'value' }, default: null, flag: '--rpm' },
  tpm: { record: 'tpm', column: { name: 'tpm', as: 'value' }, default: null, flag: '--tpm' },
  concurrency: {
    record: 'concurrency',
    column: { name: 'concurrency', as: 'value' },
    default: null,
    flag: '--concurrency',
  },
  strict_budget: {
    record: 'strictBudget',
    column: { name: 'strict_budget', as: 'bool' },
    default: false,
    flag: '--strict-budget',
  },
} satisfies FieldTable<KeyInput>;

type Table = typeof KEY_FIELDS;

/** KeyInput as the daemon holds it once validated (and KeyRecord stores it): every field present. */
export type KeyFields = { [W in KeyWire as Camel<W>]: KeyValue<W> };
/** The fields under their wire names (KeyView shows them so). */
export type KeyFieldsWire = { [W in KeyWire]: KeyValue<W> };
export type KeyDefaults = Pick<KeyFields, Camel<DefaultedWireOf<Table>>>;

export const KEY_WIRES = Object.keys(KEY_FIELDS) as KeyWire[];

/** The defaults applied on create, fresh copies each time (callers may keep and change them). */
export function keyDefaults(): KeyDefaults {
  return defaultsOf(KEY_FIELDS) as KeyDefaults;
}

/** The table's fields of validated input (or a record), under their record names; absent stay absent. */
export function keyFields(f: KeyFields): KeyFields;
export function keyFields(f: Partial<KeyFields>): Partial<KeyFields>;
export function keyFields(f: Partial<KeyFields>): Partial<KeyFields> {
  return pickStored(KEY_FIELDS, f);
}

/** A record's table fields under their wire names. */
export function keyFieldsToWire(k: KeyFields): KeyFieldsWire {
  return storedToWireOf(KEY_FIELDS, k) as KeyFieldsWire;
}

/** Each field's record name, column and codec, for the store's row mappers. */
export const KEY_FIELD_COLUMNS = storedColumnsOf(KEY_FIELDS) as readonly StoredColumn<
  Camel<KeyWire>,
  KeyWire
>[];

/** The property commander gives a flag's value: `--allow-ip` -> `allowIp`. */
export type KeyFlagAttribute<W extends KeyWire> = FlagAttributeOf<Table[W]>;

export function keyFlagAttribute<W extends KeyWire>(w: W): KeyFlagAttribute<W> {
  return attributeOf(KEY_FIELDS[w].flag) as KeyFlagAttribute<W>;
}
