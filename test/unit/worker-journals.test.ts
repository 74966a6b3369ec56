/**
 * What `--workers N` asks of the store (workers/identity.ts): two worker processes' stores on one
 * SQLite file settle interleaved rows without sharing an id (each takes its own residue class),
 * and a daemon opened on its own, as the supervisor opens it before starting workers, applies and
 * removes what workers of an earlier run left in their journal files (SQLite) or spill files
 * (PostgreSQL), so running fewer workers next time loses no row and a second start applies none
 * twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';
import { journalLine } from '../../src/daemon/store/sqlite/journal.js';
import { openStore } from '../../src/daemon/store/open.js';
import { resolvePaths } from '../../src/shared/paths.js';
import { isWorkerFileOf, workerFile, workerFromEnv } from '../../src/daemon/workers/identity.js';
import { settledRow } from '../support/log-row.js';
import { freshPgDatabase } from '../support/stores.js';

let dir: string;
const row = (id: string) => settledRow(id, { key_id: null, channel_id: null, key: null, channel: null });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('worker identity and files', () => {
  it('reads the supervisor-given identity and refuses a malformed one', () => {
    expect(workerFromEnv({})).toBeNull();
    expect(workerFromEnv({ BC_WORKER_INDEX: '1', BC_WORKER_COUNT: '3' })).toEqual({ index: 1, count: 3 });
    expect(() => workerFromEnv({ BC_WORKER_INDEX: '3', BC_WORKER_COUNT: '3' })).toThrow(/bad worker/);
    expect(() => workerFromEnv({ BC_WORKER_INDEX: 'x', BC_WORKER_COUNT: '2' })).toThrow(/bad worker/);
  });

  it("names a worker's own file beside the shared one and recognises only such names", () => {
    const f = '/h/settle-spill.jsonl';
    expect(workerFile(f, null)).toBe(f);
    expect(workerFile(f, { index: 2, count: 4 })).toBe('/h/settle-spill-w2.jsonl');
    expect(workerFile('/h/db-settle.jsonl', { index: 0, count: 2 })).toBe('/h/db-settle-w0.jsonl');
    expect(isWorkerFileOf(f, '/h/settle-spill-w12.jsonl')).toBe(true);
    expect(isWorkerFileOf(f, '/h/settle-spill.jsonl')).toBe(false);
    expect(isWorkerFileOf(f, '/h/settle-spill-wx.jsonl')).toBe(false);
    expect(isWorkerFileOf(f, '/h/settle-spill-w1.jsonl.bak')).toBe(false);
  });
});

describe('SQLite shared by workers', () => {
  it('two workers settle 2 x 60 interleaved rows into one file: 120 rows, 120 distinct ids, ids in each residue class', async () => {
    const file = path.join(dir, 'bc.db');
    await openSqliteStore(file).close();
    const w0 = openSqliteStore(file, undefined, { index: 0, count: 2 });
    const w1 = openSqliteStore(file, undefined, { index: 1, count: 2 });
    const ids: number[][] = [[], []];
    for (let i = 0; i < 60; i++) {
      ids[0]!.push(await w0.settle(row(`a-${i}`)));
      ids[1]!.push(await w1.settle(row(`b-${i}`)));
    }
    expect(ids[0]!.every((id) => id % 2 === 0)).toBe(true);
    expect(ids[1]!.every((id) => id % 2 === 1)).toBe(true);
    // a read applies the reader's own journal: worker 1's rows are in once it has read too
    await w1.queryLogs({ limit: 1 });
    const rows = await w0.queryLogs({ limit: 1000 });
    expect(rows).toHaveLength(120);
    expect(new Set(rows.map((r) => r.id)).size).toBe(120);
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(120);
    await w0.close();
    await w1.close();
  });

  it("a worker's ids go above the other's rows once it has applied a batch (ids stay about as ordered as time)", async () => {
    const file = path.join(dir, 'bc.db');
    await openSqliteStore(file).close();
    const w0 = openSqliteStore(file, undefined, { index: 0, count: 2 });
    const w1 = openSqliteStore(file, undefined, { index: 1, count: 2 });
    // worker 0 is busy: 50 rows; worker 1 then settles one after applying its journal
    for (let i = 0; i < 50; i++) await w0.settle(row(`busy-${i}`));
    await w0.queryLogs({ limit: 1 });
    await w1.settle(row('quiet-0'));
    await w1.queryLogs({ limit: 1 });
    const next = await w1.settle(row('quiet-1'));
    expect(next).toBeGreaterThan(100);
    expect(next % 2).toBe(1);
    await w0.close();
    await w1.close();
  });

  it('a daemon on its own applies and removes the journals earlier workers left, once', async () => {
    const file = path.join(dir, 'bc.db');
    await openSqliteStore(file).close();
    // what a SIGKILLed worker 3 (and worker 1) of an earlier run left unapplied
    fs.writeFileSync(
      `${file}-settle-w3.jsonl`,
      journalLine(7, row('left-7')) + journalLine(11, row('left-11')),
    );
    fs.writeFileSync(`${file}-settle-w1.jsonl`, journalLine(5, row('left-5')));
    const store = openSqliteStore(file);
    const rows = await store.queryLogs({ limit: 100 });
    expect(rows.map((r) => [r.id, r.request_id]).sort()).toEqual([
      [11, 'left-11'],
      [5, 'left-5'],
      [7, 'left-7'],
    ]);
    expect(fs.existsSync(`${file}-settle-w3.jsonl`)).toBe(false);
    expect(fs.existsSync(`${file}-settle-w1.jsonl`)).toBe(false);
    // new rows go above them
    expect(await store.settle(row('new'))).toBe(12);
    await store.close();
    // a worker that opens the file leaves other workers' journals alone (they may be live)
    fs.writeFileSync(`${file}-settle-w0.jsonl`, journalLine(40, row('live-0')));
    const worker = openSqliteStore(file, undefined, { index: 1, count: 2 });
    expect(fs.existsSync(`${file}-settle-w0.jsonl`)).toBe(true);
    expect((await worker.queryLogs({ limit: 100 })).map((r) => r.request_id)).not.toContain('live-0');
    await worker.close();
  });
});

describe('PostgreSQL shared by workers', () => {
  it("a daemon on its own settles what earlier workers' spill files hold, once, and removes them", async () => {
    const db = await freshPgDatabase();
    const paths = resolvePaths({ home: dir, db });
    await (await openStore(paths)).close();
    fs.writeFileSync(
      path.join(dir, 'settle-spill-w1.jsonl'),
      journalLine(0, row('s-1')) + journalLine(0, row('s-2')),
    );
    fs.writeFileSync(path.join(dir, 'settle-spill-w0.jsonl'), journalLine(0, row('s-1')));
    const store = await openStore(paths);
    const rows = await store.queryLogs({ limit: 100 });
    // s-1 was in two files: settled once (idempotent by request id)
    expect(rows.map((r) => r.request_id).sort()).toEqual(['s-1', 's-2']);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('settle-spill-w'))).toEqual([]);
    await store.close();
  });
});
