// The PostgreSQL store against a real PostgreSQL 15 (test/global-setup.ts): the migration runner
// (three at once on one fresh database, refusals), and settlement's money: idempotent by request
// id, exact under concurrency over a pool, a user's balance kept equal to credits minus spend.
// The catalog and log behaviour shared with SQLite runs on both stores in test/unit/store*.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { connectPostgres, type Sql } from '../../src/daemon/store/postgres/connection.js';
import { migratePostgres } from '../../src/daemon/store/postgres/migrate.js';
import { openPostgresStore, type PostgresStore } from '../../src/daemon/store/postgres/store.js';
import { LATEST_VERSION, MIGRATIONS } from '../../src/daemon/store/sqlite/migrations.js';
import type { KeyRecord, NewKey, NewLogRow } from '../../src/daemon/store/types.js';
import { settledRow } from '../support/log-row.js';
import { freshPgDatabase } from '../support/stores.js';

const open: { end(): Promise<unknown> }[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.end()));
});

function connect(url: string, max = 1): Sql {
  const sql = connectPostgres(url, { max, name: 'pg-store-test' });
  open.push({ end: () => sql.end({ timeout: 5 }) });
  return sql;
}

async function store(url?: string, max = 4): Promise<PostgresStore> {
  const s = await openPostgresStore(url ?? (await freshPgDatabase()), { max });
  open.push({ end: () => s.close() });
  return s;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BcError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'resolved';
}

describe('migrations on PostgreSQL', () => {
  it('three runners starting at once on a fresh database apply each version once, without error', async () => {
    const url = await freshPgDatabase();
    const runners = [connect(url), connect(url), connect(url)];
    const applied = await Promise.all(runners.map((sql) => migratePostgres(sql, 'test db')));
    // every version applied by exactly one of them
    expect(applied.reduce((a, b) => a + b, 0)).toBe(MIGRATIONS.length);
    const rows = await runners[0]!<{ version: number; name: string; applied_at: string }[]>`
      SELECT version, name, applied_at FROM schema_migrations ORDER BY version`;
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    for (const r of rows) expect(r.applied_at).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    // the schema is the latest: migration 6's unique index is there
    const [idx] = await runners[0]!<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'logs_request_id'`;
    expect(idx?.n).toBe(1);
    // and a later start applies nothing
    expect(await migratePostgres(runners[1]!, 'test db')).toBe(0);
  });

  it('applies only what is pending when a build brings a new version', async () => {
    const url = await freshPgDatabase();
    const sql = connect(url);
    expect(await migratePostgres(sql, 'test db', MIGRATIONS.slice(0, 3))).toBe(3);
    expect(await migratePostgres(sql, 'test db')).toBe(MIGRATIONS.length - 3);
    const [n] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM schema_migrations`;
    expect(n?.n).toBe(MIGRATIONS.length);
  });

  it('a failing migration leaves nothing of itself and is not recorded', async () => {
    const url = await freshPgDatabase();
    const sql = connect(url);
    const bad = { version: 99, name: 'bad', sql: '', postgres: 'CREATE TABLE half (x INT); NOT SQL' };
    await expect(migratePostgres(sql, 'test db', [...MIGRATIONS, bad])).rejects.toThrow();
    const [state] = await sql<{ half: string | null; top: number }[]>`
      SELECT to_regclass('half')::text AS half, max(version)::int AS top FROM schema_migrations`;
    expect(state).toEqual({ half: null, top: LATEST_VERSION });
  });

  it('refuses a database written by a newer build, and one that is not ours, in one line', async () => {
    const url = await freshPgDatabase();
    const sql = connect(url);
    await migratePostgres(sql, 'test db');
    await sql`INSERT INTO schema_migrations VALUES (${LATEST_VERSION + 1}, 'future', 'x')`;
    expect(await refusal(migratePostgres(sql, 'postgres://u:***@h/db'))).toBe(
      `STARTUP_FAILED: postgres://u:***@h/db was written by a newer BurnCloud (schema version ${LATEST_VERSION + 1}, this build knows up to ${LATEST_VERSION}): upgrade BurnCloud`,
    );
    // and the store does not open on it, leaving no connection behind
    expect(await refusal(openPostgresStore(url))).toMatch(/^STARTUP_FAILED: .*newer BurnCloud/);

    const foreign = connect(await freshPgDatabase());
    await foreign`CREATE TABLE someone_elses (x INT)`;
    expect(await refusal(migratePostgres(foreign, 'their db'))).toBe(
      'STARTUP_FAILED: their db is not a BurnCloud database (it has tables but no schema_migrations): point BC_DB at an empty database',
    );
    const [t] = await foreign<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`;
    expect(t?.n).toBe(1);
  });
});

function newKey(name: string, hash = `hash-${name}`): NewKey {
  return {
    name,
    hash,
    prefix: 'sk-bc-Abcd',
    group: 'default',
    budget: null,
    expiresAt: null,
    models: [],
    allowIps: [],
    rpm: null,
    tpm: null,
    concurrency: null,
    status: 'enabled',
  };
}

async function makeKey(s: PostgresStore, name: string, userId: number | null = null): Promise<KeyRecord> {
  return s.createKey({ ...newKey(name), userId });
}

/** A user row written directly (the tenant tables' PostgreSQL part is not in this store yet). */
async function makeUser(s: PostgresStore, name: string, balance: number | null): Promise<number> {
  const now = new Date().toISOString();
  const [u] = await s.sql<{ id: number }[]>`
    INSERT INTO users (name, balance, credited, created_at, updated_at)
    VALUES (${name}, ${balance}, ${balance ?? 0}, ${now}, ${now}) RETURNING id`;
  return u!.id;
}

async function userMoney(s: PostgresStore, id: number): Promise<{ balance: number | null; spent: number }> {
  const [u] = await s.sql<{ balance: number | null; spent: number }[]>`
    SELECT balance, spent FROM users WHERE id = ${id}`;
  return u!;
}

function row(s: string, keyId: number, cost: number | null, over: Partial<NewLogRow> = {}): NewLogRow {
  return settledRow(s, { key: `k${keyId}`, key_id: keyId, cost, ...over });
}

describe('settle on PostgreSQL', () => {
  it('is idempotent by request id: the same row twice is one row, charged once, same id', async () => {
    const url = await freshPgDatabase();
    const s = await store(url);
    const uid = await makeUser(s, 'ann', 1_000_000);
    const k = await makeKey(s, 'ann/app', uid);
    const first = await s.settle(row('r-1', k.id, 274));
    const again = await s.settle(row('r-1', k.id, 274));
    expect(again).toBe(first);
    expect(await s.countRequests()).toBe(1);
    expect((await s.getKey(k.id))?.spent).toBe(274);
    expect(await userMoney(s, uid)).toEqual({ balance: 1_000_000 - 274, spent: 274 });
    // the same request id sent at once by two daemons (two stores, two pools): still once
    const daemon2 = await store(url, 2);
    const twins = await Promise.all([
      s.settle(row('r-2', k.id, 100)),
      daemon2.settle(row('r-2', k.id, 100)),
      s.settle(row('r-2', k.id, 100)),
      daemon2.settle(row('r-2', k.id, 100)),
    ]);
    expect(new Set(twins).size).toBe(1);
    expect(await daemon2.countRequests()).toBe(2);
    expect((await s.getKey(k.id))?.spent).toBe(374);
    expect(await userMoney(s, uid)).toEqual({ balance: 1_000_000 - 374, spent: 374 });
  });

  it('200 concurrent settlements over 4 pooled connections: spend is the exact sum, balance = credits - spent', async () => {
    const url = await freshPgDatabase();
    const s = await store(url, 4);
    const uid = await makeUser(s, 'bob', 5_000_000);
    const keys = [await makeKey(s, 'bob/a', uid), await makeKey(s, 'bob/b', uid), await makeKey(s, 'ops')];
    const unmetered = await makeUser(s, 'free', null);
    const freeKey = await makeKey(s, 'free/a', unmetered);
    keys.push(freeKey);
    const rows = Array.from({ length: 200 }, (_, i) => {
      const k = keys[i % keys.length]!;
      // a few unpriced rows and a few zero-cost ones among them
      const cost = i % 17 === 0 ? null : i % 13 === 0 ? 0 : 1 + ((i * 7919) % 5000);
      return row(`c-${i}`, k.id, cost);
    });
    // every fifth row is sent twice, as a retried settlement would be
    const sends = [...rows, ...rows.filter((_, i) => i % 5 === 0)];
    const ids = await Promise.all(sends.map((r) => s.settle(r)));
    expect(new Set(ids).size).toBe(200);
    const sumOf = (keyId: number) =>
      rows.filter((r) => r.key_id === keyId).reduce((a, r) => a + (r.cost ?? 0), 0);
    for (const k of keys) expect((await s.getKey(k.id))?.spent).toBe(sumOf(k.id));
    const bobSpend = sumOf(keys[0]!.id) + sumOf(keys[1]!.id);
    expect(await userMoney(s, uid)).toEqual({ balance: 5_000_000 - bobSpend, spent: bobSpend });
    // an unmetered user's balance stays NULL; spent still counts
    expect(await userMoney(s, unmetered)).toEqual({ balance: null, spent: sumOf(freeKey.id) });
    // the invariant, from the database alone: balance = credited - spent, spent = SUM(cost) of the rows
    const [inv] = await s.sql<{ ok: boolean }[]>`
      SELECT bool_and(u.balance = u.credited - u.spent AND u.spent = (
        SELECT COALESCE(SUM(l.cost), 0) FROM logs l JOIN keys k ON k.id = l.key_id WHERE k.user_id = u.id
      )) AS ok FROM users u WHERE u.balance IS NOT NULL`;
    expect(inv?.ok).toBe(true);
    expect(await s.countRequests()).toBe(200);
  });

  it('a key patch racing settlements never loses spend (the patch holds the row lock)', async () => {
    const s = await store();
    const k = await makeKey(s, 'race');
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      work.push(s.settle(row(`p-${i}`, k.id, 10)));
      if (i % 4 === 0) work.push(s.updateKey(k.id, { rpm: i }));
    }
    await Promise.all(work);
    expect((await s.getKey(k.id))?.spent).toBe(400);
  });

  it('locks the user before the key, as a user patch does: the two queue instead of deadlocking', async () => {
    const s = await store();
    const uid = await makeUser(s, 'dee', 1000);
    const k = await makeKey(s, 'dee/a', uid);
    let locked!: () => void;
    const userLocked = new Promise<void>((r) => (locked = r));
    // what the tenant tables' rename does: the user's row, then (a moment later) the user's keys
    const patch = s.sql.begin(async (tx) => {
      await tx`SELECT 1 FROM users WHERE id = ${uid} FOR NO KEY UPDATE`;
      locked();
      await tx`SELECT pg_sleep(0.3)`;
      await tx`UPDATE keys SET name = 'dee/b' WHERE user_id = ${uid}`;
    });
    await userLocked;
    const settled = s.settle(row('d-1', k.id, 40));
    await Promise.all([patch, settled]);
    expect(await s.getKey(k.id)).toMatchObject({ name: 'dee/b', spent: 40 });
    expect(await userMoney(s, uid)).toEqual({ balance: 960, spent: 40 });
  });

  it('rolls the row back when the charge fails: nothing half-settled, and a retry then settles once', async () => {
    const s = await store();
    const uid = await makeUser(s, 'cat', 1000);
    const k = await makeKey(s, 'cat/a', uid);
    await s.sql.unsafe(`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'spend failed'; END $$`);
    await s.sql.unsafe(
      'CREATE TRIGGER boom BEFORE UPDATE OF spent ON users FOR EACH ROW EXECUTE FUNCTION boom()',
    );
    await expect(s.settle(row('f-1', k.id, 50))).rejects.toThrow('spend failed');
    expect(await s.countRequests()).toBe(0);
    expect((await s.getKey(k.id))?.spent).toBe(0);
    await s.sql.unsafe('DROP TRIGGER boom ON users');
    await s.settle(row('f-1', k.id, 50));
    expect((await s.getKey(k.id))?.spent).toBe(50);
    expect(await userMoney(s, uid)).toEqual({ balance: 950, spent: 50 });
  });
});

describe('log reads by user on PostgreSQL', () => {
  it('filters logs by user, sums usage by user, and a user’s own usage by model, key and day', async () => {
    const s = await store();
    const ann = await makeUser(s, 'ann', 10_000);
    const bob = await makeUser(s, 'bob', null);
    const a1 = await makeKey(s, 'ann/one', ann);
    const a2 = await makeKey(s, 'ann/two', ann);
    const b1 = await makeKey(s, 'bob/one', bob);
    const ops = await makeKey(s, 'ops');
    const at = (d: number) => `2026-03-0${d}T10:00:00.000Z`;
    await s.settle(row('u1', a1.id, 100, { time: at(1), model: 'm1', input_tokens: 10, output_tokens: 1 }));
    await s.settle(row('u2', a2.id, 50, { time: at(2), model: 'm2', input_tokens: 5, output_tokens: 2 }));
    await s.settle(row('u3', a1.id, null, { time: at(2), model: 'm3', status: 500 }));
    await s.settle(row('u4', b1.id, 300, { time: at(3), model: 'm1' }));
    await s.settle(row('u5', ops.id, 7, { time: at(3), model: 'm1' }));

    const ids = async (user: string) => (await s.queryLogs({ user })).map((r) => r.request_id);
    expect(await ids('ann')).toEqual(['u3', 'u2', 'u1']);
    expect(await ids(String(bob))).toEqual(['u4']);
    expect((await s.queryLogs({ user: 'ann', model: 'm2' })).map((r) => r.request_id)).toEqual(['u2']);
    expect(await refusal(s.queryLogs({ user: 'nobody' }))).toBe(
      'NOT_FOUND: user "nobody" not found: see `bc user list`',
    );
    // a deleted user is not found, by name or id, as on SQLite
    const gone = await makeUser(s, 'gone', 0);
    await s.sql`UPDATE users SET status = 'deleted' WHERE id = ${gone}`;
    expect(await refusal(s.queryLogs({ user: String(gone) }))).toMatch(/^NOT_FOUND: /);
    expect(await refusal(s.queryLogs({ user: 'gone' }))).toMatch(/^NOT_FOUND: /);

    const since = '2026-01-01T00:00:00Z';
    expect((await s.usage('user', since)).map((u) => [u.name, u.requests, u.cost])).toEqual([
      ['bob', 1, 300],
      ['ann', 3, 150],
      ['-', 1, 7],
    ]);

    const mine = (by: 'model' | 'key' | 'day', keyId: number | null = null) =>
      s.userUsage({ userId: ann, keyId, by, since });
    expect(await mine('model')).toEqual([
      { name: 'm1', requests: 1, errors: 0, input_tokens: 10, output_tokens: 1, cost: 100, unpriced: 0 },
      { name: 'm2', requests: 1, errors: 0, input_tokens: 5, output_tokens: 2, cost: 50, unpriced: 0 },
      // settledRow spends tokens: with no cost, the row is unpriced (sorted last, cost null)
      { name: 'm3', requests: 1, errors: 1, input_tokens: 250, output_tokens: 12, cost: null, unpriced: 1 },
    ]);
    await s.updateKey(a2.id, { name: 'ann/renamed' });
    expect((await mine('key')).map((u) => [u.name, u.requests, u.cost])).toEqual([
      ['ann/one', 2, 100],
      ['ann/renamed', 1, 50],
    ]);
    expect((await mine('day')).map((u) => [u.name, u.requests])).toEqual([
      ['2026-03-01', 1],
      ['2026-03-02', 2],
    ]);
    expect((await mine('model', a2.id)).map((u) => u.name)).toEqual(['m2']);
    // another user's key under ann's filter matches nothing
    expect(await mine('model', b1.id)).toEqual([]);
  });
});

describe('catalog on PostgreSQL', () => {
  it('keeps bc_meta values, last writer wins, null when never set', async () => {
    const s = await store();
    expect(await s.getMeta('tenant.settings')).toBeNull();
    await s.setMeta('tenant.settings', '{"signup":"closed"}');
    await s.setMeta('tenant.settings', '{"signup":"invite"}');
    expect(await s.getMeta('tenant.settings')).toBe('{"signup":"invite"}');
  });

  it("never lets a patch change a key's owner, scope or creator", async () => {
    const s = await store();
    const uid = await makeUser(s, 'eve', 0);
    const k = await s.createKey({
      ...newKey('eve/acct'),
      userId: uid,
      scope: 'account',
      createdBy: 'self',
    });
    const sneaky = {
      name: 'eve/x',
      userId: null,
      scope: 'relay',
      createdBy: 'admin',
    } as unknown as Parameters<PostgresStore['updateKey']>[1];
    const after = await s.updateKey(k.id, sneaky);
    expect(after).toMatchObject({ name: 'eve/x', userId: uid, scope: 'account', createdBy: 'self' });
    expect(await s.getKey('eve/x')).toEqual(after);
  });

  it('two daemons creating one name at once: one record, the other gets CONFLICT with the same message', async () => {
    const url = await freshPgDatabase();
    const [a, b] = [await store(url, 2), await store(url, 2)];
    const results = await Promise.allSettled([
      a.createKey(newKey('shared', 'h1')),
      b.createKey(newKey('shared', 'h2')),
    ]);
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as BcError] : []));
    expect(refused.map((e) => `${e.code}: ${e.message}`)).toEqual([
      'CONFLICT: a key named "shared" already exists',
    ]);
    expect((await b.listKeys()).map((k) => k.name)).toEqual(['shared']);
  });
});
