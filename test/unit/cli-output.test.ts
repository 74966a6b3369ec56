// Human rendering and the Output writer: aligned tables, colour rules, --json documents, stderr.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ChannelView, KeyView, UsageRow } from '../../src/shared/control-api.js';
import {
  formatCount,
  formatDuration,
  formatUntil,
  makeStyle,
  renderTable,
  visibleWidth,
} from '../../src/cli/format.js';
import { Output, wantColor } from '../../src/cli/output.js';
import { renderChannels, renderKeys } from '../../src/cli/views-catalog.js';
import { renderUsage } from '../../src/cli/views-activity.js';

function capture(isTTY = false) {
  const stdout = Object.assign(new PassThrough(), { isTTY });
  const stderr = Object.assign(new PassThrough(), { isTTY });
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  return { streams: { stdout, stderr }, out: () => out, err: () => err };
}

const plain = makeStyle(false);

const channel: ChannelView = {
  id: 7,
  name: 'primary',
  type: 'openai',
  base_url: 'https://api.openai.com/v1',
  models: ['gpt-4o', 'gpt-4o-mini', 'o3', 'o4-mini'],
  map: {},
  groups: ['default'],
  priority: 10,
  weight: 1,
  status: 'auto_disabled',
  status_reason: 'invalid api key',
  keys: ['sk-...a1b2'],
  cooldown_until: null,
  timeout_ms: 60_000,
  region: null,
  api_version: null,
  created_at: '2026-11-01T00:00:00.000Z',
};

describe('tables', () => {
  it('aligns columns, right-aligns numbers and trims trailing space', () => {
    const text = renderTable(
      [
        { header: 'NAME', value: (r: { n: string; v: number }) => r.n },
        { header: 'COUNT', value: (r) => String(r.v), right: true },
      ],
      [
        { n: 'a', v: 5 },
        { n: 'longer-name', v: 12345 },
      ],
      plain,
    );
    expect(text.split('\n')).toEqual(['NAME         COUNT', 'a                5', 'longer-name  12345']);
  });

  it('measures width without colour codes so coloured cells still align', () => {
    const color = makeStyle(true);
    expect(visibleWidth(color.red('abc'))).toBe(3);
    const text = renderTable(
      [
        { header: 'S', value: (r: string) => color.green(r) },
        { header: 'X', value: () => 'x' },
      ],
      ['on', 'offline'],
      color,
    );
    const ansi = new RegExp(String.fromCharCode(27) + '\\[[0-9;]*m', 'g');
    const rows = text
      .split('\n')
      .slice(1)
      .map((l) => l.replace(ansi, ''));
    expect(rows).toEqual(['on       x', 'offline  x']);
  });

  it('channel listing shows the auto-disable reason, masked keys and shortened models', () => {
    const text = renderChannels([channel], plain);
    expect(text).toContain('auto_disabled (invalid api key)');
    expect(text).toContain('sk-...a1b2');
    expect(text).toContain('gpt-4o,gpt-4o-mini,o3 +1');
    expect(text.split('\n')[0]).toMatch(
      /^ID\s+NAME\s+TYPE\s+MODELS\s+PRIORITY\s+WEIGHT\s+STATUS\s+KEYS\s+COOLDOWN$/,
    );
  });

  it('key listing shows money in USD and unlimited budgets', () => {
    const key: KeyView = {
      id: 1,
      name: 'app',
      prefix: 'sk-bc-Ab',
      group: 'default',
      budget: 12_500_000,
      spent: 1_234_567,
      expires_at: null,
      models: [],
      allow_ips: [],
      rpm: 60,
      tpm: null,
      concurrency: null,
      status: 'enabled',
      strict_budget: false,
      user: null,
      scope: 'relay',
      created_by: 'admin',
      created_at: '2026-11-01T00:00:00.000Z',
      last_used_at: null,
    };
    const text = renderKeys([key, { ...key, id: 2, name: 'free', budget: null }], plain);
    expect(text).toContain('$12.50');
    expect(text).toContain('$1.234567');
    expect(text).toContain('unlimited');
  });

  it('usage adds a total row', () => {
    const rows: UsageRow[] = [
      {
        name: 'a',
        model: 'a',
        requests: 2,
        errors: 1,
        input_tokens: 1000,
        output_tokens: 10,
        cost: 1_500_000,
        unpriced_requests: 0,
      },
      {
        name: 'b',
        model: 'b',
        requests: 3,
        errors: 0,
        input_tokens: 500,
        output_tokens: 5,
        cost: 500_000,
        unpriced_requests: 0,
      },
    ];
    const last = renderUsage(rows, 'model', plain).split('\n').at(-1) ?? '';
    expect(last.split(/\s+/)).toEqual(['total', '5', '1', '1,500', '15', '$2.00']);
  });

  it('usage says unpriced spend is unpriced, never $0.00', () => {
    const row = (name: string, cost: number | null, unpriced: number): UsageRow => ({
      name,
      model: name,
      requests: 2,
      errors: 0,
      input_tokens: 100,
      output_tokens: 10,
      cost,
      unpriced_requests: unpriced,
    });
    const text = renderUsage(
      [row('priced', 1_500_000, 0), row('local', null, 2), row('mixed', 0, 1)],
      'model',
      plain,
    );
    const lines = text.split('\n');
    expect(lines.find((l) => l.startsWith('local'))).toMatch(/unpriced \(2 req\)$/);
    expect(lines.find((l) => l.startsWith('mixed'))).toMatch(/\$0\.00 \+ 1 unpriced$/);
    expect(lines.find((l) => l.startsWith('total'))).toMatch(/\$1\.50 \+ 3 unpriced$/);
    expect(text).not.toMatch(/^local.*\$0\.00/m);
    expect(lines.at(-1)).toMatch(/^unpriced: /);
  });
});

describe('short forms', () => {
  it('durations, counts and countdowns', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(26 * 3600_000)).toBe('1d2h');
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatUntil(new Date(10_000).toISOString(), 0)).toBe('10s');
    expect(formatUntil(new Date(0).toISOString(), 5000)).toBe('-');
  });
});

describe('colour', () => {
  it('only on a TTY, never with NO_COLOR, forced by always', () => {
    expect(wantColor('auto', true, {})).toBe(true);
    expect(wantColor('auto', false, {})).toBe(false);
    expect(wantColor('auto', true, { NO_COLOR: '1' })).toBe(false);
    expect(wantColor('always', false, {})).toBe(true);
    expect(wantColor('always', true, { NO_COLOR: '1' })).toBe(false);
    expect(wantColor('never', true, {})).toBe(false);
  });
});

describe('Output', () => {
  it('--json writes exactly one JSON document on stdout and nothing human', () => {
    const c = capture();
    const out = new Output({ json: true, color: 'auto', env: {}, streams: c.streams });
    out.result({ id: 1, spent: 1500000 }, () => 'HUMAN');
    out.note('a note for humans');
    expect(JSON.parse(c.out())).toEqual({ id: 1, spent: 1500000 });
    expect(c.out()).not.toContain('HUMAN');
    expect(c.err()).toBe('');
  });

  it('human mode renders, and errors go to stderr with their hint', () => {
    const c = capture();
    const out = new Output({ json: false, color: 'auto', env: {}, streams: c.streams });
    out.result({ id: 1 }, () => 'one line');
    out.error('it broke', 'hint: see `bc --help`');
    expect(c.out()).toBe('one line\n');
    expect(c.err()).toBe('error: it broke\nhint: see `bc --help`\n');
  });

  it('progress appears only on a terminal and is cleared before the result', () => {
    const piped = capture(false);
    new Output({ json: false, color: 'never', env: {}, streams: piped.streams }).progress('starting…');
    expect(piped.err()).toBe('');

    const tty = capture(true);
    const out = new Output({ json: false, color: 'never', env: {}, streams: tty.streams });
    out.progress('starting…');
    out.result({}, () => 'started');
    expect(tty.err()).toContain('starting…');
    expect(tty.err().endsWith('\r\u001b[2K')).toBe(true);
    expect(tty.out()).toBe('started\n');
  });
});
