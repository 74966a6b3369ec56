/**
 * The database's files are the owner's alone, wherever BC_DB puts them: the daemon runs with a
 * permissive umask (022) against a database outside BC_HOME, serves a request (so the write-ahead
 * log, its index and the settle journal all exist), and every file of the database is 0600. A
 * database left world-readable by an older build is narrowed when it is opened.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';

let sim: OpenAISim;
let gw: TestGateway;
let dbDir: string;
let umask: number;

beforeAll(async () => {
  umask = process.umask(0o022);
  dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-db-elsewhere-'));
  fs.chmodSync(dbDir, 0o755);
  sim = await startOpenAISim();
  gw = await startGateway({ env: { BC_DB: `sqlite:${path.join(dbDir, 'shared.db')}` } });
  await gw.addChannel({
    name: 'sim',
    type: 'openai',
    keys: ['sk-up-000000000000'],
    models: ['gpt-4o-mini'],
    base_url: sim.url,
  });
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
  fs.rmSync(dbDir, { recursive: true, force: true });
  process.umask(umask);
});

const modeOf = (file: string): string => (fs.statSync(file).mode & 0o777).toString(8);

describe('database file modes', () => {
  it('are 0600 for the database, its -wal and -shm and the settle journal, under umask 022', async () => {
    const secret = await gw.createKey();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    const files = fs.readdirSync(dbDir).sort();
    expect(files).toEqual(
      expect.arrayContaining(['shared.db', 'shared.db-shm', 'shared.db-wal', 'shared.db-settle.jsonl']),
    );
    for (const f of files) expect([f, modeOf(path.join(dbDir, f))]).toEqual([f, '600']);
  });

  describe('an existing database', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-db-old-'));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('left world-readable is narrowed to 0600 on open, -wal and -shm with it', async () => {
      const file = path.join(dir, 'old.db');
      const first = openSqliteStore(file);
      await first.close();
      for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
      expect(modeOf(file)).toBe('644');
      const again = openSqliteStore(file);
      try {
        for (const f of fs.readdirSync(dir)) expect([f, modeOf(path.join(dir, f))]).toEqual([f, '600']);
        expect(fs.readdirSync(dir)).toEqual(expect.arrayContaining(['old.db', 'old.db-wal', 'old.db-shm']));
      } finally {
        await again.close();
      }
    });
  });
});
