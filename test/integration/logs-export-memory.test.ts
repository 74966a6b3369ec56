// `bc logs export` in constant memory (issue 18): 100,000 log rows (made through the store's
// settle, as the daemon writes them) exported to a file while the daemon's and the CLI's resident
// memory are sampled. The export is about 94 MB of NDJSON; the daemon grows by less than 200 MB
// over its idle size (measured: 94 MB; V8 lets the garbage of written pages pile up before
// collecting it) and the CLI peaks under 120 MB (76). A daemon holding the export grows 540 MB.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';
import { BC_BIN, cleanEnv } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { settledRow } from '../support/log-row.js';

const ROWS = 100_000;
// a failed request's message on every row: 100,000 rows make an export of about 100 MB
const ERROR = 'upstream said: ' + 'x'.repeat(500);
const MB = 1024 * 1024;

function rss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

let d: TestDaemon | undefined;
afterAll(async () => d?.cleanup());

it('exports 100,000 rows with flat daemon and CLI memory', async () => {
  d = await startTestDaemon();
  await d.stop();
  const store = openSqliteStore(path.join(d.home, 'burncloud.db'));
  const base = Date.parse('2026-11-01T00:00:00.000Z');
  const pending: Promise<number>[] = [];
  for (let i = 0; i < ROWS; i++) {
    pending.push(
      store.settle(
        settledRow(`r${i}`, {
          key_id: null,
          key: null,
          status: 502,
          error: ERROR,
          time: new Date(base + i * 10).toISOString(),
        }),
      ),
    );
    if (pending.length === 5000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await store.close();
  expect((await d.bc(['start'])).code).toBe(0);
  const daemonPid = (JSON.parse((await d.bc(['status', '--json'])).stdout) as { pid: number }).pid;
  const idle = rss(daemonPid);

  const out = path.join(d.home, 'all.ndjson');
  const child = spawn(process.execPath, [BC_BIN, 'logs', 'export', '--output', out], {
    env: { ...cleanEnv(), BC_HOME: d.home },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  let daemonPeak = idle;
  let cliPeak = 0;
  const sampler = setInterval(() => {
    daemonPeak = Math.max(daemonPeak, rss(daemonPid));
    cliPeak = Math.max(cliPeak, rss(child.pid!));
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  expect(code, stderr).toBe(0);
  expect(stderr).toContain(`exported ${ROWS} rows`);
  const size = fs.statSync(out).size;
  console.log(
    `export ${(size / MB).toFixed(0)} MB: daemon idle ${(idle / MB).toFixed(0)} MB peak ${(daemonPeak / MB).toFixed(0)} MB, CLI peak ${(cliPeak / MB).toFixed(0)} MB`,
  );
  expect(size).toBeGreaterThan(80 * MB);
  expect(daemonPeak - idle).toBeLessThan(200 * MB);
  expect(cliPeak).toBeLessThan(120 * MB);
}, 240_000);
