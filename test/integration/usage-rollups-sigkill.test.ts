// Usage rollups through a real daemon (SQLite) SIGKILLed under load: after the restart applies
// the settlement journal, `bc usage` by model and by key (read from the rollups) equals the scan
// of the log rows that survived, request for request and micro-USD for micro-USD, since the
// buckets are written in the transaction that inserts the rows. (Rows applied twice from the
// journal are tested at the store, test/unit/usage-rollups.test.ts, which replays them on purpose.)
import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KeyCreated } from '../../src/shared/control-api.js';
import type { UsageAggregate } from '../../src/daemon/store/types.js';
import { openaiChannelArgs } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { scanUsage } from '../support/usage-scan.js';

let daemon: TestDaemon;
let sim: OpenAISim;

beforeAll(async () => {
  sim = await startOpenAISim();
  daemon = await startTestDaemon();
  expect(
    (await daemon.bc(openaiChannelArgs('oa', 'sk-up-0000000000', 'm', '--base-url', sim.url))).code,
  ).toBe(0);
  expect((await daemon.bc(['price', 'set', 'm', '--input', '3', '--output', '7'])).code).toBe(0);
}, 90_000);

afterAll(async () => {
  await daemon?.cleanup();
  await sim?.close();
});

function fields(r: UsageAggregate): UsageAggregate {
  const { name, requests, errors, input_tokens, output_tokens, cost } = r;
  return { name, requests, errors, input_tokens, output_tokens, cost, unpriced: r.unpriced ?? 0 };
}

function ask(url: string, key: string, stream: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.end(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream }));
  });
}

it('bc usage equals the log scan after a SIGKILL under load and the restart', async () => {
  const keys: string[] = [];
  for (const name of ['k1', 'k2', 'k3'])
    keys.push(
      (JSON.parse((await daemon.bc(['key', 'create', '--name', name, '--json'])).stdout) as KeyCreated).key,
    );
  const st = JSON.parse((await daemon.bc(['status', '--json'])).stdout) as { listen: string };
  const url = `http://${st.listen}`;
  let stop = false;
  let ok = 0;
  const workers = Array.from({ length: 9 }, async (_, w) => {
    for (let i = 0; !stop; i++) if (await ask(url, keys[w % 3]!, (w + i) % 2 === 0)) ok += 1;
  });
  // SIGKILL once the load is well under way
  while (ok < 60) await new Promise((r) => setImmediate(r));
  daemon.kill('SIGKILL');
  stop = true;
  await Promise.all(workers);
  const restarted = await daemon.bc(['start'], { timeoutMs: 60_000 });
  expect(restarted.code, restarted.stderr).toBe(0);

  const since = '2000-01-01T00:00:00.000Z';
  // the route's rows carry the scan's fields, with unpriced left out when 0, and a few of their own
  const usage = async (by: string): Promise<UsageAggregate[]> =>
    (
      JSON.parse(
        (await daemon.bc(['usage', '--by', by, '--since', since, '--json'])).stdout,
      ) as UsageAggregate[]
    ).map(fields);
  const byModel = await usage('model');
  const byKey = await usage('key');
  const raw = new Database(path.join(daemon.home, 'burncloud.db'), { readonly: true });
  try {
    const scanModel = await scanUsage({ sqlite: raw }, 'model', since);
    expect(scanModel[0]!.requests).toBeGreaterThanOrEqual(ok);
    expect(byModel).toEqual(scanModel.map(fields));
    expect(byKey).toEqual((await scanUsage({ sqlite: raw }, 'key', since)).map(fields));
  } finally {
    raw.close();
  }
}, 120_000);
