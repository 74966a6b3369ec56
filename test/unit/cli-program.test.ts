// The CLI program in-process against a recording fake daemon on a Unix socket: exit codes, that
// invalid input never reaches the daemon, how flags become request bodies, stdin secrets, and the
// socket precedence (flag > env > config file > default).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';

interface Seen {
  method: string;
  url: string;
  body: unknown;
}

let dir: string;
let home: string;
let socket: string;
let server: http.Server;
const seen: Seen[] = [];

const CHANNEL = {
  id: 1,
  name: 'oa',
  type: 'openai',
  base_url: 'https://api.openai.com/v1',
  models: ['gpt-4o'],
  map: {},
  groups: ['default'],
  priority: 0,
  weight: 1,
  status: 'enabled',
  status_reason: null,
  keys: ['sk-...1234'],
  cooldown_until: null,
  timeout_ms: 60000,
  region: null,
  api_version: null,
  created_at: '2026-11-01T00:00:00.000Z',
};

function reply(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader('content-type', 'application/json');
  if (req.url === '/v1/channels/nope') {
    res.statusCode = 404;
    res.end(JSON.stringify({ error: { code: 'not_found', message: 'no channel named "nope"' } }));
  } else if (req.url?.startsWith('/v1/channels'))
    res.end(JSON.stringify(req.method === 'GET' && req.url === '/v1/channels' ? [CHANNEL] : CHANNEL));
  else if (req.url?.startsWith('/v1/keys'))
    res.end(JSON.stringify({ id: 1, name: 'k', key: 'sk-bc-secret' }));
  else res.end('{}');
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
  home = path.join(dir, 'home');
  socket = path.join(dir, 'fake.sock');
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body: body ? (JSON.parse(body) as unknown) : null,
      });
      reply(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen.length = 0;
});

async function bc(args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await runCli(args, {
    env: opts.env ?? { BC_HOME: home, BC_SOCKET: socket },
    stdin: Readable.from([opts.stdin ?? '']),
    streams: { stdout, stderr },
  });
  return { code, stdout: out, stderr: err };
}

describe('invalid input: exit 2, a hint, and no request to the daemon', () => {
  const bad: [string, string[], RegExp][] = [
    ['unknown flag', ['channel', 'list', '--bogus'], /unknown option '--bogus'/],
    ['unknown command', ['chanel', 'list'], /unknown command 'chanel'/],
    [
      'invalid type',
      ['channel', 'add', '--name', 'a', '--type', 'foo', '--key', 'k', '--models', 'm'],
      /--type.*"foo" is not a channel type/,
    ],
    [
      'invalid URL',
      [
        'channel',
        'add',
        '--name',
        'a',
        '--type',
        'openai',
        '--key',
        'k',
        '--models',
        'm',
        '--base-url',
        'ftp://x',
      ],
      /--base-url.*not an http or https URL/,
    ],
    ['invalid duration', ['channel', 'edit', 'a', '--timeout', '5x'], /--timeout.*not a duration/],
    ['missing required flag', ['channel', 'add', '--name', 'a'], /required option '--type <type>'/],
    [
      'invalid CIDR',
      ['key', 'create', '--name', 'k', '--allow-ip', '10.0.0.0/33'],
      /--allow-ip.*not an IP address or CIDR/,
    ],
    [
      'invalid date',
      ['key', 'create', '--name', 'k', '--expires', '2027-02-30'],
      /--expires.*not a calendar date/,
    ],
    ['date in the past', ['key', 'create', '--name', 'k', '--expires', '2001-01-01'], /in the past/],
    ['invalid amount', ['key', 'create', '--name', 'k', '--budget', 'ten'], /--budget.*not a USD amount/],
    ['invalid price', ['price', 'set', 'm', '--input', '1', '--output', '-2'], /--output.*not a USD amount/],
    ['invalid ratio', ['group', 'set', 'vip', '--ratio', 'x'], /--ratio.*not a ratio/],
    ['invalid limit', ['logs', '--limit', '0'], /--limit.*not a positive integer/],
    ['invalid dimension', ['usage', '--by', 'day'], /--by.*not a usage dimension/],
    ['invalid map', ['channel', 'edit', 'a', '--map', 'nopair'], /--map.*alias=upstream-model/],
    ['edit with nothing to change', ['key', 'edit', 'k'], /nothing to change/],
    [
      'empty stdin for --key -',
      ['channel', 'add', '--name', 'a', '--type', 'openai', '--key', '-', '--models', 'm'],
      /no secret on stdin/,
    ],
    ['extra argument', ['status', 'extra'], /too many arguments/],
  ];

  it.each(bad)('%s', async (_what, args, message) => {
    const r = await bc(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/hint: see `bc[a-z ]*--help`/);
    expect(r.stdout).toBe('');
    expect(seen).toEqual([]);
  });

  it('the hint names the command that failed', async () => {
    const r = await bc(['channel', 'add', '--name', 'a', '--type', 'foo', '--key', 'k', '--models', 'm']);
    expect(r.stderr).toContain('hint: see `bc channel add --help`');
  });
});

describe('valid input reaches the daemon as the control API expects', () => {
  it('channel add: flags become a ChannelInput', async () => {
    const args = [
      'channel',
      'add',
      '--name',
      'az',
      '--type',
      'azure',
      '--key',
      'k1',
      '--key',
      'k2',
      '--models',
      'gpt-4o,o3',
    ];
    const extra = [
      '--base-url',
      'https://r.openai.azure.com/',
      '--map',
      'gpt-4o=dep1',
      '--map',
      'o3=dep2',
      '--group',
      'vip',
    ];
    const more = [
      '--priority',
      '-1',
      '--weight',
      '3',
      '--timeout',
      '90s',
      '--api-version',
      '2024-10-21',
      '--disabled',
    ];
    const r = await bc([...args, ...extra, ...more, '--json']);
    expect(r.code).toBe(0);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/v1/channels',
        body: {
          name: 'az',
          type: 'azure',
          keys: ['k1', 'k2'],
          models: ['gpt-4o', 'o3'],
          base_url: 'https://r.openai.azure.com',
          map: { 'gpt-4o': 'dep1', o3: 'dep2' },
          groups: ['vip'],
          priority: -1,
          weight: 3,
          timeout_ms: 90000,
          api_version: '2024-10-21',
          disabled: true,
        },
      },
    ]);
    expect(JSON.parse(r.stdout)).toEqual(CHANNEL);
  });

  it('--key - takes the secrets from stdin, one per line', async () => {
    const r = await bc(['channel', 'edit', 'oa', '--key', '-'], { stdin: 'sk-a\n\nsk-b\n' });
    expect(r.code).toBe(0);
    expect(seen[0]).toEqual({ method: 'PATCH', url: '/v1/channels/oa', body: { keys: ['sk-a', 'sk-b'] } });
  });

  it('key edit: USD becomes micro-USD, none clears limits', async () => {
    const r = await bc([
      'key',
      'edit',
      'k',
      '--budget',
      '12.5',
      '--rpm',
      'none',
      '--models',
      'all',
      '--allow-ip',
      '::1',
      '--allow-ip',
      '10.0.0.0/8',
      '--expires',
      'never',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(seen[0]?.body).toEqual({
      budget: 12_500_000,
      rpm: null,
      expires_at: null,
      models: [],
      allow_ips: ['::1', '10.0.0.0/8'],
    });
  });

  it('price set: USD per 1M tokens become micro-USD per 1M tokens', async () => {
    await bc(['price', 'set', 'gpt-4o', '--input', '2.5', '--output', '10', '--cache-read', '1.25']);
    expect(seen[0]).toEqual({
      method: 'PUT',
      url: '/v1/prices/gpt-4o',
      body: { input: 2_500_000, output: 10_000_000, cache_read: 1_250_000 },
    });
  });
});

describe('exit codes', () => {
  it("1 with the daemon's message when it refuses", async () => {
    const r = await bc(['channel', 'show', 'nope']);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe('error: no channel named "nope"\n');
  });

  it('3 with how to start it when nothing answers', async () => {
    const r = await bc(['channel', 'list'], {
      env: { BC_HOME: home, BC_SOCKET: path.join(dir, 'none.sock') },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('start it with `bc start`');
  });

  it('0 for --version and --help', async () => {
    expect(await bc(['--version'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) as unknown,
    });
    const help = await bc(['channel', 'add', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--base-url <url>');
  });
});

describe('socket precedence: flag > env > config file > default', () => {
  it('uses the config file, then the env over it, then the flag over both', async () => {
    const h = path.join(dir, 'prec');
    const none = path.join(dir, 'none.sock');
    expect((await bc(['config', 'set', 'socket', socket], { env: { BC_HOME: h } })).code).toBe(0);
    expect((await bc(['channel', 'list'], { env: { BC_HOME: h } })).code).toBe(0);
    expect((await bc(['channel', 'list'], { env: { BC_HOME: h, BC_SOCKET: none } })).code).toBe(3);
    expect(
      (await bc(['channel', 'list', '--socket', socket], { env: { BC_HOME: h, BC_SOCKET: none } })).code,
    ).toBe(0);
    expect((await bc(['--socket', none, 'channel', 'list'], { env: { BC_HOME: h } })).code).toBe(3);
    expect(fs.readdirSync(h)).toEqual(['cli.json']);
  });

  it('json=true in the config file makes JSON the default', async () => {
    const h = path.join(dir, 'json');
    await bc(['config', 'set', 'json', 'true'], { env: { BC_HOME: h } });
    const r = await bc(['channel', 'list'], { env: { BC_HOME: h, BC_SOCKET: socket } });
    expect(JSON.parse(r.stdout)).toEqual([CHANNEL]);
  });
});
