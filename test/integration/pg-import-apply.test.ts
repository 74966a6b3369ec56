// bc import one-api's apply step on PostgreSQL (store/postgres/import-apply.ts) against the SQLite
// form it mirrors (store/sqlite/import-apply.ts), on the run's real PostgreSQL 15. The prepared
// imports are built as the control route builds them: fixture One API / New API databases
// (support/one-api-fixtures.ts) read by the CLI's planner, then the route's prepare() (secrets
// sealed, key secrets hashed). The same prepared import is applied to a SQLite file and a fresh
// PostgreSQL database, and every table is compared row by row with ids replaced by what they point
// at; a re-run brings nothing twice; a failure halfway leaves no row; every metered user's ledger
// sums to balance + spent; imports of one source running at once create each entity once; and
// two sources with the same names running at once both commit, the later one renaming.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { planFromFile } from '../../src/cli/import/plan.js';
import { prepare } from '../../src/daemon/control/routes/import.js';
import { SecretBox } from '../../src/daemon/secrets.js';
import type { ImportApplied, PreparedImport } from '../../src/daemon/store/import-types.js';
import { connectPostgres, type Sql } from '../../src/daemon/store/postgres/connection.js';
import { applyImportPostgres } from '../../src/daemon/store/postgres/import-apply.js';
import { migratePostgres } from '../../src/daemon/store/postgres/migrate.js';
import { openSqliteDatabase, type Db } from '../../src/daemon/store/sqlite/database.js';
import { applyImport } from '../../src/daemon/store/sqlite/import-apply.js';
import type { PricesMode } from '../../src/shared/import-plan.js';
import { fixtureDir, redemptionCode, tokenKey, writeFixtureDb } from '../support/one-api-fixtures.js';
import { freshPgDatabase } from '../support/stores.js';

const NOW = '2026-12-07T12:00:00.000Z';
const ANN_KEY = tokenKey('annAnnAnn');
const CODE = redemptionCode(0xc0de);
const REFERRAL = 'ABCDEFGH';

type Row = Record<string, unknown>;

interface Side {
  all(query: string): Promise<Row[]>;
  apply(p: PreparedImport): Promise<ImportApplied>;
}

let dir: string;
let secrets: SecretBox;
let oneApi: PreparedImport;
let newApi: PreparedImport;
let sqliteCount = 0;
const dbs: Db[] = [];
const pools: Sql[] = [];

function prepared(file: string, prices?: PricesMode): PreparedImport {
  const plan = planFromFile(file, prices === undefined ? {} : { prices });
  return prepare(plan, { secrets }).prepared;
}

beforeAll(() => {
  dir = fixtureDir();
  secrets = SecretBox.load({ file: path.join(dir, 'master.key'), create: true });
  const now = 1_765_000_000;
  oneApi = prepared(
    writeFixtureDb(path.join(dir, 'one-api.db'), 'one-api-2025-02', {
      options: {
        QuotaPerUnit: '1000000',
        ModelRatio: JSON.stringify({ 'm-imp': 1.5, 'gpt-4o': 1.25 }),
        CompletionRatio: JSON.stringify({ 'm-imp': 2, 'gpt-4o': 4 }),
        GroupRatio: JSON.stringify({ default: 1, vip: 0.75 }),
      },
      channels: [
        { id: 1, type: 1, name: 'sim', key: 'sk-upstream-0123456789abcdef', models: 'm-imp' },
        {
          id: 2,
          type: 3,
          name: 'azure-east',
          key: 'azure-secret-0123456789',
          models: 'gpt-4.1',
          base_url: 'https://east.openai.azure.com',
          config: '{"api_version":"2024-10-21"}',
          status: 2,
        },
        { id: 3, type: 34, name: 'coze', key: 'k', models: 'bot' },
      ],
      users: [
        { id: 1, username: 'root', role: 100, quota: 500_000_000, used_quota: 123 },
        { id: 2, username: 'ann', quota: 5_000_000, used_quota: 1_250_000, aff_code: REFERRAL },
        { id: 3, username: 'bob', quota: 2_000_000, group: 'vip', inviter_id: 2, status: 2 },
        { id: 4, username: 'deleted_9f', status: 3, quota: 7 },
      ],
      tokens: [
        { id: 1, user_id: 2, key: ANN_KEY, name: 'default', unlimited_quota: 1, created_time: now },
        { id: 2, user_id: 3, key: tokenKey('bobBob'), name: 'default', remain_quota: 1_500_000 },
        { id: 3, user_id: 4, key: tokenKey('gone'), name: 'default' },
      ],
      redemptions: [
        { id: 1, user_id: 1, key: CODE, name: 'promo', quota: 3_000_000, status: 1, created_time: now },
        { id: 2, user_id: 1, key: redemptionCode(2), quota: 1_000_000, status: 3, redeemed_time: now },
        { id: 3, user_id: 1, key: redemptionCode(3), quota: 1_000_000, status: 2 },
      ],
    }),
  );
  // a second source: names, a referral code, a key secret and a code already here, and the
  // prices kept as set here (--prices keep)
  newApi = prepared(
    writeFixtureDb(path.join(dir, 'new-api.db'), 'new-api-2026-08', {
      options: { ModelRatio: JSON.stringify({ 'm-imp': 3, 'm-new': 0.5 }) },
      channels: [{ id: 4, type: 1, name: 'sim', key: 'sk-other-0123456789abcdef', models: 'm-new' }],
      users: [
        { id: 7, username: 'ann', quota: 1_000_000, used_quota: 500_000, aff_quota: 250_000 },
        { id: 8, username: 'carl', quota: 10, aff_code: REFERRAL, inviter_id: 7 },
      ],
      tokens: [
        { id: 5, user_id: 7, key: ANN_KEY, name: 'dup', unlimited_quota: 1 },
        { id: 6, user_id: 7, key: tokenKey('ann7'), name: 'default', unlimited_quota: 1 },
      ],
      redemptions: [
        { id: 1, key: CODE, quota: 2_000_000, status: 1 },
        { id: 2, key: redemptionCode(22), quota: 500_000, status: 3, used_user_id: 8, redeemed_time: now },
      ],
    }),
    'keep',
  );
});

afterEach(async () => {
  for (const db of dbs.splice(0)) db.close();
  await Promise.all(pools.splice(0).map((s) => s.end({ timeout: 5 })));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function sqliteSide(): Side {
  const db = openSqliteDatabase(path.join(dir, `store-${++sqliteCount}.db`));
  dbs.push(db);
  return {
    all: (q) => Promise.resolve(db.prepare<[], Row>(q).all()),
    apply: (p) => Promise.resolve().then(() => applyImport(db, p, NOW)),
  };
}

function pgClient(url: string): Sql {
  const sql = connectPostgres(url, { max: 2, name: 'pg-import-apply-test' });
  pools.push(sql);
  return sql;
}

function pgSideOn(sql: Sql): Side {
  return {
    all: (q) => sql.unsafe<Row[]>(q),
    apply: (p) => applyImportPostgres(sql, p, NOW),
  };
}

async function pgSide(): Promise<{ side: Side; url: string; sql: Sql }> {
  const url = await freshPgDatabase();
  const sql = pgClient(url);
  await migratePostgres(sql, 'test database');
  return { side: pgSideOn(sql), url, sql };
}

/** Every table the import writes, ids replaced by the names or hashes they point at, sorted. */
const TABLES: Record<string, string> = {
  users: `SELECT u.name, u."group", u.balance, u.spent, u.credited, u.status, u.rpm, u.tpm,
      u.concurrency, u.max_keys, u.referral_code, i.name AS inviter, u.referral_rewards, u.note,
      u.signup_ip, u.created_at, u.updated_at
    FROM users u LEFT JOIN users i ON i.id = u.invited_by`,
  ledger: `SELECT u.name AS user_name, l.time, l.kind, l.amount, l.balance_after, l.ref, l.actor, l.note
    FROM user_ledger l JOIN users u ON u.id = l.user_id`,
  keys: `SELECT k.name, k.hash, k.prefix, k."group", k.budget, k.spent, k.expires_at, k.models,
      k.allow_ips, k.rpm, k.tpm, k.concurrency, k.status, u.name AS owner, k.created_at,
      k.last_used_at, k.strict_budget, k.scope, k.created_by
    FROM keys k LEFT JOIN users u ON u.id = k.user_id`,
  channels: `SELECT name, type, base_url, models, map, groups, priority, weight, status,
      status_reason, secrets, timeout_ms, region, api_version, settings, created_at, updated_at
    FROM channels`,
  codes: `SELECT c.hash, c.prefix, c.batch, c.amount, c.max_uses, c.uses, u.name AS owner, c.promo,
      c.status, c.expires_at, c.created_at
    FROM redeem_codes c LEFT JOIN users u ON u.id = c.user_id`,
  redemptions: `SELECT c.hash, u.name AS user_name, r.amount, r.time, r.ip
    FROM redemptions r JOIN redeem_codes c ON c.id = r.code_id JOIN users u ON u.id = r.user_id`,
  prices: `SELECT model, input, output, cache_read, cache_write, per_request, max_output_tokens, source
    FROM prices`,
  groups: 'SELECT name, ratio FROM groups',
  import_map: `SELECT m.source, m.kind, m.source_id,
      COALESCE(u.name, ch.name, k.name, c.hash, CASE WHEN m.target_id = 0 THEN '(none)' END) AS target
    FROM import_map m
    LEFT JOIN users u ON m.kind = 'user' AND u.id = m.target_id
    LEFT JOIN channels ch ON m.kind = 'channel' AND ch.id = m.target_id
    LEFT JOIN keys k ON m.kind = 'key' AND k.id = m.target_id
    LEFT JOIN redeem_codes c ON m.kind = 'code' AND c.id = m.target_id`,
};

async function snapshot(side: Side): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [table, q] of Object.entries(TABLES))
    out[table] = (await side.all(q)).map((r) => JSON.stringify(r, Object.keys(r).sort())).sort();
  return out;
}

/** The report without the users' ids (the only id it carries). */
function report(r: ImportApplied): unknown {
  return { ...r, changes: r.changes.map((c) => c.amount).sort((a, b) => a - b) };
}

const total = (r: ImportApplied, kind: keyof ImportApplied['counts']) =>
  r.counts[kind].imported + r.counts[kind].skipped + r.counts[kind].already;

describe('applyImportPostgres', () => {
  it('writes what SQLite writes, table by table, and answers with the same report', async () => {
    const lite = sqliteSide();
    const { side: pg } = await pgSide();
    for (const p of [oneApi, newApi]) {
      const want = await lite.apply(p);
      const got = await pg.apply(p);
      expect(report(got)).toEqual(report(want));
    }
    const want = await snapshot(lite);
    expect(await snapshot(pg)).toEqual(want);

    // the comparison covers what it should: renames, drops, skips, keys by import, money
    expect(want.users).toHaveLength(5);
    expect(want.keys).toHaveLength(3);
    expect(want.redemptions).toHaveLength(1);
    const users = await pg.all('SELECT name, referral_code, balance, spent FROM users ORDER BY id');
    expect(users).toEqual([
      { name: 'root', referral_code: null, balance: null, spent: 123 },
      { name: 'ann', referral_code: REFERRAL, balance: 5_000_000, spent: 1_250_000 },
      { name: 'bob', referral_code: null, balance: 2_000_000, spent: 0 },
      { name: 'ann-7', referral_code: null, balance: 2_500_000, spent: 1_000_000 },
      { name: 'carl', referral_code: null, balance: 20, spent: 0 },
    ]);
    expect(await pg.all("SELECT name FROM keys WHERE created_by = 'import' ORDER BY name")).toEqual([
      { name: 'ann-7/default' },
      { name: 'ann/default' },
      { name: 'bob/default' },
    ]);
  });

  it('the New API run warns as SQLite does (names taken, referral dropped, secret and code held, price kept)', async () => {
    const { side: pg } = await pgSide();
    await pg.apply(oneApi);
    const r = await pg.apply(newApi);
    expect(r.warnings).toEqual(
      expect.arrayContaining([
        'user "ann" (#7): the name is taken here: imported as "ann-7"',
        `user "carl" (#8): referral code ${REFERRAL} is taken here: dropped`,
        'channel "sim" (#4): the name is taken here: imported as "sim-2"',
        'token "dup" (#5): skipped: key #1 has the same secret already',
        `code "${CODE.slice(0, 6)}" (#1): skipped: code #1 is the same code`,
        'price "m-imp": kept as set here (--prices keep)',
      ]),
    );
    expect(r.counts).toEqual({
      channels: { imported: 1, skipped: 0, already: 0 },
      keys: { imported: 1, skipped: 1, already: 0 },
      users: { imported: 2, skipped: 0, already: 0 },
      codes: { imported: 1, skipped: 1, already: 0 },
      prices: { imported: 1, skipped: 1, already: 0 },
      groups: { imported: 0, skipped: 0, already: 0 },
    });
    // a skipped entity is not mapped, so a later run may still bring it over
    const mapped = await pg.all(
      "SELECT kind, source_id FROM import_map WHERE source = '" +
        newApi.source +
        "' ORDER BY kind, source_id",
    );
    expect(mapped.map((m) => `${String(m.kind)}:${String(m.source_id)}`)).not.toContain('key:5');
    expect(mapped.map((m) => `${String(m.kind)}:${String(m.source_id)}`)).not.toContain('code:1');
  });

  it('a re-run imports nothing and counts what it had already, as SQLite does', async () => {
    const lite = sqliteSide();
    const { side: pg } = await pgSide();
    for (const p of [oneApi, newApi]) {
      await lite.apply(p);
      await pg.apply(p);
    }
    const before = await snapshot(pg);
    for (const p of [oneApi, newApi]) {
      const want = await lite.apply(p);
      const got = await pg.apply(p);
      expect(report(got)).toEqual(report(want));
      for (const kind of ['channels', 'keys', 'users', 'codes', 'prices', 'groups'] as const)
        expect(got.counts[kind].imported, kind).toBe(0);
      expect(got.changes).toEqual([]);
    }
    const again = await pg.all("SELECT count(*)::int AS n FROM import_map WHERE source LIKE 'one-api:%'");
    expect(again[0]?.n).toBeGreaterThan(0);
    expect(await snapshot(pg)).toEqual(before);
    expect(await snapshot(pg)).toEqual(await snapshot(lite));
  });

  it('all or nothing: a row refused halfway leaves no row behind, on both stores', async () => {
    const lite = sqliteSide();
    const { side: pg } = await pgSide();
    // amount 0 breaks redeem_codes' CHECK (amount > 0): codes come after users, channels and keys
    const broken: PreparedImport = {
      ...oneApi,
      codes: [...oneApi.codes, { ...oneApi.codes[0]!, source_id: 99, hash: 'e'.repeat(64), amount: 0 }],
    };
    await expect(lite.apply(broken)).rejects.toThrow(/CHECK/);
    await expect(pg.apply(broken)).rejects.toMatchObject({ code: '23514' });
    // and a failure at the very end: the last price is one the table refuses (output NOT NULL),
    // after users, channels, keys, codes and the other prices are written
    const failLate: PreparedImport = {
      ...oneApi,
      prices: [
        ...oneApi.prices,
        { ...oneApi.prices[0]!, model: 'zz-last', output: null as unknown as number },
      ],
    };
    await expect(lite.apply(failLate)).rejects.toThrow(/NOT NULL/);
    await expect(pg.apply(failLate)).rejects.toMatchObject({ code: '23502' });
    // a channel listing one source id twice breaks import_map's primary key on both
    const twice: PreparedImport = {
      ...oneApi,
      channels: [...oneApi.channels, { ...oneApi.channels[0]!, sourceIds: [77, 77] }],
    };
    await expect(lite.apply(twice)).rejects.toThrow(/UNIQUE constraint failed: import_map/);
    await expect(pg.apply(twice)).rejects.toMatchObject({ code: '23505', table_name: 'import_map' });
    const empty = await snapshot(lite);
    expect(Object.values(empty).flat()).toEqual(['{"name":"default","ratio":1}']);
    expect(await snapshot(pg)).toEqual(empty);
    // the whole import still goes in afterwards
    expect((await pg.apply(oneApi)).counts.users.imported).toBe(3);
  });

  it("keeps every metered user's ledger invariant: sum(ledger) - spent = balance", async () => {
    const { side: pg } = await pgSide();
    await pg.apply(oneApi);
    await pg.apply(newApi);
    const rows = await pg.all(`
      SELECT u.name, u.balance, u.spent, COALESCE(sum(l.amount), 0)::bigint AS ledger, count(l.id)::int AS n
      FROM users u LEFT JOIN user_ledger l ON l.user_id = u.id GROUP BY u.id ORDER BY u.id`);
    expect(rows.length).toBe(5);
    for (const r of rows) {
      if (r.balance === null) {
        expect(r.n, String(r.name)).toBe(0);
        continue;
      }
      expect(Number(r.ledger) - Number(r.spent), String(r.name)).toBe(r.balance);
    }
    // ann-7 has two import rows: balance + spent, and the unspent invitation rewards
    const ann7 = await pg.all(`SELECT l.amount, l.ref FROM user_ledger l JOIN users u ON u.id = l.user_id
      WHERE u.name = 'ann-7' ORDER BY l.id`);
    // QuotaPerUnit 500000: quota 1,000,000 is $2, used 500,000 $1, aff_quota 250,000 $0.50
    expect(ann7.map((l) => l.amount)).toEqual([3_000_000, 500_000]);
  });

  it('imports of one source running at once create every entity exactly once', async () => {
    const lite = sqliteSide();
    const want = await lite.apply(oneApi);
    const wantRows = await snapshot(lite);
    for (let round = 0; round < 2; round++) {
      const { url, sql: admin } = await pgSide();
      const results = await together(admin, url, [oneApi, oneApi, oneApi]);
      for (const kind of ['channels', 'keys', 'users', 'codes', 'prices', 'groups'] as const) {
        // each entity imported by exactly one of them; the others found it already there
        expect(
          results.reduce((s, r) => s + r.counts[kind].imported, 0),
          kind,
        ).toBe(want.counts[kind].imported);
        for (const r of results) expect(total(r, kind), kind).toBe(total(want, kind));
      }
      expect(
        results
          .flatMap((r) => r.changes)
          .map((c) => c.amount)
          .sort(),
      ).toEqual(want.changes.map((c) => c.amount).sort());
      expect(await snapshot(pgSideOn(admin))).toEqual(wantRows);
    }
  });

  it('two sources with the same names at once: both commit, the later one renames, as SQLite in one order or the other', async () => {
    const other: PreparedImport = { ...oneApi, source: 'one-api:ffffffffffff' };
    const orders: Record<string, string[]>[] = [];
    for (const order of [
      [oneApi, other],
      [other, oneApi],
    ]) {
      const lite = sqliteSide();
      for (const p of order) await lite.apply(p);
      orders.push(await snapshot(lite));
    }
    const { url, sql: admin } = await pgSide();
    const results = await together(admin, url, [oneApi, other]);
    expect(results.map((r) => r.counts.users.imported)).toEqual([3, 3]);
    const got = await snapshot(pgSideOn(admin));
    expect(got.users).toHaveLength(6);
    expect(orders).toContainEqual(got);
  });
});

/**
 * Applies the imports at the same moment, each on its own pool: `admin` holds import_map locked
 * until every one of them is queued on its first claim, then lets them all go.
 */
async function together(admin: Sql, url: string, imports: PreparedImport[]): Promise<ImportApplied[]> {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const blocker = admin.begin(async (tx) => {
    await tx`LOCK TABLE import_map IN SHARE ROW EXCLUSIVE MODE`;
    locked();
    await gate;
  });
  await isLocked;
  const applies = imports.map((p) => applyImportPostgres(pgClient(url), p, NOW));
  let waiting = 0;
  for (let i = 0; i < 300 && waiting < imports.length; i++) {
    const [w] = await admin<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_locks
      WHERE relation = 'import_map'::regclass AND NOT granted`;
    waiting = w?.n ?? 0;
    if (waiting < imports.length) await new Promise((r) => setTimeout(r, 10));
  }
  open();
  await blocker;
  // all of them were queued on their first claim, so they really ran side by side
  expect(waiting).toBe(imports.length);
  return Promise.all(applies);
}
