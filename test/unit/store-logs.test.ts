// The stores' request logs. On both stores (SQLite, and PostgreSQL on the test run's server): settle's
// row and spend, log queries and usage aggregation. SQLite only: its journal (settle journaled, then
// the log row + spend applied together), batched apply, WAL checkpoints, the table's edges.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';
import type { KeyRecord, NewLogRow, Store } from '../../src/daemon/store/types.js';
import { LOG_COLUMNS, logParams, logValues } from '../../src/daemon/store/sqlite/rows.js';
import { openPostgresStore } from '../../src/daemon/store/postgres/store.js';
import { freshPgDatabase } from '../support/stores.js';

let dir: string;
let file: string;
let store: Store;
let seq = 0;

function logRow(over: Partial<NewLogRow> = {}): NewLogRow {
  return {
    // each row its own request, as the relay's are (PostgreSQL logs a request id once)
    request_id: `req-${++seq}`,
    time: '2026-01-01T00:00:00.000Z',
    key: null,
    key_id: null,
    channel: null,
    channel_id: null,
    model: 'gpt-4o',
    upstream_model: null,
    endpoint: '/v1/chat/completions',
    status: 200,
    error: null,
    input_tokens: 0,
    cached_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 0,
    reasoning_tokens: 0,
    cost: null,
    usage_estimated: false,
    latency_ms: 1,
    ttft_ms: null,
    retries: 0,
    stream: false,
    dropped_fields: [],
    max_tokens_clamped: null,
    ...over,
  };
}

async function makeKey(name: string): Promise<KeyRecord> {
  return store.createKey({
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
  });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
  file = path.join(dir, 'bc.db');
  store = openSqliteStore(file);
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('settle through the journal', () => {
  it('replays a journal line written before rows had max_tokens_clamped, as null', async () => {
    await store.close();
    const { max_tokens_clamped: _gone, ...old } = logRow({ request_id: 'old', cost: 5 });
    fs.writeFileSync(`${file}-settle.jsonl`, JSON.stringify({ id: 7, row: old }) + '\n');
    store = openSqliteStore(file);
    const [back] = await store.queryLogs({});
    expect(back).toMatchObject({ id: 7, request_id: 'old', max_tokens_clamped: null });
  });

  it('applies a row and its spend together or not at all, keeping a row it could not apply', async () => {
    const k = await makeKey('ci');
    const other = new Database(file);
    other.exec(
      "CREATE TRIGGER boom BEFORE UPDATE OF spent ON keys BEGIN SELECT RAISE(ABORT, 'spend failed'); END;",
    );
    // durable in the journal: the request is settled even though the database refuses it for now
    const id = await store.settle(logRow({ key: 'ci', key_id: k.id, cost: 10 }));
    expect(await store.countRequests()).toBe(0);
    expect((await store.getKey(k.id))?.spent).toBe(0);
    expect(fs.readFileSync(`${file}-settle.jsonl`, 'utf8')).toContain(`"id":${id}`);
    // rows without a cost touch no spend, so they still go in
    await store.settle(logRow({ key: 'ci', key_id: k.id, cost: null }));
    expect(await store.countRequests()).toBe(1);
    // once the database accepts it again, the kept row goes in with its spend, exactly once
    other.exec('DROP TRIGGER boom');
    other.close();
    expect(await store.countRequests()).toBe(2);
    expect((await store.getKey(k.id))?.spent).toBe(10);
    expect((await store.queryLogs({})).map((r) => r.id)).toContain(id);
  });

  it('is durable before it is applied: another opening replays the journal, and nothing counts twice', async () => {
    const k = await makeKey('ci');
    const id = await store.settle(logRow({ key: 'ci', key_id: k.id, cost: 42 }));
    // a second store on the same file, as after a crash: it replays what the journal holds
    const again = openSqliteStore(file);
    try {
      const rows = await again.queryLogs({});
      expect(rows.map((r) => r.id)).toEqual([id]);
      expect((await again.getKey(k.id))?.spent).toBe(42);
      // the first store applies the same row later: ignored, the spend stays
      await new Promise((r) => setTimeout(r, 60));
      expect((await store.getKey(k.id))?.spent).toBe(42);
      expect(await store.countRequests()).toBe(1);
    } finally {
      await again.close();
    }
    // applied within milliseconds: a plain second connection sees the row and the spend
    await store.settle(logRow({ key: 'ci', key_id: k.id, cost: 8 }));
    await new Promise((r) => setTimeout(r, 60));
    const other = new Database(file, { readonly: true });
    try {
      expect(other.prepare('SELECT count(*) FROM logs').pluck().get()).toBe(2);
      expect(other.prepare('SELECT spent FROM keys WHERE id = ?').pluck().get(k.id)).toBe(50);
      expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      other.close();
    }
  });
});

describe('batched apply', () => {
  it('binds the same values positionally as by name, in column order', () => {
    const row = logRow({
      key: 'k',
      key_id: 3,
      channel: 'c',
      channel_id: 4,
      cost: 12,
      dropped_fields: ['x'],
      max_tokens_clamped: 77,
    });
    const named = logParams(row, row.time, 12);
    expect(logValues(9, row, row.time, 12)).toEqual([9, ...LOG_COLUMNS.map((c) => named[c])]);
  });

  it("adds each key's exact sum once for a batch over several keys, and nothing when the batch is replayed", async () => {
    const a = await makeKey('a');
    const b = await makeKey('b');
    const costs: [KeyRecord, number | null][] = [
      [a, 1],
      [b, 10],
      [a, 2],
      [a, null],
      [b, 20],
      [a, 3],
    ];
    // settled back to back: one batch, not yet applied
    for (const [k, cost] of costs) await store.settle(logRow({ key: k.name, key_id: k.id, cost }));
    const replay = openSqliteStore(file);
    try {
      expect((await replay.getKey(a.id))?.spent).toBe(6);
      expect((await replay.getKey(b.id))?.spent).toBe(30);
    } finally {
      await replay.close();
    }
    await new Promise((r) => setTimeout(r, 60));
    expect((await store.getKey(a.id))?.spent).toBe(6);
    expect((await store.getKey(b.id))?.spent).toBe(30);
    expect(await store.countRequests()).toBe(costs.length);
  });
});

describe('WAL checkpoints', () => {
  it('stay with SQLite until the first settlement, then move to the worker (all WAL frames checkpointed)', async () => {
    const db = (store as unknown as { db: Database.Database }).db;
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    const k = await makeKey('wal');
    for (let i = 0; i < 50; i++) await store.settle(logRow({ key: 'wal', key_id: k.id, cost: 1 }));
    expect(await store.countRequests()).toBe(50);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    // the rows are in the WAL only; the worker (every second) copies them into the database file
    const before = fs.statSync(file).size;
    await new Promise((r) => setTimeout(r, 1500));
    expect(fs.statSync(file).size).toBeGreaterThan(before);
  });
});

describe.each(['sqlite', 'postgres'])('%s store', (kind) => {
  beforeEach(async () => {
    if (kind !== 'postgres') return;
    await store.close();
    store = await openPostgresStore(await freshPgDatabase(), { max: 2 });
  });

  describe('settle', () => {
    it('writes every field and adds the cost to the key', async () => {
      const k = await makeKey('ci');
      const row = logRow({
        request_id: 'r-1',
        key: 'ci',
        key_id: k.id,
        channel: 'main',
        channel_id: 7,
        upstream_model: 'gpt-4o-2024-08-06',
        status: 200,
        input_tokens: 100,
        cached_tokens: 20,
        cache_write_tokens: 5,
        output_tokens: 50,
        reasoning_tokens: 10,
        cost: 1234,
        usage_estimated: true,
        latency_ms: 250,
        ttft_ms: 80,
        retries: 1,
        stream: true,
        dropped_fields: ['logprobs', 'seed'],
        max_tokens_clamped: 3000,
      });
      const id = await store.settle(row);
      const [back] = await store.queryLogs({});
      expect(back).toEqual({ ...row, id });
      const after = await store.getKey(k.id);
      expect(after?.spent).toBe(1234);
      expect(after?.lastUsedAt).not.toBeNull();

      await store.settle(logRow({ key: 'ci', key_id: k.id, cost: 766 }));
      expect((await store.getKey(k.id))?.spent).toBe(2000);
    });

    it('stores times as ISO UTC and never loses a row over an unreadable time', async () => {
      await store.settle(logRow({ request_id: 'tz', time: '2026-03-01T02:00:00+02:00' }));
      await store.settle(logRow({ request_id: 'junk', time: 'not a time' }));
      const [junk, tz] = await store.queryLogs({});
      expect(tz?.time).toBe('2026-03-01T00:00:00.000Z');
      expect(junk?.request_id).toBe('junk');
      expect(Math.abs(Date.parse(junk?.time ?? '') - Date.now())).toBeLessThan(60_000);
    });

    it('a null cost is stored as null and leaves spend untouched', async () => {
      const k = await makeKey('ci');
      await store.settle(logRow({ key: 'ci', key_id: k.id, cost: null }));
      expect((await store.queryLogs({}))[0]?.cost).toBeNull();
      const after = await store.getKey(k.id);
      expect(after?.spent).toBe(0);
      expect(after?.lastUsedAt).not.toBeNull();
    });
  });

  describe('queryLogs', () => {
    async function seed(): Promise<{ a: KeyRecord; b: KeyRecord }> {
      const a = await makeKey('alice');
      const b = await makeKey('bob');
      const rows: Partial<NewLogRow>[] = [
        {
          time: '2026-01-01T00:00:00.000Z',
          key: 'alice',
          key_id: a.id,
          model: 'gpt-4o',
          channel: 'c1',
          channel_id: 1,
        },
        {
          time: '2026-01-02T00:00:00.000Z',
          key: 'bob',
          key_id: b.id,
          model: 'gpt-4o',
          status: 502,
          error: 'upstream',
        },
        {
          time: '2026-01-03T00:00:00.000Z',
          key: 'alice',
          key_id: a.id,
          model: 'o3',
          channel: 'c2',
          channel_id: 2,
        },
        {
          time: '2026-01-04T00:00:00.000Z',
          key: 'alice',
          key_id: a.id,
          model: 'o3',
          status: 429,
          channel: 'c1',
          channel_id: 1,
        },
        {
          time: '2026-01-05T00:00:00.000Z',
          key: 'bob',
          key_id: b.id,
          model: 'gpt-4o',
          channel: 'c2',
          channel_id: 2,
        },
      ];
      for (const [i, r] of rows.entries()) await store.settle(logRow({ ...r, request_id: `r${i + 1}` }));
      return { a, b };
    }

    const ids = (rows: { request_id: string }[]): string[] => rows.map((r) => r.request_id);

    it('lists newest first with each filter alone and combined', async () => {
      const { a } = await seed();
      expect(ids(await store.queryLogs({}))).toEqual(['r5', 'r4', 'r3', 'r2', 'r1']);
      expect(ids(await store.queryLogs({ key: 'alice' }))).toEqual(['r4', 'r3', 'r1']);
      expect(ids(await store.queryLogs({ key: String(a.id) }))).toEqual(['r4', 'r3', 'r1']);
      expect(ids(await store.queryLogs({ model: 'o3' }))).toEqual(['r4', 'r3']);
      expect(ids(await store.queryLogs({ errors: true }))).toEqual(['r4', 'r2']);
      expect(ids(await store.queryLogs({ since: '2026-01-03T00:00:00Z' }))).toEqual(['r5', 'r4', 'r3']);
      expect(ids(await store.queryLogs({ channel: 'c1' }))).toEqual(['r4', 'r1']);
      expect(ids(await store.queryLogs({ channel: '2' }))).toEqual(['r5', 'r3']);
      expect(ids(await store.queryLogs({ key: 'alice', model: 'o3', errors: true }))).toEqual(['r4']);
      expect(ids(await store.queryLogs({ key: 'nobody' }))).toEqual([]);
      expect(ids(await store.queryLogs({ limit: 2 }))).toEqual(['r5', 'r4']);
    });

    it('finds rows of a renamed key by id, and of a deleted channel by its logged name', async () => {
      const { a } = await seed();
      await store.updateKey(a.id, { name: 'alice2' });
      expect(ids(await store.queryLogs({ key: 'alice2' }))).toEqual(['r4', 'r3', 'r1']);
      const ch = await store.createChannel({
        name: 'gone',
        type: 'openai',
        baseUrl: null,
        models: [],
        map: {},
        groups: [],
        priority: 0,
        weight: 1,
        status: 'enabled',
        statusReason: null,
        secrets: [],
        timeoutMs: 1000,
        region: null,
        apiVersion: null,
        settings: {},
      });
      await store.settle(logRow({ request_id: 'r6', channel: 'gone', channel_id: ch.id }));
      await store.deleteChannel(ch.id);
      expect(ids(await store.queryLogs({ channel: 'gone' }))).toEqual(['r6']);
    });

    it('with after_id returns only newer rows in ascending order (for logs -f)', async () => {
      await seed();
      const all = await store.queryLogs({});
      const second = all[3]?.id ?? -1;
      expect(ids(await store.queryLogs({ after_id: second }))).toEqual(['r3', 'r4', 'r5']);
      expect(ids(await store.queryLogs({ after_id: second, limit: 2 }))).toEqual(['r3', 'r4']);
      expect(ids(await store.queryLogs({ after_id: second, key: 'bob' }))).toEqual(['r5']);
      expect(await store.queryLogs({ after_id: all[0]?.id ?? 0 })).toEqual([]);
    });

    it('defaults to 100 rows and caps the limit at 10,000', async () => {
      for (let i = 0; i < 120; i++) await store.settle(logRow({ request_id: `x${i}` }));
      expect(await store.queryLogs({})).toHaveLength(100);
      expect(await store.queryLogs({ limit: 1_000_000 })).toHaveLength(120);
      expect(await store.countRequests()).toBe(120);
    });

    it('refuses an unparseable since time', async () => {
      await expect(store.queryLogs({ since: 'yesterday-ish' })).rejects.toMatchObject({
        code: 'INVALID_REQUEST',
      });
    });
  });

  describe('usage', () => {
    it('groups by model, key and channel, counts unpriced rows apart, sorts by cost desc, honours since', async () => {
      const a = await makeKey('alice');
      const b = await makeKey('bob');
      const t = '2026-02-01T00:00:00.000Z';
      await store.settle(
        logRow({
          time: t,
          key: 'alice',
          key_id: a.id,
          model: 'm1',
          channel: 'c1',
          channel_id: 1,
          input_tokens: 10,
          output_tokens: 1,
          cost: 100,
        }),
      );
      await store.settle(
        logRow({
          time: t,
          key: 'alice',
          key_id: a.id,
          model: 'm2',
          channel: 'c1',
          channel_id: 1,
          input_tokens: 5,
          output_tokens: 2,
          cost: null,
        }),
      );
      await store.settle(
        logRow({
          time: t,
          key: 'bob',
          key_id: b.id,
          model: 'm1',
          channel: 'c2',
          channel_id: 2,
          input_tokens: 1,
          output_tokens: 3,
          cost: 300,
          status: 500,
        }),
      );
      await store.settle(
        logRow({ time: '2025-01-01T00:00:00.000Z', key: 'bob', key_id: b.id, model: 'm3', cost: 9999 }),
      );

      const since = '2026-01-01T00:00:00Z';
      expect(await store.usage('model', since)).toEqual([
        { name: 'm1', requests: 2, errors: 1, input_tokens: 11, output_tokens: 4, cost: 400, unpriced: 0 },
        // spend on an unpriced model is unpriced, not $0
        { name: 'm2', requests: 1, errors: 0, input_tokens: 5, output_tokens: 2, cost: null, unpriced: 1 },
      ]);
      expect(await store.usage('key', since)).toEqual([
        { name: 'bob', requests: 1, errors: 1, input_tokens: 1, output_tokens: 3, cost: 300, unpriced: 0 },
        { name: 'alice', requests: 2, errors: 0, input_tokens: 15, output_tokens: 3, cost: 100, unpriced: 1 },
      ]);
      expect((await store.usage('channel', since)).map((r) => [r.name, r.cost])).toEqual([
        ['c2', 300],
        ['c1', 100],
      ]);
      expect((await store.usage('model', '2024-01-01T00:00:00Z'))[0]).toMatchObject({
        name: 'm3',
        cost: 9999,
      });
    });
  });

  describe('the logs table at its edges', () => {
    it('normalises a time without milliseconds to ISO UTC', async () => {
      await store.settle(logRow({ time: '2026-01-01T00:00:00Z' }));
      await store.settle(logRow({ time: '2026-01-01T02:00:00.000+02:00' }));
      // 24 characters like toISOString's, but with an offset
      await store.settle(logRow({ time: '2026-01-01T02:00:00+0200' }));
      expect((await store.queryLogs({})).map((r) => r.time)).toEqual([
        '2026-01-01T00:00:00.000Z',
        '2026-01-01T00:00:00.000Z',
        '2026-01-01T00:00:00.000Z',
      ]);
    });

    it('says which time it cannot read, and what it expects', async () => {
      await expect(store.queryLogs({ since: 'yesterday-ish' })).rejects.toThrow(
        'invalid since time "yesterday-ish": expected ISO 8601',
      );
      await expect(store.usage('model', 'soon')).rejects.toThrow(
        'invalid since time "soon": expected ISO 8601',
      );
    });

    it('finds the rows of a deleted channel by a number of several digits, as its logged id or name', async () => {
      await store.settle(logRow({ request_id: 'by-id', channel: 'old', channel_id: 12 }));
      await store.settle(logRow({ request_id: 'by-name', channel: '345', channel_id: 99 }));
      await store.settle(logRow({ request_id: 'other', channel: 'x12', channel_id: 13 }));
      const ids = async (channel: string) => (await store.queryLogs({ channel })).map((r) => r.request_id);
      expect(await ids('12')).toEqual(['by-id']);
      expect(await ids('345')).toEqual(['by-name']);
      expect(await ids('x12')).toEqual(['other']);
    });
  });
});

describe('the logs table at its edges', () => {
  it('settles straight into the database when there is no journal (in memory): row and spend together', async () => {
    const saved = store;
    store = openSqliteStore(':memory:');
    try {
      const k = await makeKey('mem');
      await store.settle(logRow({ key: 'mem', key_id: k.id, cost: 12.5 }));
      await store.settle(logRow({ key: 'mem', key_id: k.id, cost: null }));
      await store.settle(logRow({ key: null, key_id: null, cost: 99 }));
      const rows = await store.queryLogs({});
      expect(rows.map((r) => r.cost)).toEqual([99, null, 13]);
      const after = await store.getKey(k.id);
      expect(after?.spent).toBe(13);
      expect(after?.lastUsedAt).not.toBeNull();
    } finally {
      await store.close();
      store = saved;
    }
  });

  it('continues the ids after a reopening, so no new row is taken for one already logged', async () => {
    await store.settle(logRow({ request_id: 'a' }));
    await store.settle(logRow({ request_id: 'b' }));
    expect(await store.countRequests()).toBe(2);
    await store.close();
    store = openSqliteStore(file);
    const id = await store.settle(logRow({ request_id: 'c' }));
    expect(id).toBe(3);
    expect((await store.queryLogs({})).map((r) => [r.id, r.request_id])).toEqual([
      [3, 'c'],
      [2, 'b'],
      [1, 'a'],
    ]);
  });
});
