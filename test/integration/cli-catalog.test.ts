// Prices, groups, models, logs (including `-f`), usage, config and service install through the
// real binary against a real daemon with a simulated OpenAI upstream and real gateway traffic.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRow, ModelView, PriceView, UsageRow } from '../../src/shared/control-api.js';
import { BC_BIN, cleanEnv, openaiChannelArgs, runBc } from '../support/cli.js';
import { startTestDaemon } from '../support/daemon.js';
import type { TestDaemon } from '../support/daemon.js';
import { startOpenAISim } from '../support/sim/openai-sim.js';
import type { OpenAISim } from '../support/sim/openai-sim.js';
import { eachStore } from '../support/store-matrix.js';

const LOG_FIELDS = [
  'id',
  'request_id',
  'time',
  'key',
  'channel',
  'model',
  'upstream_model',
  'endpoint',
  'status',
  'error',
  'input_tokens',
  'cached_tokens',
  'cache_write_tokens',
  'output_tokens',
  'reasoning_tokens',
  'cost',
  'usage_estimated',
  'latency_ms',
  'ttft_ms',
  'retries',
  'stream',
  'dropped_fields',
];

let d: TestDaemon;
let sim: OpenAISim;
let secret = '';
let scratch: string;

async function chat(model: string): Promise<number> {
  const res = await fetch(`${d.gatewayUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function json<T>(args: string[]): Promise<T> {
  const r = await d.bc([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

eachStore((store) => {
  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
    [d, sim] = await Promise.all([startTestDaemon({ store }), startOpenAISim()]);
    const ch = await d.bc(openaiChannelArgs('sim', 'sk-sim-1', 'gpt-4o,cheap', '--base-url', sim.url));
    expect(ch.code, ch.stderr).toBe(0);
    expect(
      (await d.bc(['price', 'set', 'gpt-4o', '--input', '2.5', '--output', '10', '--cache-read', '1.25']))
        .code,
    ).toBe(0);
    secret = (await json<{ key: string }>(['key', 'create', '--name', 'app'])).key;
    expect(await chat('gpt-4o')).toBe(200);
    expect(await chat('gpt-4o')).toBe(200);
    expect(await chat('no-such-model')).toBe(404);
  });

  afterAll(async () => {
    await Promise.all([d?.cleanup(), sim?.close()]);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  describe('prices and groups', () => {
    it('price list: every served model, USD per 1M for humans, micro-USD per 1M as JSON', async () => {
      const human = await d.bc(['price', 'list']);
      expect(human.stdout.split('\n')[0]).toMatch(
        /^MODEL\s+INPUT\/1M\s+OUTPUT\/1M\s+CACHE READ\/1M\s+CACHE WRITE\/1M\s+PER REQUEST\s+MAX OUT\s+SOURCE\s+NOTES$/,
      );
      expect(human.stdout).toMatch(/\ngpt-4o\s+\$2\.50\s+\$10\.00\s+\$1\.25\s+-\s+-\s+\S+\s+override\s*\n/);
      expect(human.stdout).toMatch(/\ncheap\s+unpriced\s+-\s+-\s+-\s+-\s+-\s+unpriced\s*\n/);
      const prices = await json<PriceView[]>(['price', 'list']);
      expect(prices.map((x) => x.model)).toEqual(['cheap', 'gpt-4o']);
      expect(prices.find((x) => x.model === 'gpt-4o')).toMatchObject({
        model: 'gpt-4o',
        input: 2_500_000,
        output: 10_000_000,
        cache_read: 1_250_000,
        cache_write: null,
        per_request: null,
        source: 'override',
        channels: ['sim'],
      });
      expect(prices.find((x) => x.model === 'cheap')).toMatchObject({
        source: 'unpriced',
        input: null,
        output: null,
      });
    });

    it('price set answers the price; rm removes it; removing again is refused', async () => {
      const set = await d.bc([
        'price',
        'set',
        'cheap',
        '--input',
        '0.1',
        '--output',
        '0.4',
        '--per-request',
        '0.001',
      ]);
      expect(set.stdout).toBe(
        'cheap: input $0.10, output $0.40 per 1M tokens, $0.001 per request (override)\n',
      );
      const removed = await json<PriceView & { removed: boolean }>(['price', 'rm', 'cheap']);
      expect(removed).toMatchObject({ removed: true, model: 'cheap', input: 100_000, source: 'override' });
      // still served, so still listed: unpriced again without its override
      expect((await json<PriceView[]>(['price', 'list'])).find((x) => x.model === 'cheap')?.source).toBe(
        'unpriced',
      );
      const again = await d.bc(['price', 'rm', 'cheap']);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^error: no price override for model "cheap"/);
    });

    it('group set and list', async () => {
      expect((await d.bc(['group', 'set', 'vip', '--ratio', '0.8'])).stdout).toBe('group vip: ratio 0.8\n');
      expect(await json<unknown[]>(['group', 'list'])).toContainEqual({ name: 'vip', ratio: 0.8 });
      expect((await d.bc(['group', 'list'])).stdout).toMatch(/\nvip\s+0\.8\n/);
      const bad = await d.bc(['group', 'set', 'vip', '--ratio', 'cheap']);
      expect(bad.code).toBe(2);
    });

    it('models lists each model with its channels', async () => {
      const models = await json<ModelView[]>(['models']);
      expect(models.find((m) => m.model === 'gpt-4o')?.channels).toEqual([
        expect.objectContaining({ name: 'sim', type: 'openai', upstream_model: 'gpt-4o', status: 'enabled' }),
      ]);
      expect((await d.bc(['models'])).stdout).toMatch(/\ngpt-4o\s+sim\n/);
    });
  });

  describe('logs and usage', () => {
    it('logs: the newest rows with the SPEC field names', async () => {
      const rows = await json<LogRow[]>(['logs']);
      expect(rows).toHaveLength(3);
      for (const r of rows) for (const f of LOG_FIELDS) expect(r).toHaveProperty(f);
      const ok = rows.filter((r) => r.status === 200);
      expect(ok).toHaveLength(2);
      expect(
        ok.every((r) => r.key === 'app' && r.channel === 'sim' && typeof r.cost === 'number' && r.cost > 0),
      ).toBe(true);
      const human = await d.bc(['logs']);
      const lines = human.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(
        /^\s*ID\s+TIME\s+KEY\s+CHANNEL\s+MODEL\s+STATUS\s+IN\s+OUT\s+COST\s+LATENCY\s+TTFT\s+ERROR$/,
      );
      expect(lines).toHaveLength(4);
      expect(lines[3]).toMatch(/no-such-model\s+404/);
    });

    it('logs filters: --errors, --limit, --model, --key, --since', async () => {
      const [errors, one, model, key, since] = await Promise.all([
        json<LogRow[]>(['logs', '--errors']),
        json<LogRow[]>(['logs', '--limit', '1']),
        json<LogRow[]>(['logs', '--model', 'gpt-4o']),
        json<LogRow[]>(['logs', '--key', 'app']),
        json<LogRow[]>(['logs', '--since', '1h']),
      ]);
      expect(errors.map((r) => r.status)).toEqual([404]);
      expect(one).toHaveLength(1);
      expect(model).toHaveLength(2);
      expect(key).toHaveLength(3);
      expect(since).toHaveLength(3);
    });

    it('usage by model and by key, with costs in micro-USD', async () => {
      const byModel = await json<UsageRow[]>(['usage', '--since', '1h']);
      const gpt = byModel.find((r) => r.model === 'gpt-4o');
      expect(gpt).toMatchObject({ name: 'gpt-4o', requests: 2, errors: 0 });
      const logs = await json<LogRow[]>(['logs', '--model', 'gpt-4o']);
      expect(gpt?.cost).toBe(logs.reduce((s, r) => s + (r.cost ?? 0), 0));
      expect(gpt?.input_tokens).toBe(logs.reduce((s, r) => s + r.input_tokens, 0));
      const byKey = await json<UsageRow[]>(['usage', '--by', 'key']);
      expect(byKey).toEqual([expect.objectContaining({ key: 'app', requests: 3, errors: 1 })]);
      const human = await d.bc(['usage', '--by', 'key']);
      expect(human.stdout.split('\n')[0]).toMatch(/^KEY\s+REQUESTS\s+ERRORS\s+INPUT\s+OUTPUT\s+COST$/);
      expect(human.stdout).toMatch(/\napp\s+3\s+1\s/);
      expect(human.stdout).toMatch(/\ntotal\s+3\s+1\s/);
    });

    it('logs -f prints new rows as they are logged, until Ctrl-C', async () => {
      const env = { ...cleanEnv(), BC_HOME: d.home };
      const child = spawn(process.execPath, [BC_BIN, 'logs', '-f', '--json', '--limit', '1'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      const waitFor = async (pred: () => boolean) => {
        for (let i = 0; i < 300 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
        expect(pred()).toBe(true);
      };
      try {
        await waitFor(() => out.split('\n').filter(Boolean).length >= 1);
        const first = JSON.parse(out.split('\n')[0] ?? '') as LogRow;
        expect(await chat('gpt-4o')).toBe(200);
        await waitFor(() => out.split('\n').filter(Boolean).length >= 2);
        const next = JSON.parse(out.split('\n')[1] ?? '') as LogRow;
        expect(next.id).toBeGreaterThan(first.id);
        expect(next).toMatchObject({ model: 'gpt-4o', status: 200 });
        child.kill('SIGINT');
        expect(await exited).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  });

  describe('config', () => {
    it('set and get, stored only in BC_HOME/cli.json; bad keys and values exit 2', async () => {
      const home = path.join(scratch, 'cfg');
      const set = await runBc(['config', 'set', 'color', 'never'], { home });
      expect(set.code).toBe(0);
      expect((await runBc(['config', 'get', 'color'], { home })).stdout).toBe('never\n');
      const all = JSON.parse((await runBc(['config', 'get', '--json'], { home })).stdout) as Record<
        string,
        unknown
      >;
      expect(all).toEqual({ socket: path.join(home, 'bc.sock'), json: false, color: 'never' });
      expect(fs.readdirSync(home)).toEqual(['cli.json']);
      expect(JSON.parse(fs.readFileSync(path.join(home, 'cli.json'), 'utf8'))).toEqual({ color: 'never' });
      const badKey = await runBc(['config', 'set', 'colour', 'never'], { home });
      expect(badKey.code).toBe(2);
      expect(badKey.stderr).toContain('one of socket, json, color');
      const badValue = await runBc(['config', 'set', 'json', 'perhaps'], { home });
      expect(badValue.code).toBe(2);
      expect(badValue.stderr).toContain('hint: see `bc config set --help`');
    });

    it('json=true makes JSON the default output', async () => {
      expect((await d.bc(['config', 'set', 'json', 'true'])).code).toBe(0);
      try {
        expect(JSON.parse((await d.bc(['group', 'list'])).stdout)).toContainEqual({
          name: 'default',
          ratio: 1,
        });
      } finally {
        await d.bc(['config', 'unset', 'json']);
      }
      expect((await d.bc(['group', 'list'])).stdout).toMatch(/^NAME\s+RATIO\n/);
    });
  });

  describe('service install', () => {
    it('--print shows a system unit running `bc daemon` for this home', async () => {
      const home = path.join(scratch, 'svc');
      const r = await runBc(['service', 'install', '--print', '--listen', '127.0.0.1:9300'], { home });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('[Unit]');
      expect(r.stdout).toContain(`ExecStart=${process.execPath} ${BC_BIN} daemon\n`);
      expect(r.stdout).toContain(`Environment=BC_HOME=${home}\n`);
      expect(r.stdout).toContain('Environment=BC_LISTEN=127.0.0.1:9300\n');
      expect(r.stdout).toContain('Restart=on-failure');
      expect(r.stdout).toContain('WantedBy=multi-user.target');
      const user = await runBc(['service', 'install', '--print', '--user'], { home });
      expect(user.stdout).toContain('WantedBy=default.target');
      expect(fs.existsSync(home)).toBe(false);
    });

    it('--user writes the unit under the user config folder and says what to run next', async () => {
      const config = path.join(scratch, 'xdg');
      const r = await runBc(['service', 'install', '--user'], {
        home: path.join(scratch, 'svc2'),
        env: { XDG_CONFIG_HOME: config },
      });
      expect(r.code, r.stderr).toBe(0);
      const file = path.join(config, 'systemd', 'user', 'burncloud.service');
      expect(r.stdout).toBe(
        `wrote ${file}\nnext: systemctl --user daemon-reload && systemctl --user enable --now burncloud\n`,
      );
      expect(fs.readFileSync(file, 'utf8')).toContain(`${BC_BIN} daemon`);
    });
  });
});
