/**
 * The generic half of the field tables (channel-fields.ts, key-fields.ts). A table has one row per
 * settable field of a control-API input type, keyed by its wire name (snake_case): the field's
 * record name (camelCase), its SQLite column and how the value sits there, its default on create
 * and the CLI flag that sets it. This module holds the row type, the type-level name mapping and
 * the walks every table needs (defaults, stored fields, columns, flag attributes); each table
 * module wraps them with the types derived from its own rows. Pure data and types: the CLI imports
 * it without reaching daemon code.
 */

/** `timeout_ms` -> `timeoutMs` (and `api-version` -> `apiVersion` with `-`), at the type level. */
export type Camel<S extends string, Sep extends string = '_'> = S extends `${infer H}${Sep}${infer T}`
  ? `${H}${Capitalize<Camel<T, Sep>>}`
  : S;

/** How a field's value sits in its column: as it is, as JSON text, or a boolean as 0/1. */
export type ColumnCodec = 'value' | 'json' | 'bool';

export interface FieldRow<W extends string, V> {
  /** the name in the validated fields and the store's record: the wire name in camelCase */
  record: Camel<W>;
  /** its column (named like the wire field); null: the field is not stored as it is */
  column: { name: W; as: ColumnCodec } | null;
  /** the value on create when the field is not given; absent: the field is required */
  default?: V;
  /** the CLI flag that sets it */
  flag: `--${string}`;
}

/** The rows a table must have for an input type I: one per field, typed by the field's value. */
export type FieldTable<I> = { readonly [W in keyof I & string]: FieldRow<W, Exclude<I[W], undefined>> };

/** The wire names of a table's rows that have a column. */
export type StoredWireOf<T> = {
  [W in keyof T]: T[W] extends { column: null } ? never : W;
}[keyof T];

/** The wire names of a table's rows that have a default. */
export type DefaultedWireOf<T> = {
  [W in keyof T]: T[W] extends { default: unknown } ? W : never;
}[keyof T];

/** The property commander gives a row's flag value: `--api-version` -> `apiVersion`. */
export type FlagAttributeOf<R> = R extends { flag: `--${infer N}` } ? Camel<N, '-'> : never;

/** A stored field's record name, column and codec, for the store's row mappers. */
export interface StoredColumn<R extends string = string, C extends string = string> {
  record: R;
  column: C;
  as: ColumnCodec;
}

type AnyRow = FieldRow<string, unknown>;
type AnyTable = { readonly [w: string]: AnyRow };

/*
 * The walks below move values between names a table ties together. TypeScript cannot follow a
 * value through a key renamed at the type level for a generic field, so they work on plain
 * objects; each table module states the derived types once in its wrappers.
 */

/** The defaults of the rows that have one, fresh copies under their record names. */
export function defaultsOf(table: AnyTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const row of Object.values(table))
    if ('default' in row) out[row.record] = structuredClone(row.default);
  return out;
}

/** The stored fields of validated input, under their record names; absent ones stay absent. */
export function pickStored(table: AnyTable, f: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const row of Object.values(table)) {
    if (row.column !== null && f[row.record] !== undefined) out[row.record] = f[row.record];
  }
  return out;
}

/** A record's stored fields under their wire names, in the table's order. */
export function storedToWireOf(
  table: AnyTable,
  c: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [w, row] of Object.entries(table)) if (row.column !== null) out[w] = c[row.record];
  return out;
}

/** Each stored field's record name, column and codec, in the table's order. */
export function storedColumnsOf(table: AnyTable): StoredColumn[] {
  return Object.values(table).flatMap((row) =>
    row.column === null ? [] : [{ record: row.record, column: row.column.name, as: row.column.as }],
  );
}

/** The value a column holds read back (our own rows: each holds its field's type). */
export function fromColumn(as: ColumnCodec, raw: unknown): unknown {
  if (as === 'json') return JSON.parse(String(raw));
  if (as === 'bool') return raw !== 0;
  return raw;
}

/** A field's value as its column holds it: better-sqlite3 binds numbers, strings and null only. */
export function toColumn(as: ColumnCodec, v: unknown): string | number | null {
  if (as === 'json') return JSON.stringify(v);
  if (as === 'bool') return v === true ? 1 : 0;
  return v as string | number | null;
}

/** The property commander gives a flag's value: `--api-version` -> `apiVersion`. */
export function attributeOf(flag: `--${string}`): string {
  return flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
