/**
 * One API and New API SQLite databases for the importer's tests, built from the anchors' own
 * schemas (TENANTS.md 2.1, 2.2: the GORM structs, as GORM's SQLite dialect creates their tables,
 * backquoted names and all) in three shapes: One API 2025-02 (8df4a26), New API 2025-04 (before
 * multi-key channels and channel settings: no channel_info, settings, header_override, remark;
 * tokens without cross_group_retry and auto_groups; users without the 2025-H2 columns; codes
 * without expired_time) and New API 2026-08. A row given with a column its shape lacks keeps only
 * the columns the shape has, as that version would have stored it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

export type FixtureShape = 'one-api-2025-02' | 'new-api-2025-04' | 'new-api-2026-08';

type Value = string | number | null;
export type FixtureRow = Record<string, Value>;

export interface FixtureData {
  channels?: FixtureRow[];
  users?: FixtureRow[];
  tokens?: FixtureRow[];
  redemptions?: FixtureRow[];
  /** option name -> value (JSON objects as text, numbers as text, as the anchors store them) */
  options?: Record<string, string>;
  /** rows of the logs table */
  logs?: number;
  /** New API: rows of top_ups */
  topUps?: number;
}

type Columns = Record<string, string>;

const OA_USERS: Columns = {
  id: 'integer',
  username: 'text UNIQUE',
  password: "text NOT NULL DEFAULT ''",
  display_name: 'text',
  role: 'integer DEFAULT 1',
  status: 'integer DEFAULT 1',
  email: 'text',
  github_id: 'text',
  wechat_id: 'text',
  lark_id: 'text',
  oidc_id: 'text',
  access_token: 'char(32) UNIQUE',
  quota: 'bigint DEFAULT 0',
  used_quota: 'bigint DEFAULT 0',
  request_count: 'integer DEFAULT 0',
  group: "varchar(32) DEFAULT 'default'",
  aff_code: 'varchar(32) UNIQUE',
  inviter_id: 'integer',
};

const OA_TOKENS: Columns = {
  id: 'integer',
  user_id: 'integer',
  key: 'char(48) UNIQUE',
  status: 'integer DEFAULT 1',
  name: 'text',
  created_time: 'bigint',
  accessed_time: 'bigint',
  expired_time: 'bigint DEFAULT -1',
  remain_quota: 'bigint DEFAULT 0',
  unlimited_quota: 'numeric DEFAULT false',
  used_quota: 'bigint DEFAULT 0',
  models: 'text',
  subnet: "text DEFAULT ''",
};

const OA_REDEMPTIONS: Columns = {
  id: 'integer',
  user_id: 'integer',
  key: 'char(32) UNIQUE',
  status: 'integer DEFAULT 1',
  name: 'text',
  quota: 'bigint DEFAULT 100',
  created_time: 'bigint',
  redeemed_time: 'bigint',
};

const OA_CHANNELS: Columns = {
  id: 'integer',
  type: 'integer DEFAULT 0',
  key: 'text',
  status: 'integer DEFAULT 1',
  name: 'text',
  weight: 'integer DEFAULT 0',
  created_time: 'bigint',
  test_time: 'bigint',
  response_time: 'integer',
  base_url: "text DEFAULT ''",
  other: 'text',
  balance: 'real',
  balance_updated_time: 'bigint',
  models: 'text',
  group: "varchar(32) DEFAULT 'default'",
  used_quota: 'bigint DEFAULT 0',
  model_mapping: "varchar(1024) DEFAULT ''",
  priority: 'bigint DEFAULT 0',
  config: 'text',
  system_prompt: 'text',
};

const NA_USERS_2025_04: Columns = {
  id: 'integer',
  username: 'text UNIQUE',
  password: "text NOT NULL DEFAULT ''",
  display_name: 'text',
  role: 'integer DEFAULT 1',
  status: 'integer DEFAULT 1',
  email: 'text',
  github_id: 'text',
  oidc_id: 'text',
  wechat_id: 'text',
  telegram_id: 'text',
  access_token: 'char(32) UNIQUE',
  quota: 'integer DEFAULT 0',
  used_quota: 'integer DEFAULT 0',
  request_count: 'integer DEFAULT 0',
  group: "varchar(64) DEFAULT 'default'",
  aff_code: 'varchar(32) UNIQUE',
  aff_count: 'integer DEFAULT 0',
  aff_quota: 'integer DEFAULT 0',
  aff_history: 'integer DEFAULT 0',
  inviter_id: 'integer',
  deleted_at: 'datetime',
  linux_do_id: 'text',
  setting: 'text',
};

const NA_USERS_2026_08: Columns = {
  ...NA_USERS_2025_04,
  discord_id: 'text',
  remark: 'varchar(255)',
  stripe_customer: 'varchar(64)',
  created_at: 'bigint',
  last_login_at: 'bigint DEFAULT 0',
  auth_version: 'bigint NOT NULL DEFAULT 1',
};

const NA_TOKENS_2025_04: Columns = {
  id: 'integer',
  user_id: 'integer',
  key: 'varchar(128) UNIQUE',
  status: 'integer DEFAULT 1',
  name: 'text',
  created_time: 'bigint',
  accessed_time: 'bigint',
  expired_time: 'bigint DEFAULT -1',
  remain_quota: 'integer DEFAULT 0',
  unlimited_quota: 'numeric',
  model_limits_enabled: 'numeric',
  model_limits: 'text',
  allow_ips: "text DEFAULT ''",
  used_quota: 'integer DEFAULT 0',
  group: "text DEFAULT ''",
  deleted_at: 'datetime',
};

const NA_TOKENS_2026_08: Columns = {
  ...NA_TOKENS_2025_04,
  cross_group_retry: 'numeric',
  auto_groups: 'text',
};

const NA_REDEMPTIONS_2025_04: Columns = {
  ...OA_REDEMPTIONS,
  quota: 'integer DEFAULT 100',
  used_user_id: 'integer',
  deleted_at: 'datetime',
};

const NA_REDEMPTIONS_2026_08: Columns = { ...NA_REDEMPTIONS_2025_04, expired_time: 'bigint' };

const NA_CHANNELS_2025_04: Columns = {
  id: 'integer',
  type: 'integer DEFAULT 0',
  key: "text NOT NULL DEFAULT ''",
  open_ai_organization: 'text',
  test_model: 'text',
  status: 'integer DEFAULT 1',
  name: 'text',
  weight: 'integer DEFAULT 0',
  created_time: 'bigint',
  test_time: 'bigint',
  response_time: 'integer',
  base_url: "text DEFAULT ''",
  other: 'text',
  balance: 'real',
  balance_updated_time: 'bigint',
  models: 'text',
  group: "varchar(64) DEFAULT 'default'",
  used_quota: 'bigint DEFAULT 0',
  model_mapping: 'text',
  status_code_mapping: "varchar(1024) DEFAULT ''",
  priority: 'bigint DEFAULT 0',
  auto_ban: 'integer DEFAULT 1',
  other_info: 'text',
  tag: 'text',
  setting: 'text',
  param_override: 'text',
};

const NA_CHANNELS_2026_08: Columns = {
  ...NA_CHANNELS_2025_04,
  header_override: 'text',
  remark: 'varchar(255)',
  channel_info: 'json',
  settings: 'text',
};

const OPTIONS: Columns = { key: 'text', value: 'text' };
const OA_ABILITIES: Columns = {
  group: 'varchar(32)',
  model: 'text',
  channel_id: 'integer',
  enabled: 'numeric',
  priority: 'bigint DEFAULT 0',
};
const OA_LOGS: Columns = {
  id: 'integer',
  user_id: 'integer',
  created_at: 'bigint',
  type: 'integer',
  content: 'text',
  username: "text DEFAULT ''",
  token_name: "text DEFAULT ''",
  model_name: "text DEFAULT ''",
  quota: 'integer DEFAULT 0',
  prompt_tokens: 'integer DEFAULT 0',
  completion_tokens: 'integer DEFAULT 0',
  channel_id: 'integer',
  request_id: "text DEFAULT ''",
  elapsed_time: 'bigint DEFAULT 0',
  is_stream: 'numeric DEFAULT false',
  system_prompt_reset: 'numeric DEFAULT false',
};
const NA_LOGS: Columns = {
  id: 'integer',
  user_id: 'integer',
  created_at: 'bigint',
  type: 'integer',
  content: 'text',
  username: "text DEFAULT ''",
  token_name: "text DEFAULT ''",
  model_name: "text DEFAULT ''",
  quota: 'integer DEFAULT 0',
  prompt_tokens: 'integer DEFAULT 0',
  completion_tokens: 'integer DEFAULT 0',
  use_time: 'integer DEFAULT 0',
  is_stream: 'numeric',
  channel_id: 'integer',
  token_id: 'integer DEFAULT 0',
  group: 'text',
  ip: "text DEFAULT ''",
  other: 'text',
};
const NA_TOP_UPS: Columns = {
  id: 'integer',
  user_id: 'integer',
  amount: 'bigint',
  money: 'real',
  trade_no: 'varchar(255) UNIQUE',
  payment_method: 'varchar(50)',
  create_time: 'bigint',
  complete_time: 'bigint',
  status: 'text',
};

const SHAPES: Record<FixtureShape, Record<string, Columns>> = {
  'one-api-2025-02': {
    users: OA_USERS,
    tokens: OA_TOKENS,
    redemptions: OA_REDEMPTIONS,
    channels: OA_CHANNELS,
    options: OPTIONS,
    abilities: OA_ABILITIES,
    logs: OA_LOGS,
  },
  'new-api-2025-04': {
    users: NA_USERS_2025_04,
    tokens: NA_TOKENS_2025_04,
    redemptions: NA_REDEMPTIONS_2025_04,
    channels: NA_CHANNELS_2025_04,
    options: OPTIONS,
    abilities: { ...OA_ABILITIES, group: 'varchar(64)', weight: 'integer DEFAULT 0', tag: 'text' },
    logs: NA_LOGS,
    top_ups: NA_TOP_UPS,
  },
  'new-api-2026-08': {
    users: NA_USERS_2026_08,
    tokens: NA_TOKENS_2026_08,
    redemptions: NA_REDEMPTIONS_2026_08,
    channels: NA_CHANNELS_2026_08,
    options: OPTIONS,
    abilities: { ...OA_ABILITIES, group: 'varchar(64)', weight: 'integer DEFAULT 0', tag: 'text' },
    logs: NA_LOGS,
    top_ups: NA_TOP_UPS,
  },
};

function createTable(db: Database.Database, name: string, cols: Columns): void {
  const defs = Object.entries(cols).map(([c, t]) => `\`${c}\` ${t}`);
  const key = name === 'options' ? '`key`' : name === 'abilities' ? '`group`,`model`,`channel_id`' : '`id`';
  db.exec(`CREATE TABLE \`${name}\` (${defs.join(',')},PRIMARY KEY (${key}))`);
}

function insert(db: Database.Database, table: string, cols: Columns, row: FixtureRow): void {
  const names = Object.keys(row).filter((c) => Object.hasOwn(cols, c));
  const sql = `INSERT INTO \`${table}\` (${names.map((c) => `\`${c}\``).join(',')}) VALUES (${names.map(() => '?').join(',')})`;
  db.prepare(sql).run(...names.map((c) => row[c] ?? null));
}

/** Creates the database file at `file` in `shape` with `data`; returns the path. */
export function writeFixtureDb(file: string, shape: FixtureShape, data: FixtureData = {}): string {
  const db = new Database(file);
  try {
    const tables = SHAPES[shape];
    for (const [name, cols] of Object.entries(tables)) createTable(db, name, cols);
    const rows: [string, FixtureRow[] | undefined][] = [
      ['users', data.users],
      ['tokens', data.tokens],
      ['redemptions', data.redemptions],
      ['channels', data.channels],
    ];
    db.transaction(() => {
      for (const [t, list] of rows) for (const r of list ?? []) insert(db, t, tables[t] ?? {}, r);
      for (const [key, value] of Object.entries(data.options ?? {}))
        insert(db, 'options', OPTIONS, { key, value });
      for (let i = 1; i <= (data.logs ?? 0); i++)
        insert(db, 'logs', tables.logs ?? {}, {
          id: i,
          user_id: 1,
          created_at: 1700000000 + i,
          type: 2,
          quota: 10,
        });
      if (tables.top_ups !== undefined)
        for (let i = 1; i <= (data.topUps ?? 0); i++)
          insert(db, 'top_ups', tables.top_ups, {
            id: i,
            user_id: 1,
            amount: 10,
            trade_no: `t${i}`,
            status: 'success',
          });
    })();
  } finally {
    db.close();
  }
  return file;
}

/** A fresh temporary folder for fixture files; remove it with `fs.rmSync(dir, {recursive: true})`. */
export function fixtureDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bc-oneapi-'));
}

/** A 48-character One API token key (stored without `sk-`). */
export function tokenKey(seed: string): string {
  return (seed + 'x'.repeat(48)).replace(/[^A-Za-z0-9]/g, 'z').slice(0, 48);
}

/** A 32-hex One API redemption code. */
export function redemptionCode(seed: number): string {
  return seed.toString(16).padStart(32, 'a');
}
