/**
 * Reads a One API / New API SQLite database for `bc import one-api`: opened read-only (never
 * through the daemon's own opener, which refuses foreign files), every table read inside one read
 * transaction so the snapshot is consistent even while One API keeps writing. Columns come from
 * `PRAGMA table_info`: only those that exist are selected, because older New API versions lack
 * some, and which ones exist also tells the flavours apart (TENANTS.md 3.4). Rows stay loosely
 * typed here; the planner reads each field through the coercions at the bottom.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { ImportFlavor } from '../../shared/import-plan.js';
import { UsageError } from '../parse.js';

export type Row = Record<string, unknown>;

export interface SourceTable {
  /** the columns the table has (all of them, not only those read) */
  columns: ReadonlySet<string>;
  rows: Row[];
}

export interface SourceData {
  /** absolute path of the database file */
  path: string;
  /** `one-api:<sha256(path)[:12]>` */
  source: string;
  flavor: ImportFlavor;
  /** what the schema says, before any `--flavor` */
  detected: ImportFlavor;
  channels: SourceTable;
  tokens: SourceTable;
  users: SourceTable;
  redemptions: SourceTable;
  /** the `options` table: key -> value */
  options: ReadonlyMap<string, string>;
  /** row counts of the tables nothing is imported from */
  notImported: Record<string, number>;
}

/**
 * better-sqlite3 is required when a database is opened, not imported: the CLI bundle's chunks
 * import only Node's built-ins statically (test/unit/cli-imports.test.ts).
 */
function openReadOnly(file: string): Database.Database {
  const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  return new Sqlite(file, { readonly: true, fileMustExist: true });
}

const REQUIRED = ['channels', 'tokens', 'users', 'options'] as const;

/** The columns each imported table is read for, where present (a missing one reads as undefined). */
const WANTED: Record<'channels' | 'tokens' | 'users' | 'redemptions', readonly string[]> = {
  channels: [
    'id',
    'type',
    'key',
    'status',
    'name',
    'weight',
    'created_time',
    'base_url',
    'other',
    'models',
    'group',
    'model_mapping',
    'priority',
    'config',
    'system_prompt',
    'test_model',
    'openai_organization',
    'open_ai_organization',
    'status_code_mapping',
    'auto_ban',
    'tag',
    'setting',
    'settings',
    'param_override',
    'header_override',
    'remark',
    'channel_info',
  ],
  tokens: [
    'id',
    'user_id',
    'key',
    'status',
    'name',
    'created_time',
    'expired_time',
    'remain_quota',
    'unlimited_quota',
    'used_quota',
    'models',
    'subnet',
    'model_limits_enabled',
    'model_limits',
    'allow_ips',
    'group',
    'deleted_at',
  ],
  users: [
    'id',
    'username',
    'display_name',
    'role',
    'status',
    'quota',
    'used_quota',
    'group',
    'aff_code',
    'aff_quota',
    'inviter_id',
    'deleted_at',
    'remark',
    'created_at',
  ],
  redemptions: [
    'id',
    'user_id',
    'key',
    'status',
    'name',
    'quota',
    'created_time',
    'redeemed_time',
    'used_user_id',
    'deleted_at',
    'expired_time',
  ],
};

/** Tables counted in the report as not imported (whichever exist). */
const NOT_IMPORTED = [
  'logs',
  'top_ups',
  'midjourneys',
  'tasks',
  'checkins',
  'quota_data',
  'subscription_plans',
  'subscription_orders',
  'user_subscriptions',
  'subscription_pre_consume_records',
] as const;

/** `one-api:` and the first 12 hex digits of sha256 of the absolute path. */
export function sourceId(absPath: string): string {
  return `one-api:${createHash('sha256').update(absPath).digest('hex').slice(0, 12)}`;
}

const NOT_ONE_API = 'not a One API / New API database';
const COPY_HINT =
  'hint: stop One API first, or copy its .db file together with the -wal and -shm files beside it and import the copy';

export function readSource(file: string, flavor?: ImportFlavor): SourceData {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new UsageError(`${abs}: no such file`, 'hint: give the path of one-api.db');
  if (!fs.statSync(abs).isFile())
    throw new UsageError(`${abs} is not a file`, 'hint: give the path of one-api.db');
  let db: Database.Database;
  try {
    db = openReadOnly(abs);
  } catch (e) {
    throw new UsageError(`cannot open ${abs}: ${(e as Error).message}`, COPY_HINT);
  }
  try {
    return db.transaction(() => readAll(db, abs, flavor))();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
      throw new UsageError(
        `${abs}: ${NOT_ONE_API} (not an SQLite database)`,
        'hint: give the path of one-api.db',
      );
    throw new UsageError(`cannot read ${abs}: ${(e as Error).message}`, COPY_HINT);
  } finally {
    db.close();
  }
}

function readAll(db: Database.Database, abs: string, override: ImportFlavor | undefined): SourceData {
  const tables = new Set(
    db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all(),
  );
  const missing = REQUIRED.filter((t) => !tables.has(t));
  if (missing.length > 0) {
    throw new UsageError(
      `${abs}: ${NOT_ONE_API} (no table ${missing.join(', ')})`,
      'hint: give the path of the SQLite file One API or New API uses (SQLITE_PATH, default one-api.db)',
    );
  }
  const channels = readTable(db, 'channels', WANTED.channels);
  const tokens = readTable(db, 'tokens', WANTED.tokens);
  const users = readTable(db, 'users', WANTED.users);
  const redemptions = tables.has('redemptions')
    ? readTable(db, 'redemptions', WANTED.redemptions)
    : { columns: new Set<string>(), rows: [] };
  const options = new Map<string, string>();
  const optionColumns = columnsOf(db, 'options');
  if (optionColumns.has('key') && optionColumns.has('value')) {
    for (const r of db.prepare<[], Row>('SELECT "key", "value" FROM options').all())
      options.set(str(r.key), str(r.value));
  }
  const notImported: Record<string, number> = {};
  for (const t of NOT_IMPORTED) {
    if (!tables.has(t)) continue;
    const n = db.prepare<[], number>(`SELECT count(*) FROM "${t}"`).pluck().get() ?? 0;
    if (n > 0) notImported[t] = n;
  }
  // New API if any of its own marks is there (TENANTS.md 3.4)
  const isNewApi =
    tables.has('top_ups') ||
    channels.columns.has('channel_info') ||
    channels.columns.has('tag') ||
    users.columns.has('aff_quota');
  const detected: ImportFlavor = isNewApi ? 'new-api' : 'one-api';
  return {
    path: abs,
    source: sourceId(abs),
    flavor: override ?? detected,
    detected,
    channels,
    tokens,
    users,
    redemptions,
    options,
    notImported,
  };
}

function columnsOf(db: Database.Database, table: string): Set<string> {
  return new Set(
    db
      .prepare<[], { name: string }>(`PRAGMA table_info("${table}")`)
      .all()
      .map((c) => c.name),
  );
}

function readTable(db: Database.Database, table: string, wanted: readonly string[]): SourceTable {
  const columns = columnsOf(db, table);
  const present = wanted.filter((c) => columns.has(c));
  if (!present.includes('id')) throw new UsageError(`table ${table} has no id column: ${NOT_ONE_API}`);
  const list = present.map((c) => `"${c}"`).join(', ');
  const rows = db.prepare<[], Row>(`SELECT ${list} FROM "${table}" ORDER BY "id"`).all();
  return { columns, rows };
}

// Coercions: GORM writes integers, 0/1 or true/false for booleans, text for the rest; NULL anywhere.

export function num(v: unknown, fallback = 0): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return fallback;
}

export function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return JSON.stringify(v) ?? '';
}

export function bool(v: unknown): boolean {
  if (typeof v === 'string') return v === '1' || v.toLowerCase() === 'true';
  return v === 1 || v === true || v === 1n;
}

/** A set value: not NULL, not an empty string. */
export function present(v: unknown): boolean {
  return v !== null && v !== undefined && str(v).trim() !== '';
}

/** A JSON object stored as text, or undefined when absent, empty or not an object. */
export function jsonObject(v: unknown): Record<string, unknown> | undefined {
  const s = str(v).trim();
  if (s === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(s);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Unix seconds to ISO 8601; null for 0, negative (One API's -1: never) or absent. */
export function unixTime(v: unknown): string | null {
  const s = num(v, 0);
  if (s <= 0) return null;
  const d = new Date(s * 1000);
  return Number.isFinite(d.getTime()) ? d.toISOString() : null;
}
