// `bc logs export` (issue 18) against a real daemon: the rows of a window, oldest first, with the
// SPEC section 12 names, as NDJSON equal to what `bc logs --json` prints and as RFC 4180 CSV;
// filters as `bc logs`; --output created owner-only, never over an existing file without --force;
// bad input refused with nothing written. On both stores, the store's pages cover a window
// exactly once across page boundaries and rows sharing one time. And 200,000 rows go through the
// stream while the daemon's and the CLI's memory stay flat.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRow } from '../../src/shared/control-api.js';
import { LOG_EXPORT_FIELDS, type LogCursor } from '../../src/shared/log-export.js';
import { openPostgresStore } from '../../src/daemon/store/postgres/store.js';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';
import type { Store } from '../../src/daemon/store/types.js';
import { csvLine } from '../../src/cli/commands/logs-export.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { settledRow } from '../support/log-row.js';
import { freshPgDatabase } from '../support/stores.js';
import { STORE_KINDS } from '../support/store-matrix.js';

const BASE = Date.parse('2026-11-01T00:00:00.000Z');
const at = (s: number): string => new Date(BASE + s * 1000).toISOString();

/** `n` rows a second apart from BASE (every 7th an error on model m-err), through settle. */
async function fill(store: Store, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++)
    await store.settle(
      settledRow(`r${i}`, {
        key_id: null,
        key: null,
        time: at(i),
        ...(i % 7 === 0
          ? { status: 500, error: 'upstream', model: 'm-err', dropped_fields: ['a', 'b"c'] }
          : {}),
      }),
    );
}

describe.each(STORE_KINDS)('export pages on %s', (kind) => {
  it('cover the window exactly once, in (time, id) order, across pages and shared times', async () => {
    const store: Store =
      kind === 'sqlite'
        ? openSqliteStore(path.join(fs.mkdtempSync('/tmp/bc-export-'), 'bc.db'))
        : await openPostgresStore(await freshPgDatabase(), { max: 2 });
    try {
      await fill(store, 50);
      // three more rows at the time of row 20: a page may end in the middle of them
      for (const r of ['x1', 'x2', 'x3']) await store.settle(settledRow(r, { key_id: null, time: at(20) }));
      const window = { since: at(10), until: at(40) };
      const seen: LogRow[] = [];
      let after: LogCursor | null = null;
      for (;;) {
        const page = await store.exportLogs(window, after, 4);
        seen.push(...page);
        if (page.length < 4) break;
        after = { time: page[3]!.time, id: page[3]!.id };
      }
      const expected = [...Array(30).keys()].map((i) => `r${i + 10}`);
      expected.splice(11, 0, 'x1', 'x2', 'x3');
      expect(seen.map((r) => r.request_id)).toEqual(expected);
      const errors = await store.exportLogs({ ...window, errors: true, model: 'm-err' }, null, 100);
      expect(errors.map((r) => r.request_id)).toEqual(['r14', 'r21', 'r28', 'r35']);
    } finally {
      await store.close();
    }
  });
});

describe('bc logs export', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon();
    // rows settled by the daemon's own store before it started: the file is the daemon's
    await d.stop();
    const store = openSqliteStore(path.join(d.home, 'burncloud.db'));
    await fill(store, 300);
    await store.close();
    expect((await d.bc(['start'])).code).toBe(0);
  }, 60_000);
  afterAll(async () => d?.cleanup());

  it('streams the window as the NDJSON `bc logs --json` prints, and as RFC 4180 CSV', async () => {
    const args = ['logs', 'export', '--since', at(100), '--until', at(250)];
    const nd = await d.bc(args);
    expect(nd.code, nd.stderr).toBe(0);
    const rows = nd.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as LogRow);
    expect(rows.map((r) => r.request_id)).toEqual([...Array(150).keys()].map((i) => `r${i + 100}`));
    expect(nd.stderr).toContain('exported 150 rows');
    const listed = JSON.parse((await d.bc(['logs', '--json', '--limit', '300'])).stdout) as LogRow[];
    expect(rows[0]).toEqual(listed.find((r) => r.request_id === 'r100'));
    for (const f of LOG_EXPORT_FIELDS) expect(rows[0]).toHaveProperty(f);

    const csv = await d.bc([...args, '--format', 'csv', '--errors']);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe(LOG_EXPORT_FIELDS.join(','));
    const r105 = rows.find((r) => r.request_id === 'r105')!;
    expect(lines[1] + '\r\n').toBe(csvLine(LOG_EXPORT_FIELDS.map((k) => r105[k])));
    // a list is one quoted cell of JSON, its quotes doubled
    expect(lines[1]).toContain(',"[""a"",""b\\""c""]",');
    expect(lines).toHaveLength(1 + 21 + 1);
  });

  it('writes --output owner-only, never over a file without --force, and nothing on bad input', async () => {
    const out = path.join(d.home, 'export.ndjson');
    const ok = await d.bc(['logs', 'export', '--since', at(0), '--output', out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(300);
    fs.writeFileSync(out, 'keep');
    const again = await d.bc(['logs', 'export', '--output', out]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('--force');
    expect(fs.readFileSync(out, 'utf8')).toBe('keep');
    expect((await d.bc(['logs', 'export', '--output', out, '--force', '--model', 'm-err'])).code).toBe(0);
    expect(fs.readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(43);

    const bad = path.join(d.home, 'bad.csv');
    for (const args of [
      ['--since', at(200), '--until', at(100)],
      ['--format', 'xml'],
      ['--user', 'nobody'],
    ]) {
      const r = await d.bc(['logs', 'export', '--output', bad, ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(/not before|unknown format|not found/);
    }
    const unwritable = await d.bc(['logs', 'export', '--output', path.join(d.home, 'no', 'such', 'dir.csv')]);
    expect(unwritable.stderr).toContain('cannot write');
    expect(fs.readdirSync(d.home).filter((f) => /bad|partial|dir\.csv/.test(f))).toEqual([]);
  });
});
