/**
 * Settlements while PostgreSQL is away (SPEC section 9): the store reached through a TCP proxy
 * the test can cut. While cut, settled rows wait in the node's spill file and each settlement
 * still answers within its time limit; once PostgreSQL is back the drain applies them, in order,
 * once: spend equals the sum of the rows, also for a row whose first attempt committed but was
 * spilled all the same (a lost reply), and for rows an earlier run left in the file (a crash).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from '../../src/daemon/store/postgres/store.js';
import { SettleSpill } from '../../src/daemon/store/postgres/spill.js';
import type { NewLogRow } from '../../src/daemon/store/types.js';
import { freshPgDatabase } from '../support/stores.js';
import { freePort } from '../support/servers.js';
import { Proxy } from '../support/tcp-proxy.js';

let dir: string;
let proxy: Proxy;
let store: PostgresStore;
let direct: PostgresStore;
let keyId: number;
let n = 0;

const row = (cost: number): NewLogRow => ({
  request_id: `req-${++n}`,
  time: new Date().toISOString(),
  key: 'k',
  key_id: keyId,
  channel: null,
  channel_id: null,
  model: 'm',
  upstream_model: 'm',
  endpoint: '/v1/chat/completions',
  status: 200,
  error: null,
  input_tokens: 1,
  cached_tokens: 0,
  cache_write_tokens: 0,
  output_tokens: 1,
  reasoning_tokens: 0,
  cost,
  usage_estimated: false,
  latency_ms: 1,
  ttft_ms: null,
  retries: 0,
  stream: false,
  dropped_fields: [],
});

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-spill-'));
  const url = new URL(await freshPgDatabase());
  direct = await openPostgresStore(url.toString(), { max: 2 });
  const key = await direct.createKey({
    name: 'k',
    hash: 'h'.repeat(64),
    prefix: 'sk-bc-k',
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
  keyId = key.id;
  proxy = new Proxy(await freePort(), Number(url.port));
  await proxy.open();
  url.port = String(proxy.port);
  store = await openPostgresStore(url.toString(), { max: 2 });
});

afterAll(async () => {
  await store?.close().catch(() => undefined);
  await direct?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function spentAndRows(): Promise<{ spent: number; rows: number; sum: number }> {
  const k = await direct.getKey(keyId);
  const rows = await direct.queryLogs({ key: 'k', limit: 10_000 });
  return { spent: k!.spent, rows: rows.length, sum: rows.reduce((s, r) => s + (r.cost ?? 0), 0) };
}

describe('settling while PostgreSQL is away', () => {
  it('spills rows within the time limit, then applies each once when it returns', async () => {
    const file = path.join(dir, 'spill.jsonl');
    const spill = SettleSpill.open(file, (r) => store.settle(r), { settleTimeoutMs: 500, retryMs: 100 });
    for (let i = 0; i < 5; i++) await spill.settle(row(100));
    expect(spill.backlog).toBe(0);
    expect(await spentAndRows()).toEqual({ spent: 500, rows: 5, sum: 500 });

    // a row committed directly, whose settlement is then spilled too (its reply was "lost")
    const lost = row(7);
    await direct.settle(lost);
    await proxy.cut();
    const t0 = Date.now();
    await spill.settle(lost);
    for (let i = 0; i < 4; i++) await spill.settle(row(10));
    expect(Date.now() - t0).toBeLessThan(5 * 600);
    expect(spill.backlog).toBe(5);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(5);
    expect(await spentAndRows()).toEqual({ spent: 507, rows: 6, sum: 507 });

    await proxy.open();
    const until = Date.now() + 10_000;
    while (spill.backlog > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(spill.backlog).toBe(0);
    expect(fs.statSync(file).size).toBe(0);
    expect(await spentAndRows()).toEqual({ spent: 547, rows: 10, sum: 547 });
    await spill.close();
  });

  it('applies what an earlier run left in the file, once', async () => {
    const file = path.join(dir, 'crash.jsonl');
    await proxy.cut();
    const first = SettleSpill.open(file, (r) => store.settle(r), { settleTimeoutMs: 300, retryMs: 60_000 });
    const rows = [row(1000), row(2000)];
    for (const r of rows) await first.settle(r);
    expect(first.backlog).toBe(2);
    // the process dies here: nothing drained, nothing closed
    await proxy.open();
    const before = await spentAndRows();
    const second = SettleSpill.open(file, (r) => store.settle(r), { retryMs: 100 });
    await second.drain();
    expect(second.backlog).toBe(0);
    const after = await spentAndRows();
    expect(after.spent - before.spent).toBe(3000);
    expect(after.rows - before.rows).toBe(2);
    // the old instance's copy of the same rows changes nothing
    await first.drain();
    expect((await spentAndRows()).spent).toBe(after.spent);
    await second.close();
    await first.close();
  });
});
