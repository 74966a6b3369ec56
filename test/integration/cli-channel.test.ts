// `bc channel ...` through the real binary against a real daemon and a simulated OpenAI upstream:
// every subcommand with and without --json, secrets only ever masked (listings, database files,
// daemon log), `--key -` from stdin, the daemon's refusals (exit 1) and bad input (exit 2, nothing
// changed).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelView } from '../../src/shared/control-api.js';
import { openaiChannelArgs } from '../support/cli.js';
import { startTestDaemon } from '../support/daemon.js';
import type { TestDaemon } from '../support/daemon.js';
import { startOpenAISim } from '../support/sim/openai-sim.js';
import type { OpenAISim } from '../support/sim/openai-sim.js';

const GOOD = `sk-good-${randomBytes(12).toString('hex')}`;
const STDIN_A = `sk-stdin-a-${randomBytes(12).toString('hex')}`;
const STDIN_B = `sk-stdin-b-${randomBytes(12).toString('hex')}`;
const BAD = `sk-bad-${randomBytes(12).toString('hex')}`;
const SECRETS = [GOOD, STDIN_A, STDIN_B, BAD];

const CHANNEL_FIELDS = [
  'id',
  'name',
  'type',
  'base_url',
  'models',
  'map',
  'groups',
  'priority',
  'weight',
  'status',
  'status_reason',
  'keys',
  'cooldown_until',
];

let d: TestDaemon;
let sim: OpenAISim;

beforeAll(async () => {
  [d, sim] = await Promise.all([startTestDaemon(), startOpenAISim({ keys: [GOOD] })]);
});

afterAll(async () => {
  await Promise.all([d?.cleanup(), sim?.close()]);
});

async function list(): Promise<ChannelView[]> {
  const r = await d.bc(['channel', 'list', '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ChannelView[];
}

describe('channel add, list, show', () => {
  it('adds a channel and shows it masked (human output)', async () => {
    const r = await d.bc([
      'channel',
      'add',
      '--name',
      'sim',
      '--type',
      'openai',
      '--key',
      GOOD,
      '--models',
      'gpt-4o,gpt-4o-mini',
      '--base-url',
      sim.url,
      '--map',
      'fast=gpt-4o-mini',
      '--priority',
      '5',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^added channel \d+ \(sim\)/);
    expect(r.stdout).toContain(`sk-...${GOOD.slice(-4)}`);
    expect(r.stdout).toContain('fast=gpt-4o-mini');
  });

  it('--key - reads several secrets from stdin; --json answers the channel object', async () => {
    const r = await d.bc(
      [
        'channel',
        'add',
        '--name',
        'multi',
        '--type',
        'anthropic',
        '--key',
        '-',
        '--models',
        'claude-x',
        '--group',
        'vip',
        '--group',
        'default',
        '--weight',
        '3',
        '--timeout',
        '45s',
        '--disabled',
        '--json',
      ],
      { stdin: `${STDIN_A}\n${STDIN_B}\n` },
    );
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout) as ChannelView;
    for (const f of CHANNEL_FIELDS) expect(c).toHaveProperty(f);
    expect(c).toMatchObject({
      name: 'multi',
      type: 'anthropic',
      models: ['claude-x'],
      groups: ['vip', 'default'],
      weight: 3,
      status: 'disabled',
      timeout_ms: 45_000,
    });
    expect(c.keys).toHaveLength(2);
    expect(c.keys.every((k) => k.includes('...'))).toBe(true);
  });

  it('list shows every column for humans and the SPEC field names as JSON', async () => {
    const human = await d.bc(['channel', 'list']);
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+TYPE\s+MODELS\s+PRIORITY\s+WEIGHT\s+STATUS\s+KEYS\s+COOLDOWN$/);
    expect(lines).toHaveLength(3);
    expect(human.stdout).toMatch(/sim\s+openai\s+gpt-4o,gpt-4o-mini\s+5\s+1\s+enabled/);
    expect(human.stdout).toMatch(/multi\s+anthropic\s+claude-x\s+0\s+3\s+disabled/);
    const channels = await list();
    expect(channels.map((c) => c.name)).toEqual(['sim', 'multi']);
    for (const c of channels) for (const f of CHANNEL_FIELDS) expect(c).toHaveProperty(f);
  });

  it('show takes an id or a unique name', async () => {
    const [sim0] = await list();
    const byName = await d.bc(['channel', 'show', 'sim', '--json']);
    const byId = await d.bc(['channel', 'show', String(sim0?.id), '--json']);
    expect(JSON.parse(byName.stdout)).toEqual(JSON.parse(byId.stdout));
    const human = await d.bc(['channel', 'show', 'sim']);
    expect(human.stdout).toMatch(/base url\s+http:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(human.stdout).toMatch(/priority\s+5/);
  });
});

describe('channel edit, enable, disable, test, rm', () => {
  it('edit changes only what is given', async () => {
    const r = await d.bc([
      'channel',
      'edit',
      'multi',
      '--priority',
      '2',
      '--models',
      'claude-x,claude-y',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout) as ChannelView;
    expect(c).toMatchObject({ priority: 2, models: ['claude-x', 'claude-y'], weight: 3, status: 'disabled' });
    const human = await d.bc(['channel', 'edit', 'multi', '--weight', '4']);
    expect(human.stdout).toMatch(/^updated channel \d+ \(multi\)/);
  });

  it('enable and disable', async () => {
    expect((await d.bc(['channel', 'enable', 'multi'])).stdout).toMatch(/^enabled channel \d+ \(multi\)\n$/);
    const j = JSON.parse((await d.bc(['channel', 'disable', 'multi', '--json'])).stdout) as ChannelView;
    expect(j.status).toBe('disabled');
  });

  it('test shows the latency of one real request through the channel', async () => {
    const before = sim.callCount();
    const r = await d.bc(['channel', 'test', 'sim', '--model', 'gpt-4o']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: gpt-4o answered in \d+ ms\n$/);
    expect(sim.callCount()).toBe(before + 1);
    const j = JSON.parse((await d.bc(['channel', 'test', 'sim', '--json'])).stdout) as Record<
      string,
      unknown
    >;
    expect(j).toMatchObject({ ok: true, error: null });
    expect(typeof j.latency_ms).toBe('number');
  });

  it('a failing test shows the upstream error and exits 1', async () => {
    expect((await d.bc(openaiChannelArgs('badkey', BAD, 'gpt-4o', '--base-url', sim.url))).code).toBe(0);
    const r = await d.bc(['channel', 'test', 'badkey']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: channel test failed after \d+ ms \(HTTP 401\): /);
    const j = await d.bc(['channel', 'test', 'badkey', '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, status: 401 });
    expect(j.stdout).not.toContain(BAD);
  });

  it('rm removes by name', async () => {
    const r = await d.bc(['channel', 'rm', 'badkey']);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/^removed channel \d+ \(badkey\)\n$/);
    expect((await list()).map((c) => c.name)).toEqual(['sim', 'multi']);
  });
});

describe("the daemon's refusals: exit 1 with its message", () => {
  it('a duplicate name', async () => {
    const r = await d.bc(openaiChannelArgs('sim', 'sk-x', 'm'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: a channel named "sim" already exists\n');
  });

  it('an unknown id or name', async () => {
    for (const args of [
      ['show', 'nope'],
      ['enable', '999'],
      ['rm', 'nope'],
      ['edit', 'nope', '--weight', '2'],
    ]) {
      const r = await d.bc(['channel', ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: no channel/);
    }
  });
});

describe('bad input: exit 2, nothing changed', () => {
  const cases: [string, string[], string][] = [
    ['unknown flag', openaiChannelArgs('x', 'k', 'm', '--colour', 'red'), 'unknown option'],
    [
      'invalid type',
      ['channel', 'add', '--name', 'x', '--type', 'gpt', '--key', 'k', '--models', 'm'],
      'not a channel type',
    ],
    ['invalid URL', openaiChannelArgs('x', 'k', 'm', '--base-url', 'not a url'), 'is not a URL'],
    [
      'URL not http',
      openaiChannelArgs('x', 'k', 'm', '--base-url', 'localhost:8080'),
      'not an http or https URL',
    ],
    ['invalid duration', ['channel', 'edit', 'sim', '--timeout', '10 minutes'], 'not a duration'],
    ['invalid weight', ['channel', 'edit', 'sim', '--weight', '0'], 'not a positive integer'],
  ];

  it('each is refused with a hint and the channels stay as they were', async () => {
    const before = await list();
    const results = await Promise.all(cases.map(([, args]) => d.bc(args)));
    results.forEach((r, i) => {
      const [what, , message] = cases[i] ?? ['', [], ''];
      expect(r.code, what).toBe(2);
      expect(r.stderr, what).toContain(message);
      expect(r.stderr, what).toMatch(/hint: see `bc channel (add|edit) --help`/);
      expect(r.stdout, what).toBe('');
    });
    expect(await list()).toEqual(before);
  });
});

describe('secrets stay secret', () => {
  it('no listing, show or log prints a plain secret', async () => {
    const outputs = await Promise.all([
      d.bc(['channel', 'list']),
      d.bc(['channel', 'list', '--json']),
      d.bc(['channel', 'show', 'sim', '--json']),
      d.bc(['channel', 'show', 'multi']),
      d.bc(['models', '--json']),
    ]);
    const text = outputs.map((o) => o.stdout + o.stderr).join('\n');
    const log = fs.readFileSync(path.join(d.home, 'logs', 'daemon.log'), 'utf8');
    for (const s of SECRETS) {
      expect(text).not.toContain(s);
      expect(log).not.toContain(s);
    }
  });

  it('the database files never hold a plain secret', () => {
    const files = fs.readdirSync(d.home).filter((f) => f.startsWith('burncloud.db'));
    expect(files).toContain('burncloud.db');
    for (const f of files) {
      const raw = fs.readFileSync(path.join(d.home, f));
      for (const s of SECRETS) expect(raw.includes(Buffer.from(s))).toBe(false);
    }
  });
});
