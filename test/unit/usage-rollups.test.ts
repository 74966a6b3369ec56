// Usage rollups (store/sqlite/rollups.ts) on both stores: random rows over four days, many keys,
// models, channels, users and statuses, settled through the store's own settle path (SQLite's
// journal, PostgreSQL's group commit). Usage by every dimension and a tenant's usage, for windows
// aligned and not, equal the log scan usage was before (test/support/usage-scan.ts) exactly;
// replaying the same rows counts nothing twice; after minutes are rolled up into hours and days
// (and with rows settled late into rolled-up hours) the answers are unchanged; whole buckets
// still answer after their log rows are deleted. SIGKILL safety follows from the buckets being
// written in the transaction that inserts the rows (a crash loses both or neither; the journal
// replay is the case tested here).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageDimension } from '../../src/shared/control-api.js';
import { connectPostgres } from '../../src/daemon/store/postgres/connection.js';
import { openPostgresStore } from '../../src/daemon/store/postgres/store.js';
import { MIGRATIONS, type Migration } from '../../src/daemon/store/sqlite/migrations.js';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';
import type { NewLogRow, Store, UsageAggregate } from '../../src/daemon/store/types.js';
import { freshPgDatabase } from '../support/stores.js';
import { scanUsage, scanUserUsage, type ScanDb, type UserUsageBy } from '../support/usage-scan.js';

const BASE = Date.parse('2026-03-01T00:00:00.000Z');
const MIN = 60_000;
const HOUR = 3600_000;
const DAY = 86400_000;
const iso = (ms: number): string => new Date(ms).toISOString();

// aligned and not: before everything, mid-minute, on an hour, on a day, late, after everything
const WINDOWS = [
  BASE - HOUR,
  BASE + DAY + 37 * MIN + 12_345,
  BASE + 2 * HOUR,
  BASE + DAY,
  BASE + 2 * DAY + 13 * HOUR + 59 * MIN + 59_999,
  BASE + 3 * DAY + 5 * HOUR + 30 * MIN + 500,
  BASE + 10 * DAY,
].map(iso);
const DIMENSIONS: UsageDimension[] = ['model', 'key', 'channel', 'user'];
const USER_DIMENSIONS: UserUsageBy[] = ['model', 'key', 'day'];

// a small deterministic generator, so a failure reproduces
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

interface Fixture {
  store: Store;
  scan: ScanDb;
  users: number[];
  /** each user's keys */
  keysOf: Map<number, number[]>;
  /** settles rows through the store's own path; returns their log ids */
  settle: (rows: NewLogRow[]) => Promise<number[]>;
  /** reopens the store replaying these (id, row) settlements as a journal would after a crash */
  replay: (entries: { id: number; row: NewLogRow }[]) => Promise<void>;
  deleteLogsBefore: (time: string) => Promise<void>;
  /** runs a migration's SQL (its SQLite or PostgreSQL form) on the store's database */
  migrate: (m: Migration) => Promise<void>;
  spans: () => Promise<number[]>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sqliteFixture(): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-rollups-'));
  const file = path.join(dir, 'bc.db');
  let store = openSqliteStore(file);
  const raw = new Database(file);
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => void raw.close());
  cleanups.push(() => store.close());
  const f = await catalog(store);
  return {
    ...f,
    get store() {
      return store;
    },
    scan: { sqlite: raw },
    settle: (rows) => Promise.all(rows.map((r) => store.settle(r))),
    replay: async (entries) => {
      await store.close();
      fs.writeFileSync(`${file}-settle.jsonl`, entries.map((e) => JSON.stringify(e) + '\n').join(''));
      store = openSqliteStore(file);
    },
    deleteLogsBefore: async (time) => {
      raw.prepare('DELETE FROM logs WHERE time < ?').run(time);
    },
    migrate: async (m) => void raw.exec(m.sql),
    spans: async () =>
      raw.prepare('SELECT DISTINCT span FROM usage_rollups ORDER BY span').pluck().all() as number[],
  };
}

async function postgresFixture(): Promise<Fixture> {
  const url = await freshPgDatabase();
  const store = await openPostgresStore(url, { max: 3 });
  const sql = connectPostgres(url, { max: 1 });
  cleanups.push(() => sql.end({ timeout: 5 }));
  cleanups.push(() => store.close());
  const f = await catalog(store);
  return {
    ...f,
    store,
    scan: { pg: sql },
    settle: (rows) => Promise.all(rows.map((r) => store.settle(r))),
    // a replayed request id is found by its id and charged nothing, as a retried batch is
    replay: async (entries) => {
      await Promise.all(entries.map((e) => store.settle(e.row)));
    },
    deleteLogsBefore: async (time) => {
      await sql`DELETE FROM logs WHERE time < ${time}`;
    },
    migrate: async (m) => void (await sql.unsafe(m.postgres!)),
    spans: async () =>
      (await sql<{ span: number }[]>`SELECT DISTINCT span FROM usage_rollups ORDER BY span`).map(
        (r) => r.span,
      ),
  };
}

async function catalog(store: Store): Promise<Pick<Fixture, 'store' | 'users' | 'keysOf'>> {
  const users: number[] = [];
  const keysOf = new Map<number, number[]>();
  for (const name of ['alice', 'bob']) {
    const { user } = await store.createUser({ name, balance: null });
    users.push(user.id);
    const keys: number[] = [];
    for (const k of ['a', 'b']) keys.push((await store.createKey(newKey(`${name}/${k}`, user.id))).id);
    keysOf.set(user.id, keys);
  }
  return { store, users, keysOf };
}

function newKey(name: string, userId: number | null): Parameters<Store['createKey']>[0] {
  return {
    name,
    hash: `hash-${name}`,
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
    userId,
  };
}

let seq = 0;

/** `n` random rows over four days from BASE, on the fixture's keys, an operator key, or none. */
async function randomRows(
  f: Fixture,
  n: number,
  rnd: () => number,
  from = BASE,
  span = 4 * DAY,
): Promise<NewLogRow[]> {
  const ops = (await f.store.getKey('ops')) ?? (await f.store.createKey(newKey('ops', null)));
  const keys = [...[...f.keysOf.values()].flat(), ops.id, null];
  const names = new Map((await f.store.listKeys()).map((k) => [k.id, k.name]));
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  return Array.from({ length: n }, () => {
    const keyId = pick(keys);
    const model = pick(['gpt-4o', 'claude-3', 'free-model']);
    const tokens = rnd() < 0.2 ? 0 : Math.floor(rnd() * 1000);
    // free-model is never priced: its usage is unpriced, never $0
    const cost = model === 'free-model' || rnd() < 0.15 ? null : Math.floor(rnd() * 5000);
    return {
      request_id: `req-${++seq}`,
      time: iso(from + Math.floor(rnd() * span)),
      key: keyId === null ? null : names.get(keyId)!,
      key_id: keyId,
      channel: pick(['main', 'backup', null]),
      channel_id: null,
      model,
      upstream_model: null,
      endpoint: '/v1/chat/completions',
      status: pick([200, 200, 200, 429, 500]),
      error: null,
      input_tokens: tokens,
      cached_tokens: 0,
      cache_write_tokens: 0,
      output_tokens: Math.floor(tokens / 3),
      reasoning_tokens: 0,
      cost,
      usage_estimated: false,
      latency_ms: 1,
      ttft_ms: null,
      retries: 0,
      stream: false,
      dropped_fields: [],
      max_tokens_clamped: null,
    };
  });
}

/** Every dimension and window, and every user's usage (all keys and one key), from the store. */
async function answers(f: Fixture, windows = WINDOWS): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const since of windows) {
    for (const by of DIMENSIONS) out.push([since, by, await f.store.usage(by, since)]);
    for (const userId of f.users) {
      for (const by of USER_DIMENSIONS) {
        for (const keyId of [null, f.keysOf.get(userId)![0]!])
          out.push([since, by, userId, keyId, await f.store.userUsage({ userId, keyId, by, since })]);
      }
    }
  }
  return out;
}

/** The same, from the log scan. */
async function scanned(f: Fixture, windows = WINDOWS): Promise<unknown[]> {
  await f.store.countRequests(); // applies what SQLite's journal holds
  const out: unknown[] = [];
  for (const since of windows) {
    for (const by of DIMENSIONS) out.push([since, by, await scanUsage(f.scan, by, since)]);
    for (const userId of f.users) {
      for (const by of USER_DIMENSIONS) {
        for (const keyId of [null, f.keysOf.get(userId)![0]!])
          out.push([since, by, userId, keyId, await scanUserUsage(f.scan, { userId, keyId, by, since })]);
      }
    }
  }
  return out;
}

function total(rows: UsageAggregate[]): number {
  return rows.reduce((n, r) => n + r.requests, 0);
}

describe.each([
  ['sqlite', sqliteFixture],
  ['postgres', postgresFixture],
] as const)('%s store: usage rollups', (_kind, open) => {
  it('equal the log scan for every dimension and window, and count a replayed row once', async () => {
    const f = await open();
    const rnd = random(7);
    const rows = await randomRows(f, 400, rnd);
    // rows on each window's edge: just before, at and just after its start
    let k = 0;
    for (const w of WINDOWS) for (const d of [-1, 0, 1]) rows[k++]!.time = iso(Date.parse(w) + d);
    // a key renamed halfway: usage by key shows each logged name, a tenant's usage the current one
    const renamed = f.keysOf.get(f.users[0]!)![0]!;
    const ids = await f.settle(rows.slice(0, 200));
    await f.store.updateKey(renamed, { name: 'alice/renamed' });
    for (const r of rows.slice(200)) if (r.key_id === renamed) r.key = 'alice/renamed';
    ids.push(...(await f.settle(rows.slice(200))));
    const expected = await scanned(f);
    expect(await answers(f)).toEqual(expected);
    const inFirst = rows.filter((r) => r.time >= WINDOWS[0]!).length;
    expect(total(await f.store.usage('model', WINDOWS[0]!))).toBe(inFirst);
    // unpriced usage is its own count and a cost of null, never $0
    const free = (await f.store.usage('model', WINDOWS[0]!)).find((r) => r.name === 'free-model');
    expect(free).toMatchObject({ cost: null });
    expect(free!.unpriced).toBeGreaterThan(0);

    // the same settlements again (a journal replayed after a crash, a retried batch): nothing moves
    await f.replay(rows.map((row, i) => ({ id: ids[i]!, row })));
    expect(await f.store.countRequests()).toBe(400);
    expect(await answers(f)).toEqual(expected);
  });

  it('answer the same after minutes roll into hours and days, with late rows, and after the log is pruned', async () => {
    const f = await open();
    const rnd = random(11);
    const rows = await randomRows(f, 400, rnd);
    await f.settle(rows);
    const expected = await scanned(f);
    // the hours holding rows in the first two days, and in the two after
    const hours = (from: number, to: number): number =>
      new Set(
        rows
          .map((r) => Date.parse(r.time))
          .filter((t) => t >= from && t < to)
          .map((t) => Math.floor(t / HOUR)),
      ).size;
    expect(await answers(f)).toEqual(expected);

    // four days on: the first two days' minutes become hours
    expect(await f.store.rollUpUsage(BASE + 4 * DAY)).toBe(hours(BASE, BASE + 2 * DAY));
    expect(await f.spans()).toEqual([1, 60]);
    expect(await answers(f)).toEqual(expected);
    // again: nothing left to move
    expect(await f.store.rollUpUsage(BASE + 4 * DAY)).toBe(0);

    // 92 days on: every minute an hour, the first two days' hours days
    expect(await f.store.rollUpUsage(BASE + 92 * DAY)).toBe(hours(BASE + 2 * DAY, BASE + 4 * DAY) + 2);
    expect(await f.spans()).toEqual([60, 1440]);
    expect(await answers(f)).toEqual(expected);

    // rows settled late into rolled-up hours and days start minute buckets beside them
    await f.settle(await randomRows(f, 60, rnd, BASE + DAY - 2 * HOUR, 2 * DAY));
    const late = await scanned(f);
    expect(await answers(f)).toEqual(late);
    expect(await f.spans()).toEqual([1, 60, 1440]);
    await f.store.rollUpUsage(BASE + 92 * DAY);
    expect(await f.spans()).toEqual([60, 1440]);
    expect(await answers(f)).toEqual(late);

    // the log's rows of the first two days deleted (retention): their whole days still answer
    const whole = [WINDOWS[0]!, iso(BASE + DAY), iso(BASE + 2 * DAY), iso(BASE + 3 * DAY)];
    const before = await answers(f, whole);
    await f.deleteLogsBefore(iso(BASE + 2 * DAY));
    expect(await answers(f, whole)).toEqual(before);
    expect(total(await f.store.usage('key', WINDOWS[0]!))).toBe(460);
  });

  it('migration 8 buckets the rows logged before it', async () => {
    const f = await open();
    await f.settle(await randomRows(f, 200, random(5)));
    const expected = await scanned(f);
    // the table as a database from before the rollups meets it: made and filled by the migration
    await f.migrate({
      version: 0,
      name: 'drop',
      sql: 'DROP TABLE usage_rollups',
      postgres: 'DROP TABLE usage_rollups',
    });
    await f.migrate(MIGRATIONS.find((m) => m.name === 'usage rollups')!);
    expect(await f.spans()).toEqual([1]);
    expect(await answers(f)).toEqual(expected);
  });
});
