/**
 * The SQLite schema as an ordered list of numbered migrations. `PRAGMA user_version` records the
 * last one applied, so a migration runs exactly once per database file; append new entries, never
 * edit a released one. Money columns are integer micro-USD; list- and map-valued fields are JSON
 * text; times are ISO 8601 UTC strings, which sort correctly as text.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** `PRAGMA application_id` of every BurnCloud database: "BCLD". */
export const APPLICATION_ID = 0x42434c44;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        balance INTEGER NOT NULL DEFAULT 0,
        "group" TEXT NOT NULL DEFAULT 'default',
        created_at TEXT NOT NULL
      );

      CREATE TABLE groups (
        name TEXT PRIMARY KEY,
        ratio REAL NOT NULL
      );
      INSERT INTO groups (name, ratio) VALUES ('default', 1);

      CREATE TABLE channels (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        base_url TEXT,
        models TEXT NOT NULL DEFAULT '[]',
        map TEXT NOT NULL DEFAULT '{}',
        groups TEXT NOT NULL DEFAULT '[]',
        priority INTEGER NOT NULL DEFAULT 0,
        weight INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL,
        status_reason TEXT,
        secrets TEXT NOT NULL DEFAULT '[]',
        timeout_ms INTEGER NOT NULL,
        region TEXT,
        api_version TEXT,
        settings TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );

      CREATE TABLE keys (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        "group" TEXT NOT NULL DEFAULT 'default',
        budget INTEGER,
        spent INTEGER NOT NULL DEFAULT 0,
        expires_at TEXT,
        models TEXT NOT NULL DEFAULT '[]',
        allow_ips TEXT NOT NULL DEFAULT '[]',
        rpm INTEGER,
        tpm INTEGER,
        concurrency INTEGER,
        status TEXT NOT NULL,
        user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        last_used_at TEXT
      );
      CREATE INDEX keys_user_id ON keys(user_id);

      CREATE TABLE prices (
        model TEXT PRIMARY KEY,
        input INTEGER NOT NULL,
        output INTEGER NOT NULL,
        cache_read INTEGER,
        cache_write INTEGER,
        per_request INTEGER,
        max_output_tokens INTEGER,
        source TEXT NOT NULL CHECK (source IN ('default', 'user'))
      );

      -- Models whose price the user removed: seeding the default table must not bring them back.
      CREATE TABLE price_tombstones (
        model TEXT PRIMARY KEY
      );

      CREATE TABLE bc_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );

      -- Names are copied into the row so history survives renames and deleted channels.
      CREATE TABLE logs (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        time TEXT NOT NULL,
        key_name TEXT,
        key_id INTEGER,
        channel_name TEXT,
        channel_id INTEGER,
        model TEXT NOT NULL,
        upstream_model TEXT,
        endpoint TEXT NOT NULL,
        status INTEGER NOT NULL,
        error TEXT,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        cached_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        reasoning_tokens INTEGER NOT NULL DEFAULT 0,
        cost INTEGER,
        usage_estimated INTEGER NOT NULL DEFAULT 0,
        latency_ms INTEGER NOT NULL DEFAULT 0,
        ttft_ms INTEGER,
        retries INTEGER NOT NULL DEFAULT 0,
        stream INTEGER NOT NULL DEFAULT 0,
        dropped_fields TEXT NOT NULL DEFAULT '[]'
      );
      CREATE INDEX logs_time ON logs(time);
      CREATE INDEX logs_key_id ON logs(key_id);
      CREATE INDEX logs_model ON logs(model);
      CREATE INDEX logs_channel_id ON logs(channel_id);
      CREATE INDEX logs_status ON logs(status);
    `,
  },
  {
    version: 2,
    name: 'fewer log indexes',
    // every index is written by every request's commit; listings walk rows newest first and stop
    // at their limit, so only time (usage ranges) and key (per-key history) keep an index
    sql: `
      DROP INDEX logs_model;
      DROP INDEX logs_channel_id;
      DROP INDEX logs_status;
    `,
  },
  {
    version: 3,
    name: 'prices are overrides of the catalog',
    // prices now come from the catalog package at run time; the table keeps only `bc price set`
    // rows (stored as 'user'). The seeded default rows would shadow newer catalog prices, and
    // tombstones only kept those rows from coming back.
    sql: `
      DELETE FROM prices WHERE source = 'default';
      DROP TABLE price_tombstones;
    `,
  },
  {
    version: 4,
    name: 'lowered output limits',
    // a key may refuse instead of lowering; a row says to what its output limit was lowered
    sql: `
      ALTER TABLE keys ADD COLUMN strict_budget INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE logs ADD COLUMN max_tokens_clamped INTEGER;
    `,
  },
  {
    version: 5,
    name: 'tenants',
    // SPEC section 11 (design note: TENANTS.md 5.2). The users table of version 1 was never
    // written to (no route created users), so it is recreated with the tenant columns; every
    // keys.user_id is NULL, so nothing points at it. Money is integer micro-USD; for a metered
    // user balance = sum(user_ledger.amount) - spent at all times (balance NULL = unmetered).
    sql: `
      DROP INDEX keys_user_id;
      DROP TABLE users;
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        "group" TEXT NOT NULL DEFAULT 'default',
        balance INTEGER,
        spent INTEGER NOT NULL DEFAULT 0,
        credited INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled', 'deleted')),
        rpm INTEGER,
        tpm INTEGER,
        concurrency INTEGER,
        max_keys INTEGER,
        referral_code TEXT UNIQUE,
        invited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        referral_rewards INTEGER NOT NULL DEFAULT 0,
        note TEXT,
        signup_ip TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX keys_user_id ON keys(user_id);
      ALTER TABLE keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'relay' CHECK (scope IN ('relay', 'account'));
      ALTER TABLE keys ADD COLUMN created_by TEXT NOT NULL DEFAULT 'admin';

      CREATE TABLE user_ledger (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        time TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN
          ('topup', 'adjust', 'redeem', 'invite_bonus', 'invite_reward', 'rebate', 'import')),
        amount INTEGER NOT NULL,
        balance_after INTEGER,
        ref TEXT,
        actor TEXT NOT NULL,
        note TEXT
      );
      CREATE INDEX user_ledger_user ON user_ledger(user_id, id);

      CREATE TABLE redeem_codes (
        id INTEGER PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        batch TEXT,
        amount INTEGER NOT NULL CHECK (amount > 0),
        max_uses INTEGER NOT NULL DEFAULT 1 CHECK (max_uses >= 1),
        uses INTEGER NOT NULL DEFAULT 0 CHECK (uses <= max_uses),
        user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
        promo INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
        expires_at TEXT,
        created_at TEXT NOT NULL
      );
      CREATE INDEX redeem_codes_batch ON redeem_codes(batch);

      CREATE TABLE redemptions (
        id INTEGER PRIMARY KEY,
        code_id INTEGER NOT NULL REFERENCES redeem_codes(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        amount INTEGER NOT NULL,
        time TEXT NOT NULL,
        ip TEXT,
        UNIQUE (code_id, user_id)
      );

      CREATE TABLE invites (
        id INTEGER PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        name TEXT,
        inviter_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        "group" TEXT,
        invitee_amount INTEGER NOT NULL DEFAULT 0,
        inviter_amount INTEGER NOT NULL DEFAULT 0,
        max_uses INTEGER NOT NULL DEFAULT 1 CHECK (max_uses >= 1),
        uses INTEGER NOT NULL DEFAULT 0 CHECK (uses <= max_uses),
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
        expires_at TEXT,
        created_at TEXT NOT NULL
      );

      CREATE TABLE invitations (
        id INTEGER PRIMARY KEY,
        invitee_id INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
        inviter_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        invite_id INTEGER REFERENCES invites(id),
        invitee_bonus INTEGER NOT NULL,
        inviter_reward INTEGER NOT NULL,
        reward_on TEXT NOT NULL CHECK (reward_on IN ('signup', 'first_credit')),
        status TEXT NOT NULL CHECK (status IN ('pending', 'rewarded', 'capped', 'void')),
        rebate_paid INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        rewarded_at TEXT,
        signup_ip TEXT
      );
      CREATE INDEX invitations_inviter ON invitations(inviter_id, created_at);

      CREATE TABLE import_map (
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        source_id INTEGER NOT NULL,
        target_id INTEGER NOT NULL,
        PRIMARY KEY (source, kind, source_id)
      );
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
