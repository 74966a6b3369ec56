// Log retention in the stores. On both stores (SQLite, and PostgreSQL on the test run's server):
// pruneLogs deletes exactly the oldest rows before the cutoff, a batch at a time, and moves no
// spend; previewPrune counts without deleting; logStats. SQLite only: a new file is made with
// incremental auto-vacuum and shrinks after a big prune, its WAL emptied.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';
import { openPostgresStore } from '../../src/daemon/store/postgres/store.js';
import type { NewLogRow, Store } from '../../src/daemon/store/types.js';
import { insertSql, LOG_COLUMNS, logParams } from '../../src/daemon/store/sqlite/rows.js';
import { pruneBefore } from '../../src/daemon/store/retention.js';
import { freshPgDatabase } from '../support/stores.js';

let dir: string;
let file: string;
let store: Store;
let seq = 0;

function logRow(over: Partial<NewLogRow> = {}): NewLogRow {
  return {
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
    input_tokens: 10,
    cached_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 5,
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

/** Day `i` of January 2026 (0 = Jan 1), as the relay stamps times. */
const day = (i: number): string => new Date(Date.UTC(2026, 0, 1 + i)).toISOString();

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-retention-'));
  file = path.join(dir, 'bc.db');
  store = openSqliteStore(file);
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.each(['sqlite', 'postgres'])('%s store', (kind) => {
  beforeEach(async () => {
    if (kind !== 'postgres') return;
    await store.close();
    store = await openPostgresStore(await freshPgDatabase(), { max: 2 });
  });

  /** 25 rows, one a day from Jan 1, each costing 7 on one key; rows settled out of time order. */
  async function seed(): Promise<number> {
    const k = await store.createKey({
      name: 'ci',
      hash: 'hash-ci',
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
    const order = [...Array(25).keys()].reverse();
    for (const i of order) await store.settle(logRow({ time: day(i), key: 'ci', key_id: k.id, cost: 7 }));
    return k.id;
  }

  it('deletes exactly the rows before the cutoff, oldest first, a batch at a time, moving no spend', async () => {
    const keyId = await seed();
    const cutoff = day(10);
    // 10 rows lie before day 10; the one at day 10 itself stays (strictly before)
    expect(await store.pruneLogs(cutoff, 4)).toBe(4);
    expect((await store.logStats()).oldest).toBe(day(4));
    expect(await store.pruneLogs(cutoff, 4)).toBe(4);
    expect(await store.pruneLogs(cutoff, 4)).toBe(2);
    expect(await store.pruneLogs(cutoff, 4)).toBe(0);
    const left = await store.queryLogs({ limit: 100 });
    expect(left.map((r) => r.time).sort()).toEqual([...Array(15).keys()].map((i) => day(10 + i)));
    // spend is a counter on the key, not a sum over rows
    expect((await store.getKey(keyId))?.spent).toBe(25 * 7);
  });

  it('pruneBefore loops over batches until done, or stops at maxRows saying more remain', async () => {
    await seed();
    expect(await pruneBefore(store, day(12), { batch: 3, maxRows: 5 })).toEqual({ deleted: 5, more: true });
    expect(await pruneBefore(store, day(12), { batch: 3 })).toEqual({ deleted: 7, more: false });
    expect(await store.countRequests()).toBe(13);
  });

  it('a preview counts what would go and deletes nothing', async () => {
    await seed();
    expect(await store.previewPrune(day(10))).toEqual({ rows: 10, oldest: day(0), newest: day(9) });
    expect(await store.previewPrune(day(0))).toEqual({ rows: 0, oldest: null, newest: null });
    expect(await store.countRequests()).toBe(25);
  });

  it('logStats: rows, the oldest row and the size, before and after a prune', async () => {
    const empty = await store.logStats();
    expect(empty).toMatchObject({ rows: 0, rows_estimated: false, oldest: null });
    await seed();
    const full = await store.logStats();
    expect(full).toMatchObject({ rows: 25, rows_estimated: false, oldest: day(0) });
    expect(full.bytes).toBeGreaterThan(0);
    await pruneBefore(store, day(20));
    expect(await store.logStats()).toMatchObject({ rows: 5, oldest: day(20) });
  });
});

describe('sqlite space', () => {
  it('a new database is made with incremental auto-vacuum', () => {
    const db = new Database(file, { readonly: true });
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    db.close();
  });

  it('the file shrinks after pruning 50,000 rows, and the WAL is emptied', async () => {
    // written directly (one transaction) to keep the test fast; the store reads them as its own
    const db = new Database(file);
    const insert = db.prepare(insertSql('logs', LOG_COLUMNS));
    db.transaction(() => {
      for (let i = 0; i < 50_000; i++) {
        const row = logRow({ error: 'x'.repeat(200) });
        insert.run(logParams(row, new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(), null));
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const before = fs.statSync(file).size;
    expect(before).toBeGreaterThan(10_000_000);
    expect((await store.logStats()).rows).toBe(50_000);

    const done = await pruneBefore(store, '2026-01-01T00:00:00.000Z');
    expect(done).toEqual({ deleted: 50_000, more: false });
    const after = fs.statSync(file).size;
    expect(after).toBeLessThan(before / 10);
    expect(fs.statSync(`${file}-wal`).size).toBe(0);
    expect(await store.logStats()).toMatchObject({ rows: 0, oldest: null, bytes: after });
  });
});
