// Group commit of settlements on a real PostgreSQL 15 (src/daemon/store/postgres/log-batch.ts):
// settlements that arrive together share one transaction, and each still gets what a settlement
// of its own would have: exact spend per key and per user over 500 concurrent rows, a request id
// charged once whether repeated inside a batch, across batches or from another daemon, and a
// row that breaks a constraint failing alone without taking its batch with it. Ends with the
// rows/s of one transaction per row against batches at concurrency 64 (printed).
import { afterEach, describe, expect, it } from 'vitest';
import { connectPostgres, type Sql } from '../../src/daemon/store/postgres/connection.js';
import { LogBatcher } from '../../src/daemon/store/postgres/log-batch.js';
import { migratePostgres } from '../../src/daemon/store/postgres/migrate.js';
import { openPostgresStore, type PostgresStore } from '../../src/daemon/store/postgres/store.js';
import type { NewLogRow } from '../../src/daemon/store/types.js';
import { settledRow } from '../support/log-row.js';
import { freshPgDatabase } from '../support/stores.js';

const open: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((end) => end()));
});

async function store(url: string, max = 4): Promise<PostgresStore> {
  const s = await openPostgresStore(url, { max });
  open.push(() => s.close());
  return s;
}

/** A migrated database and a pool on it, for a LogBatcher of the test's own settings. */
async function database(max = 4): Promise<Sql> {
  const sql = connectPostgres(await freshPgDatabase(), { max, name: 'pg-log-batch-test' });
  open.push(() => sql.end({ timeout: 5 }));
  await migratePostgres(sql, 'test db');
  return sql;
}

async function makeUser(sql: Sql, name: string, balance: number | null): Promise<number> {
  const now = new Date().toISOString();
  const [u] = await sql<{ id: number }[]>`
    INSERT INTO users (name, balance, credited, created_at, updated_at)
    VALUES (${name}, ${balance}, ${balance ?? 0}, ${now}, ${now}) RETURNING id`;
  return u!.id;
}

async function makeKey(sql: Sql, name: string, userId: number | null): Promise<number> {
  const now = new Date().toISOString();
  const [k] = await sql<{ id: number }[]>`
    INSERT INTO keys (name, hash, prefix, "group", models, allow_ips, status, created_at, user_id)
    VALUES (${name}, ${`hash-${name}`}, 'sk-bc-Abcd', 'default', '[]', '[]', 'enabled', ${now}, ${userId})
    RETURNING id`;
  return k!.id;
}

function row(id: string, keyId: number, cost: number | null, over: Partial<NewLogRow> = {}): NewLogRow {
  return settledRow(id, { key: `k${keyId}`, key_id: keyId, cost, ...over });
}

/** Every key's and user's money next to what its log rows add up to. */
async function books(sql: Sql) {
  const keys = await sql<{ id: number; spent: number; rows: number }[]>`
    SELECT k.id, k.spent, (SELECT COALESCE(SUM(cost), 0)::bigint FROM logs WHERE key_id = k.id) AS rows
    FROM keys k ORDER BY k.id`;
  const users = await sql<
    { id: number; balance: number | null; credited: number; spent: number; rows: number }[]
  >`
    SELECT u.id, u.balance, u.credited, u.spent,
      (SELECT COALESCE(SUM(l.cost), 0)::bigint FROM logs l JOIN keys k ON k.id = l.key_id WHERE k.user_id = u.id) AS rows
    FROM users u ORDER BY u.id`;
  return { keys, users };
}

/** How many transactions wrote the log rows (each row's xmin is its inserting transaction). */
async function transactions(sql: Sql): Promise<number> {
  const [t] = await sql<{ n: number }[]>`SELECT count(DISTINCT xmin::text)::int AS n FROM logs`;
  return t!.n;
}

describe('group commit of settlements on PostgreSQL', () => {
  it('500 concurrent settlements over 5 keys and 3 users: spend per key and per user is the exact sum of the rows, in far fewer transactions', async () => {
    const url = await freshPgDatabase();
    const s = await store(url);
    const ann = await makeUser(s.sql, 'ann', 50_000_000);
    const bob = await makeUser(s.sql, 'bob', 50_000_000);
    const free = await makeUser(s.sql, 'free', null);
    const keys = [
      await makeKey(s.sql, 'ann/a', ann),
      await makeKey(s.sql, 'ann/b', ann),
      await makeKey(s.sql, 'bob/a', bob),
      await makeKey(s.sql, 'free/a', free),
      await makeKey(s.sql, 'ops', null),
    ];
    const rows = Array.from({ length: 500 }, (_, i) => {
      // unpriced and zero-cost rows among them, as the relay settles them
      const cost = i % 19 === 0 ? null : i % 23 === 0 ? 0 : 1 + ((i * 7919) % 5000);
      return row(`c-${i}`, keys[i % keys.length]!, cost);
    });
    const ids = await Promise.all(rows.map((r) => s.settle(r)));
    expect(new Set(ids).size).toBe(500);
    // each caller got its own row's id
    const logged = await s.sql<{ id: number; request_id: string }[]>`SELECT id, request_id FROM logs`;
    const idOf = new Map(logged.map((l) => [l.request_id, l.id]));
    expect(ids).toEqual(rows.map((r) => idOf.get(r.request_id)));

    const sumOf = (keyIds: number[]) =>
      rows.filter((r) => keyIds.includes(r.key_id!)).reduce((a, r) => a + (r.cost ?? 0), 0);
    const b = await books(s.sql);
    expect(b.keys.map((k) => [k.id, k.spent])).toEqual(keys.map((k) => [k, sumOf([k])]));
    for (const k of b.keys) expect(k.spent).toBe(k.rows);
    const annSpend = sumOf([keys[0]!, keys[1]!]);
    const bobSpend = sumOf([keys[2]!]);
    expect(b.users.map((u) => [u.id, u.balance, u.spent])).toEqual([
      [ann, 50_000_000 - annSpend, annSpend],
      [bob, 50_000_000 - bobSpend, bobSpend],
      // an unmetered user's balance stays NULL; spent still counts
      [free, null, sumOf([keys[3]!])],
    ]);
    for (const u of b.users) {
      expect(u.spent).toBe(u.rows);
      if (u.balance !== null) expect(u.balance).toBe(u.credited - u.spent);
    }
    // grouped: 500 rows did not take 500 commits
    expect(await transactions(s.sql)).toBeLessThan(100);
  });

  it('a request id is logged and charged once: repeated inside one batch, across batches, and by another daemon', async () => {
    const url = await freshPgDatabase();
    const [a, b] = [await store(url), await store(url)];
    const uid = await makeUser(a.sql, 'ann', 1_000_000);
    const k = await makeKey(a.sql, 'ann/a', uid);
    // the same row three times in one turn (one batch), beside rows of its own
    const first = await Promise.all([
      a.settle(row('dup', k, 100)),
      a.settle(row('one', k, 7)),
      a.settle(row('dup', k, 100)),
      a.settle(row('dup', k, 100)),
    ]);
    expect(first[2]).toBe(first[0]);
    expect(first[3]).toBe(first[0]);
    // again in later batches, and sent by a second daemon at the same time
    const later = await Promise.all([
      a.settle(row('dup', k, 100)),
      b.settle(row('dup', k, 100)),
      b.settle(row('two', k, 11)),
      b.settle(row('dup', k, 100)),
    ]);
    expect(later[0]).toBe(first[0]);
    expect(later[1]).toBe(first[0]);
    expect(later[3]).toBe(first[0]);
    expect(await a.countRequests()).toBe(3);
    const money = await books(a.sql);
    expect(money.keys).toEqual([{ id: k, spent: 118, rows: 118 }]);
    expect(money.users).toEqual([
      { id: uid, balance: 1_000_000 - 118, credited: 1_000_000, spent: 118, rows: 118 },
    ]);
  });

  it('request ids repeated over many small batches committing at once are charged once each', async () => {
    const sql = await database(4);
    const uid = await makeUser(sql, 'ann', 1_000_000);
    const keys = [await makeKey(sql, 'ann/a', uid), await makeKey(sql, 'ops', null)];
    // batches of 4, two committing at a time: every id lands in several batches
    const batcher = new LogBatcher(sql, { maxRows: 4, maxInFlight: 2 });
    const sends = Array.from({ length: 120 }, (_, i) => row(`r-${i % 30}`, keys[i % 2]!, 10 + (i % 30)));
    const ids = await Promise.all(sends.map((r) => batcher.settle(r)));
    const byRequest = new Map<string, Set<number>>();
    sends.forEach((r, i) =>
      byRequest.set(r.request_id, (byRequest.get(r.request_id) ?? new Set()).add(ids[i]!)),
    );
    for (const got of byRequest.values()) expect(got.size).toBe(1);
    expect(await transactions(sql)).toBeGreaterThan(1);
    const b = await books(sql);
    const total = Array.from({ length: 30 }, (_, i) => 10 + i).reduce((x, y) => x + y, 0);
    expect(b.keys.reduce((x, k) => x + k.spent, 0)).toBe(total);
    for (const k of b.keys) expect(k.spent).toBe(k.rows);
    expect(b.users[0]).toMatchObject({ balance: 1_000_000 - b.keys[0]!.spent, spent: b.keys[0]!.spent });
  });

  it('a row that breaks a constraint fails alone: the other rows of its batch are logged and charged', async () => {
    const url = await freshPgDatabase();
    const s = await store(url);
    const uid = await makeUser(s.sql, 'ann', 1_000_000);
    const k = await makeKey(s.sql, 'ann/a', uid);
    const bad = row('bad', k, 500, { model: null as unknown as string });
    const good = Array.from({ length: 40 }, (_, i) => row(`g-${i}`, k, 10));
    const results = await Promise.allSettled(
      [...good.slice(0, 20), bad, ...good.slice(20)].map((r) => s.settle(r)),
    );
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/null value in column "model"/);
    expect(results[20]!.status).toBe('rejected');
    expect(await s.countRequests()).toBe(40);
    expect(await books(s.sql)).toEqual({
      keys: [{ id: k, spent: 400, rows: 400 }],
      users: [{ id: uid, balance: 1_000_000 - 400, credited: 1_000_000, spent: 400, rows: 400 }],
    });
  });

  it('every field goes through the column arrays intact: quotes, commas, braces, backslashes, NULL-like text, nulls', async () => {
    const s = await store(await freshPgDatabase());
    const k = await makeKey(s.sql, 'ops', null);
    const odd = 'a,"b"} {c\\d\'e NULL \u00e9\u{1F600}\n';
    const rows = [
      row('x-1', k, 5, {
        model: odd,
        error: 'NULL',
        channel: null,
        channel_id: null,
        upstream_model: null,
        ttft_ms: null,
        dropped_fields: [odd, 'NULL', ''],
        max_tokens_clamped: 9_007_199_254_740,
        usage_estimated: true,
        stream: true,
      }),
      row('x-2', k, null, { error: '', key: null, key_id: null, endpoint: '{}' }),
    ];
    await Promise.all(rows.map((r) => s.settle(r)));
    const got = await s.queryLogs({ after_id: 0 });
    expect(got.map((l) => [l.request_id, l.model, l.error, l.channel, l.upstream_model, l.ttft_ms])).toEqual([
      ['x-1', odd, 'NULL', null, null, null],
      ['x-2', 'gpt-4o', '', 'sim', 'gpt-4o-2024-08-06', null],
    ]);
    expect(got[0]).toMatchObject({
      dropped_fields: [odd, 'NULL', ''],
      max_tokens_clamped: 9_007_199_254_740,
      usage_estimated: true,
      stream: true,
      cost: 5,
    });
    expect(got[1]).toMatchObject({ key: null, key_id: null, endpoint: '{}', cost: null });
  });

  it('rows/s at concurrency 64: one transaction per row against group commit (printed)', async () => {
    const rate = async (opts: { maxRows: number; maxInFlight: number }): Promise<number> => {
      const sql = await database(4);
      const ann = await makeUser(sql, 'ann', 1e12);
      const keys = [await makeKey(sql, 'a1', ann), await makeKey(sql, 'a2', ann)];
      keys.push(await makeKey(sql, 'b1', await makeUser(sql, 'bob', 1e12)));
      keys.push(await makeKey(sql, 'c1', await makeUser(sql, 'cat', null)), await makeKey(sql, 'ops', null));
      const batcher = new LogBatcher(sql, opts);
      const total = 1000;
      let next = 0;
      const started = performance.now();
      // 64 settlements always in flight, as 64 concurrent requests finishing would keep them
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < total) {
            const i = next++;
            await batcher.settle(row(`b-${i}`, keys[i % keys.length]!, 100));
          }
        }),
      );
      const perSecond = total / ((performance.now() - started) / 1000);
      expect((await books(sql)).keys.reduce((x, k) => x + k.spent, 0)).toBe(total * 100);
      return perSecond;
    };
    // one row per transaction, as many at once as the pool has connections: the old settle
    const single = await rate({ maxRows: 1, maxInFlight: 4 });
    const batched = await rate({ maxRows: 256, maxInFlight: 2 });
    console.log(
      `settle at concurrency 64: single ${Math.round(single)} rows/s, batched ${Math.round(batched)} rows/s`,
    );
    expect(batched).toBeGreaterThan(single);
  });
});
