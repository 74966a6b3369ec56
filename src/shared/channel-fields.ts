/**
 * A channel's settable fields in one table. Each row is a field of ChannelInput (its wire name,
 * snake_case) with its record name (camelCase, as the daemon's validated fields and ChannelRecord
 * hold it), its SQLite column, its default on create and its `bc channel add/edit` flag. The CLI,
 * the TUI form, the daemon's validation (which adds a parser per field, typed against this table),
 * the control routes, the store's row mappers and the channel view all walk it, so a new field is
 * a row here plus its parser instead of a line in nine hand-written mappers. Pure data and types
 * over the control contract: the CLI imports it without reaching daemon code.
 *
 * Three fields are not plain copies, and their rows say so (no column): `keys` are plain secrets
 * that the control route seals into ChannelRecord.secrets and the view shows masked; `disabled` is
 * a request to set ChannelRecord.status; `region`'s default depends on the type
 * (validate-channel.ts). The view fills an unset `base_url` with the type's default URL.
 */
import type { ChannelInput } from './control-api.js';
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
  type StoredWireOf,
} from './field-table.js';

export type { Camel } from './field-table.js';

export type ChannelWire = keyof ChannelInput;
/** A field's value once given (ChannelInput's fields are all optional). */
export type ChannelValue<W extends ChannelWire> = Exclude<ChannelInput[W], undefined>;
type Value<W extends ChannelWire> = ChannelValue<W>;

export const DEFAULT_TIMEOUT_MS = 300_000;
export const DEFAULT_GROUP = 'default';

/** In the order the daemon reads and lists them (its "known fields" message and `--help`). */
export const CHANNEL_FIELDS = {
  name: { record: 'name', column: { name: 'name', as: 'value' }, flag: '--name' },
  type: { record: 'type', column: { name: 'type', as: 'value' }, flag: '--type' },
  // plain secrets: sealed into ChannelRecord.secrets by the control route, shown masked
  keys: { record: 'keys', column: null, default: [], flag: '--key' },
  models: { record: 'models', column: { name: 'models', as: 'json' }, default: [], flag: '--models' },
  base_url: {
    record: 'baseUrl',
    column: { name: 'base_url', as: 'value' },
    default: null,
    flag: '--base-url',
  },
  map: { record: 'map', column: { name: 'map', as: 'json' }, default: {}, flag: '--map' },
  groups: {
    record: 'groups',
    column: { name: 'groups', as: 'json' },
    default: [DEFAULT_GROUP],
    flag: '--group',
  },
  priority: { record: 'priority', column: { name: 'priority', as: 'value' }, default: 0, flag: '--priority' },
  weight: { record: 'weight', column: { name: 'weight', as: 'value' }, default: 1, flag: '--weight' },
  timeout_ms: {
    record: 'timeoutMs',
    column: { name: 'timeout_ms', as: 'value' },
    default: DEFAULT_TIMEOUT_MS,
    flag: '--timeout',
  },
  // the type's own region comes first (validate-channel.ts), then this
  region: { record: 'region', column: { name: 'region', as: 'value' }, default: null, flag: '--region' },
  api_version: {
    record: 'apiVersion',
    column: { name: 'api_version', as: 'value' },
    default: null,
    flag: '--api-version',
  },
  // a request to set ChannelRecord.status: enabled or disabled
  disabled: { record: 'disabled', column: null, default: false, flag: '--disabled' },
} satisfies FieldTable<ChannelInput>;

type Table = typeof CHANNEL_FIELDS;

/** ChannelInput as the daemon holds it once validated: camelCase, every field present. */
export type ChannelFields = { [W in ChannelWire as Camel<W>]: Value<W> };

/** The fields ChannelRecord keeps as they are validated, each in a column of its own. */
export type StoredWire = StoredWireOf<Table>;
export type StoredChannelFields = Pick<ChannelFields, Camel<StoredWire>>;
/** The stored fields under their wire names (ChannelView shows them so). */
export type StoredChannelWire = { [W in StoredWire]: Value<W> };

export type ChannelDefaults = Pick<ChannelFields, Camel<DefaultedWireOf<Table>>>;

export const CHANNEL_WIRES = Object.keys(CHANNEL_FIELDS) as ChannelWire[];

/*
 * The walks live in field-table.ts; each wrapper states the type the table derives, which the
 * checker cannot follow through a key renamed at the type level.
 */

/** The defaults applied on create, fresh copies each time (callers may keep and change them). */
export function channelDefaults(): ChannelDefaults {
  return defaultsOf(CHANNEL_FIELDS) as ChannelDefaults;
}

/** The stored fields of validated input, under their record names; absent ones stay absent. */
export function storedFields(f: ChannelFields): StoredChannelFields;
export function storedFields(f: Partial<ChannelFields>): Partial<StoredChannelFields>;
export function storedFields(f: Partial<ChannelFields>): Partial<StoredChannelFields> {
  return pickStored(CHANNEL_FIELDS, f);
}

/** A record's stored fields under their wire names. */
export function storedToWire(c: StoredChannelFields): StoredChannelWire {
  return storedToWireOf(CHANNEL_FIELDS, c) as StoredChannelWire;
}

/** Each stored field's record name, column and codec, for the store's row mappers. */
export const STORED_CHANNEL_COLUMNS = storedColumnsOf(CHANNEL_FIELDS) as readonly StoredColumn<
  Camel<StoredWire>,
  StoredWire
>[];

/** The property commander gives a flag's value: `--api-version` -> `apiVersion`. */
export type FlagAttribute<W extends ChannelWire> = FlagAttributeOf<Table[W]>;

export function flagAttribute<W extends ChannelWire>(w: W): FlagAttribute<W> {
  return attributeOf(CHANNEL_FIELDS[w].flag) as FlagAttribute<W>;
}
