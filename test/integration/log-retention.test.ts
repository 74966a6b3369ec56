/**
 * Log retention through the real daemon and `bc` (SPEC section 7). With BC_LOG_RETENTION=2s the
 * daemon deletes 30,000 rows of 2020 in the background while requests keep being answered, then
 * the requests' own rows once they are 2 s old, leaving the key's spend as it was. With
 * BC_LOG_RETENTION=0 nothing goes by itself, and `bc logs prune --before DATE` (dry run first)
 * deletes exactly the older rows over several calls; `bc status` shows the log's rows, oldest row
 * and size; bad input is refused with exit 2.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openaiChannelArgs, runBc } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { ask, json, msUntil, type Answer } from '../support/cluster-client.js';
import type { KeyCreated, KeyView, LogPruneResult, StatusView } from '../../src/shared/control-api.js';
import { insertSql, LOG_COLUMNS, logParams } from '../../src/daemon/store/sqlite/rows.js';
import type { NewLogRow } from '../../src/daemon/store/types.js';

let sim: OpenAISim | undefined;
let d: TestDaemon | undefined;

afterEach(async () => {
  await d?.cleanup();
  await sim?.close();
  d = undefined;
  sim = undefined;
});

const status = async (n: TestDaemon): Promise<StatusView> =>
  json<StatusView>(await n.bc(['status', '--json']));

/** `count` rows one second apart from `start`, written straight into the daemon's SQLite file. */
function oldRows(home: string, start: string, count: number): void {
  const db = new Database(path.join(home, 'burncloud.db'));
  db.pragma('busy_timeout = 10000');
  const insert = db.prepare(insertSql('logs', LOG_COLUMNS));
  const row: NewLogRow = {
    request_id: '',
    time: '',
    key: 'gone',
    key_id: null,
    channel: null,
    channel_id: null,
    model: 'm',
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
  };
  const t0 = Date.parse(start);
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const time = new Date(t0 + i * 1000).toISOString();
      insert.run(logParams({ ...row, request_id: `old-${start}-${i}` }, time, null));
    }
  })();
  db.close();
}

describe('log retention', () => {
  it('BC_LOG_RETENTION=2s: old rows go in the background while requests are served; spend stays', async () => {
    sim = await startOpenAISim();
    d = await startTestDaemon({ env: { BC_LOG_RETENTION: '2s' } });
    const n = d;
    json(
      await n.bc([...openaiChannelArgs('sim', 'sk-up-000000000000', 'm', '--base-url', sim.url), '--json']),
    );
    json(await n.bc(['price', 'set', 'm', '--input', '1', '--output', '1', '--json']));
    const k = json<KeyCreated>(await n.bc(['key', 'create', '--name', 'busy', '--json']));
    oldRows(n.home, '2020-01-01T00:00:00.000Z', 30_000);

    // requests one after another until the 2020 rows are gone: every one is answered
    const answers: Answer[] = [];
    const gone = await msUntil(async () => {
      answers.push(await ask(n.gatewayUrl, k.key, {}));
      const log = (await status(n)).log;
      return log !== undefined && (log.oldest === null || log.oldest > '2021');
    }, 30_000);
    expect(gone).toBeLessThan(30_000);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const spent = json<KeyView>(await n.bc(['key', 'show', 'busy', '--json'])).spent;
    expect(spent).toBeGreaterThan(0);

    // the requests' own rows go once they are older than 2 s; the key's spend is a counter
    const empty = await msUntil(async () => (await status(n)).log?.rows === 0, 20_000);
    expect(empty).toBeLessThan(20_000);
    expect(json<KeyView>(await n.bc(['key', 'show', 'busy', '--json'])).spent).toBe(spent);
  }, 90_000);

  it('bc logs prune --before DATE: a dry run counts, the prune deletes exactly the older rows; bc status shows them', async () => {
    d = await startTestDaemon({ env: { BC_LOG_RETENTION: '0' } });
    const n = d;
    // 60,000 rows of 2020 (more than one call's step of 50,000) and 100 of 2030
    oldRows(n.home, '2020-01-01T00:00:00.000Z', 60_000);
    oldRows(n.home, '2030-01-01T00:00:00.000Z', 100);
    const before = (await status(n)).log;
    expect(before).toMatchObject({ rows: 60_100, rows_estimated: false, oldest: '2020-01-01T00:00:00.000Z' });
    expect(before?.bytes).toBeGreaterThan(1_000_000);
    const human = await n.bc(['status']);
    expect(human.stdout).toMatch(/\nlog rows {2}60,100, oldest 2020-01-01 00:00:00, store \d+\.\d MiB\n/);

    const dry = json<LogPruneResult>(
      await n.bc(['logs', 'prune', '--before', '2021-01-01', '--dry-run', '--json']),
    );
    expect(dry).toMatchObject({
      dry_run: true,
      deleted: 60_000,
      oldest: '2020-01-01T00:00:00.000Z',
      newest: new Date(Date.parse('2020-01-01T00:00:00.000Z') + 59_999_000).toISOString(),
    });
    expect((await status(n)).log?.rows).toBe(60_100);
    const dryHuman = await n.bc(['logs', 'prune', '--before', '2021-01-01', '--dry-run']);
    expect(dryHuman.stdout).toMatch(/would delete 60,000 rows before 2021-01-01 00:00:00/);

    const done = json<LogPruneResult>(await n.bc(['logs', 'prune', '--before', '2021-01-01', '--json']));
    expect(done).toMatchObject({ dry_run: false, deleted: 60_000, more: false });
    const after = (await status(n)).log;
    expect(after).toMatchObject({ rows: 100, oldest: '2030-01-01T00:00:00.000Z' });
    // the file gave the space back
    expect(after!.bytes).toBeLessThan(before!.bytes / 2);

    // nothing left before the cutoff
    const again = await n.bc(['logs', 'prune', '--before', '2021-01-01']);
    expect(again.stdout).toMatch(/deleted 0 rows before 2021-01-01 00:00:00/);
  }, 90_000);

  it('refuses bad input: an unreadable --before (exit 2), a missing one, a bad BC_LOG_RETENTION', async () => {
    d = await startTestDaemon({ env: { BC_LOG_RETENTION: '0' } });
    const bad = await d.bc(['logs', 'prune', '--before', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"yesterday" is neither a duration \(30d, 12h\) nor a date/);
    const missing = await d.bc(['logs', 'prune']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--before/);
    // a home of its own: the daemon refuses to start and says why
    const start = await runBc(['start'], {
      env: { BC_LOG_RETENTION: 'soon', BC_LISTEN: '127.0.0.1:0' },
      timeoutMs: 60_000,
    });
    expect(start.code).not.toBe(0);
    expect(start.stderr).toMatch(
      /BC_LOG_RETENTION must be a duration such as 90d, 12h or 30m, or 0 to keep every row, got "soon"/,
    );
  }, 60_000);
});
