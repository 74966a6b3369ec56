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

export type ChannelWire = keyof ChannelInput;
/** A field's value once given (ChannelInput's fields are all optional). */
export type ChannelValue<W extends ChannelWire> = Exclude<ChannelInput[W], undefined>;
type Value<W extends ChannelWire> = ChannelValue<W>;

/** `timeout_ms` -> `timeoutMs` (and `api-version` -> `apiVersion` with `-`), at the type level. */
export type Camel<S extends string, Sep extends string = '_'> = S extends `${infer H}${Sep}${infer T}`
  ? `${H}${Capitalize<Camel<T, Sep>>}`
  : S;

interface FieldRow<W extends ChannelWire> {
  /** the name in the validated fields and ChannelRecord: the wire name in camelCase */
  record: Camel<W>;
  /** its column in the channels table (named like the wire field); JSON text when `json` */
  column: { name: W; json: boolean } | null;
  /** the value on create when the field is not given; absent: the field is required */
  default?: Value<W>;
  /** the `bc channel` flag that sets it */
  flag: `--${string}`;
}

type FieldTable = { readonly [W in ChannelWire]: FieldRow<W> };

export const DEFAULT_TIMEOUT_MS = 300_000;
export const DEFAULT_GROUP = 'default';

/** In the order the daemon reads and lists them (its "known fields" message and `--help`). */
export const CHANNEL_FIELDS = {
  name: { record: 'name', column: { name: 'name', json: false }, flag: '--name' },
  type: { record: 'type', column: { name: 'type', json: false }, flag: '--type' },
  // plain secrets: sealed into ChannelRecord.secrets by the control route, shown masked
  keys: { record: 'keys', column: null, default: [], flag: '--key' },
  models: { record: 'models', column: { name: 'models', json: true }, default: [], flag: '--models' },
  base_url: {
    record: 'baseUrl',
    column: { name: 'base_url', json: false },
    default: null,
    flag: '--base-url',
  },
  map: { record: 'map', column: { name: 'map', json: true }, default: {}, flag: '--map' },
  groups: {
    record: 'groups',
    column: { name: 'groups', json: true },
    default: [DEFAULT_GROUP],
    flag: '--group',
  },
  priority: { record: 'priority', column: { name: 'priority', json: false }, default: 0, flag: '--priority' },
  weight: { record: 'weight', column: { name: 'weight', json: false }, default: 1, flag: '--weight' },
  timeout_ms: {
    record: 'timeoutMs',
    column: { name: 'timeout_ms', json: false },
    default: DEFAULT_TIMEOUT_MS,
    flag: '--timeout',
  },
  // the type's own region comes first (validate-channel.ts), then this
  region: { record: 'region', column: { name: 'region', json: false }, default: null, flag: '--region' },
  api_version: {
    record: 'apiVersion',
    column: { name: 'api_version', json: false },
    default: null,
    flag: '--api-version',
  },
  // a request to set ChannelRecord.status: enabled or disabled
  disabled: { record: 'disabled', column: null, default: false, flag: '--disabled' },
} satisfies FieldTable;

type Table = typeof CHANNEL_FIELDS;

/** ChannelInput as the daemon holds it once validated: camelCase, every field present. */
export type ChannelFields = { [W in ChannelWire as Camel<W>]: Value<W> };

/** The fields ChannelRecord keeps as they are validated, each in a column of its own. */
export type StoredWire = { [W in ChannelWire]: Table[W]['column'] extends null ? never : W }[ChannelWire];
export type StoredChannelFields = Pick<ChannelFields, Camel<StoredWire>>;
/** The stored fields under their wire names (ChannelView shows them so). */
export type StoredChannelWire = { [W in StoredWire]: Value<W> };

type DefaultedWire = { [W in ChannelWire]: Table[W] extends { default: unknown } ? W : never }[ChannelWire];
export type ChannelDefaults = Pick<ChannelFields, Camel<DefaultedWire>>;

export const CHANNEL_WIRES = Object.keys(CHANNEL_FIELDS) as ChannelWire[];
const STORED_WIRES = CHANNEL_WIRES.filter((w): w is StoredWire => CHANNEL_FIELDS[w].column !== null);

/*
 * The mappers below move values between names the table ties together. TypeScript cannot follow
 * a value through a key renamed at the type level (ChannelFields[Camel<W>] is Value<W> by its
 * definition, but the checker does not reduce it for a generic W), so each builds a plain object
 * and states its type once; the types themselves are derived from the table above.
 */

/** The defaults applied on create, fresh copies each time (callers may keep and change them). */
export function channelDefaults(): ChannelDefaults {
  const out: Record<string, unknown> = {};
  for (const w of CHANNEL_WIRES) {
    const row: FieldRow<ChannelWire> = CHANNEL_FIELDS[w];
    if ('default' in row) out[row.record] = structuredClone(row.default);
  }
  return out as ChannelDefaults;
}

/** The stored fields of validated input, under their record names; absent ones stay absent. */
export function storedFields(f: ChannelFields): StoredChannelFields;
export function storedFields(f: Partial<ChannelFields>): Partial<StoredChannelFields>;
export function storedFields(f: Partial<ChannelFields>): Partial<StoredChannelFields> {
  const out: Record<string, unknown> = {};
  for (const w of STORED_WIRES) {
    const k = CHANNEL_FIELDS[w].record;
    if (f[k] !== undefined) out[k] = f[k];
  }
  return out;
}

/** A record's stored fields under their wire names. */
export function storedToWire(c: StoredChannelFields): StoredChannelWire {
  const out: Record<string, unknown> = {};
  for (const w of STORED_WIRES) out[w] = c[CHANNEL_FIELDS[w].record];
  return out as StoredChannelWire;
}

/** Each stored field's record name and column, for the store's row mappers. */
export const STORED_CHANNEL_COLUMNS: readonly {
  record: Camel<StoredWire>;
  column: StoredWire;
  json: boolean;
}[] = STORED_WIRES.flatMap((w) => {
  const row: FieldRow<StoredWire> = CHANNEL_FIELDS[w];
  return row.column === null ? [] : [{ record: row.record, column: row.column.name, json: row.column.json }];
});

/** The property commander gives a flag's value: `--api-version` -> `apiVersion`. */
export type FlagAttribute<W extends ChannelWire> = Table[W]['flag'] extends `--${infer N}`
  ? Camel<N, '-'>
  : never;

export function flagAttribute<W extends ChannelWire>(w: W): FlagAttribute<W> {
  const name = CHANNEL_FIELDS[w].flag.slice(2);
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as FlagAttribute<W>;
}
