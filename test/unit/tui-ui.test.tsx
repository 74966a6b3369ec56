import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { UiApp } from '../../src/tui/ui/ui-app.js';
import { PLAIN_THEME } from '../../src/tui/theme.js';
import { FakeManagement, HEALTH, logRow, plain, scenario, until } from './tui-fake-daemon.js';

afterEach(() => cleanup());

const ENTER = '\r';
const ESC = '\x1b';
const RIGHT = '\x1b[C';
const DOWN = '\x1b[B';

function mount(client: FakeManagement, initialTab = 0) {
  const ui = render(
    <UiApp
      client={client}
      theme={PLAIN_THEME}
      size={{ columns: 100, rows: 30 }}
      follow={{ backoffMs: [10] }}
      initialTab={initialTab}
    />,
  );
  const frame = () => plain(ui.lastFrame());
  // a frame is written before the new screen's key handlers subscribe: give them a moment
  const see = (text: string | RegExp, what = String(text)) =>
    until(() => (typeof text === 'string' ? frame().includes(text) : text.test(frame())), 5000, what).then(
      () => new Promise((r) => setTimeout(r, 20)),
      (err: Error) => {
        throw new Error(`${err.message}\n--- last frame ---\n${frame()}`);
      },
    );
  /** types one key at a time, letting each render, as a person would */
  const type = async (keys: string) => {
    for (const k of [...keys]) {
      ui.stdin.write(k);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const press = async (k: string) => {
    ui.stdin.write(k);
    await new Promise((r) => setTimeout(r, 20));
  };
  return { ui, frame, see, type, press };
}

function withTraffic(): FakeManagement {
  const client = new FakeManagement();
  const sc = scenario();
  sc.traffic(40);
  sc.tick();
  client.push(sc.snapshot(HEALTH));
  return client;
}

describe('bc ui', () => {
  it('shows the monitor, switches tabs with digits and Tab, and quits with q', async () => {
    const client = withTraffic();
    const t = mount(client);
    await t.see('RPS 8');
    expect(t.frame()).toContain('[1 monitor]');
    expect(t.frame()).toContain('live');
    expect(t.frame().split('\n')).toHaveLength(29);
    await t.press('2');
    await t.see('claude-backup');
    expect(t.frame()).toContain('[2 channels]');
    await t.press('\t');
    await t.see('[3 keys]');
    await t.see(/app\s+sk-bc-abcd\s+enabled/);
    await t.press('q');
    await until(() => client.aborted === 1, 5000, 'stream closed on quit');
  });

  it('adds a channel through the form, never echoing the secret', async () => {
    const client = withTraffic();
    const t = mount(client, 1);
    await t.see('openai-main');
    // live status from the metrics snapshot: channel 3 is not listed, 1 is serving
    expect(t.frame()).toMatch(/openai-main\s+openai\s+ok\s+0\s+1\s+gpt-4o\s+40/);
    await t.press('a');
    await t.see('Add a channel');
    await t.type('deepseek-1');
    await t.press(ENTER);
    for (let i = 0; i < 6; i++) await t.press(RIGHT); // openai -> deepseek in CHANNEL_TYPES
    await t.see('< deepseek >');
    await t.press(ENTER);
    await t.type('sk-secret-123');
    await t.press(ENTER);
    expect(t.frame()).not.toContain('sk-secret-123');
    expect(t.frame()).toContain('*************');
    await t.type('deepseek-chat,deepseek-reasoner');
    await t.press(ENTER);
    await t.press(ENTER); // default base URL
    await t.press(ENTER); // priority 0
    await t.type('\x7f3'); // weight 1 -> 3
    await t.press(ENTER);
    await t.see('added channel deepseek-1');
    expect(client.callsOf('channels.add')).toEqual([
      [
        {
          name: 'deepseek-1',
          type: 'deepseek',
          keys: ['sk-secret-123'],
          models: ['deepseek-chat', 'deepseek-reasoner'],
          priority: 0,
          weight: 3,
        },
      ],
    ]);
    await t.see(/deepseek-1\s+deepseek/);
    expect(t.frame()).not.toContain('sk-secret-123');
  });

  it('shows form errors without calling the daemon, and Esc cancels', async () => {
    const client = withTraffic();
    const t = mount(client, 1);
    await t.see('openai-main');
    await t.press('e');
    await t.see('Edit channel openai-main');
    await t.type('\x7fx');
    await t.press(ENTER);
    await t.press(ENTER);
    await t.press(ENTER);
    await t.see('priority: "x" is not a whole number');
    expect(client.callsOf('channels.edit')).toEqual([]);
    // digits and q are text inside a form, not tab switches or quitting
    await t.type('q2');
    expect(t.frame()).toContain('[2 channels]');
    await t.press(ESC);
    await t.see('a add  e edit');
    expect(client.aborted).toBe(0);
  });

  it('edits, tests, disables after asking, and removes after asking', async () => {
    const client = withTraffic();
    const t = mount(client, 1);
    await t.see('claude-backup');
    await t.press(DOWN);
    await t.press('e');
    await t.see('Edit channel claude-backup');
    await t.type('\x7f5');
    await t.press(ENTER);
    await t.type('\x7f2');
    await t.press(ENTER);
    await t.press(ENTER);
    await t.see('saved channel claude-backup');
    expect(client.callsOf('channels.edit')).toEqual([[2, { priority: 5, weight: 2, models: ['gpt-4o'] }]]);

    await t.press('t');
    await t.see('test claude-backup: ok in 320ms (gpt-4o)');
    client.testAnswer = { ok: false, model: 'gpt-4o', latency_ms: 80, status: 401, error: 'invalid api key' };
    await t.press('t');
    await t.see('test claude-backup: failed 401: invalid api key');

    await t.press('d');
    await t.see('Disable channel claude-backup?');
    await t.press('q'); // anything but y backs out, and does not quit
    await until(() => !t.frame().includes('Disable channel'), 5000, 'question gone');
    expect(client.callsOf('channels.disable')).toEqual([]);
    expect(client.aborted).toBe(0);
    await t.press('d');
    await t.see('Disable channel claude-backup?');
    await t.press('y');
    await t.see('disabled claude-backup');
    expect(client.callsOf('channels.disable')).toEqual([[2]]);
    await t.see(/claude-backup\s+anthropic\s+off/);
    await t.press('d'); // enabling is not destructive: no question
    await t.see('enabled claude-backup');

    await t.press('x');
    await t.see('Remove channel claude-backup for good?');
    await t.press('y');
    await t.see('removed claude-backup');
    expect(client.callsOf('channels.remove')).toEqual([[2]]);
    await until(() => !t.frame().includes('claude-backup  '), 3000, 'row gone');
  });

  it('creates a key and shows its secret once', async () => {
    const client = withTraffic();
    const t = mount(client, 2);
    await t.see('app');
    await t.press('c');
    await t.see('Create a key');
    await t.type('batch');
    await t.press(ENTER);
    await t.press(ENTER);
    await t.type('12.5');
    await t.press(ENTER);
    await t.press(ENTER);
    await t.type('60');
    await t.press(ENTER);
    await t.press(ENTER);
    await t.press(ENTER);
    await t.see('shown only once');
    expect(t.frame()).toContain('sk-bc-0123456789abcdefghijABCDEFGHIJxyz');
    expect(client.callsOf('keys.create')).toEqual([
      [{ name: 'batch', budget: 12_500_000, rpm: 60, tpm: null, concurrency: null }],
    ]);
    await t.press(ENTER);
    await t.see(/batch\s+sk-bc-abcd\s+enabled\s+\$12\.5\s/);
    expect(t.frame()).not.toContain('sk-bc-0123456789');
  });

  it('sets budget and limits, rejects a bad amount, and revokes after asking', async () => {
    const client = withTraffic();
    const t = mount(client, 2);
    await t.see('app');
    await t.press('b');
    await t.see('Budget and limits of app');
    await t.type('abc');
    for (let i = 0; i < 4; i++) await t.press(ENTER);
    await t.see('budget: "abc" is not an amount in USD');
    expect(client.callsOf('keys.edit')).toEqual([]);
    // the last Enter submitted from the last field: go back up to the budget
    for (let i = 0; i < 3; i++) await t.press('\x1b[A');
    await t.type('\x7f\x7f\x7f5');
    await t.press(DOWN);
    await t.press(DOWN);
    await t.type('1000');
    await t.press(ENTER);
    await t.press(ENTER);
    await t.see('saved limits of app');
    expect(client.callsOf('keys.edit')).toEqual([
      [1, { budget: 5_000_000, rpm: null, tpm: 1000, concurrency: null }],
    ]);
    await t.press('r');
    await t.see('Revoke key app?');
    await t.press('y');
    await t.see('revoked app');
    expect(client.callsOf('keys.revoke')).toEqual([[1]]);
  });

  it('takes a pasted chunk with Enter presses in it as typing then Enter', async () => {
    const client = withTraffic();
    const t = mount(client, 3);
    await t.see('gpt-4o');
    await t.press('s');
    await t.see('Set a price');
    t.ui.stdin.write('pasted-model\r0.25\r0.75\r\r\r');
    await t.see('price of pasted-model saved');
    expect(client.callsOf('prices.set')).toEqual([
      ['pasted-model', { input: 250_000, output: 750_000, cache_read: null, cache_write: null }],
    ]);
  });

  it('shows each price with its source, and unpriced models as unpriced', async () => {
    const client = withTraffic();
    const t = mount(client, 3);
    await t.see(/claude-opus-4-8\s+\$5\.00\s+\$25\.0\s+\$0\.50\s+\$6\.25\s+catalog@0\.1\.8/);
    await t.see(/gpt-4o\s+\$2\.50\s+\$10\.0\s+\$1\.25\s+-\s+override/);
    await t.see(/llama3\s+unpriced\s+-\s+-\s+-\s+unpriced/);
    // a catalog price has no override to remove: nothing is asked, nothing is called
    await t.press('x');
    await t.see('claude-opus-4-8 has no override to remove: its price comes from catalog@0.1.8');
    expect(client.callsOf('prices.remove')).toEqual([]);
  });

  it('sets and removes prices', async () => {
    const client = withTraffic();
    const t = mount(client, 3);
    await t.see(/gpt-4o\s+\$2\.50\s+\$10\.0\s+\$1\.25\s+-\s+override/);
    await t.press('s');
    await t.see('Set a price');
    await t.type('my-model');
    await t.press(ENTER);
    await t.type('0.5');
    await t.press(ENTER);
    await t.type('1.5');
    await t.press(ENTER);
    await t.press(ENTER);
    await t.press(ENTER);
    await t.see('price of my-model saved');
    expect(client.callsOf('prices.set')).toEqual([
      ['my-model', { input: 500_000, output: 1_500_000, cache_read: null, cache_write: null }],
    ]);
    await t.see(/my-model\s+\$0\.50\s+\$1\.50/);
    await t.press(DOWN);
    await t.press('x');
    await t.see("Remove the price override of gpt-4o? The catalog's price, if any, applies again.");
    await t.press('y');
    await t.see('removed the price override of gpt-4o');
    expect(client.callsOf('prices.remove')).toEqual([['gpt-4o']]);
  });

  it('tails the log, picks up new rows, and filters errors', async () => {
    const client = withTraffic();
    client.logRows = [logRow(1), logRow(2, { status: 502, error: 'upstream said no', model: 'claude' })];
    const t = mount(client, 4);
    await t.see(/10:00:02\s+502\s+claude/);
    expect(t.frame()).toMatch(/10:00:01\s+200\s+gpt-4o\s+app\s+openai-main\s+12\s+34\s+\$0\.002\s+420ms/);
    expect(t.frame()).toContain('no filter  3 rows  req-2: upstream said no'.replace('3', '2')); // the selected row's error
    client.logRows.push(logRow(3, { model: 'gpt-4o-mini' }));
    await until(() => t.frame().includes('gpt-4o-mini'), 3000, 'new row');
    expect(client.callsOf('logs').some(([q]) => (q as { after_id?: number }).after_id === 2)).toBe(true);
    await t.press('e');
    await t.see('filter: errors only  1 rows');
    expect(t.frame()).not.toContain('gpt-4o-mini');
    expect(t.frame()).toContain('claude');
    expect(client.callsOf('logs').at(-1)?.[0]).toMatchObject({ errors: true });
  });
});
