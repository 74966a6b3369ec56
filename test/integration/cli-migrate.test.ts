/**
 * `bc migrate` through the real binary (SPEC section 9): brings a SQLite file or a PostgreSQL
 * database to this build's schema without a daemon, says what it applied, and applies each
 * migration once when three nodes run it at the same moment against one database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBc } from '../support/cli.js';
import { freshPgDatabase } from '../support/stores.js';
import { connectPostgres } from '../../src/daemon/store/postgres/connection.js';
import { LATEST_VERSION } from '../../src/daemon/store/sqlite/migrations.js';

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});
function home(): string {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-migrate-'));
  homes.push(h);
  return h;
}

interface Migrated {
  store: string;
  applied: number;
  version: number;
}

describe('bc migrate', () => {
  it('creates and migrates the SQLite file, then has nothing to do', async () => {
    const h = home();
    const first = await runBc(['migrate', '--json'], { home: h });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      store: `sqlite:${path.join(h, 'burncloud.db')}`,
      applied: LATEST_VERSION,
      version: LATEST_VERSION,
    });
    const again = await runBc(['migrate'], { home: h });
    expect(again.stdout).toMatch(/up to date \(schema version \d+\)/);
  });

  it('applies each migration once when three nodes migrate one PostgreSQL database at once', async () => {
    const url = await freshPgDatabase();
    const runs = await Promise.all(
      [0, 1, 2].map(() =>
        runBc(['migrate', '--json'], { home: home(), env: { BC_DB: url }, timeoutMs: 60_000 }),
      ),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const answers = runs.map((r) => JSON.parse(r.stdout) as Migrated);
    expect(answers.reduce((n, a) => n + a.applied, 0)).toBe(LATEST_VERSION);
    for (const a of answers) expect(a).toMatchObject({ store: url, version: LATEST_VERSION });
    const sql = connectPostgres(url, { max: 1 });
    try {
      const rows = await sql<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`;
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: LATEST_VERSION }, (_, i) => i + 1));
    } finally {
      await sql.end();
    }
  });

  it('says which store it cannot reach, without its password', async () => {
    const r = await runBc(['migrate'], {
      home: home(),
      env: { BC_DB: 'postgres://bc:hunter2@127.0.0.1:1/nowhere' },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot migrate postgres:\/\/bc:\*\*\*@127\.0\.0\.1:1\/nowhere/);
    expect(r.stderr).not.toContain('hunter2');
  });
});
