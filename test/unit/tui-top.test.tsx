import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { TopApp } from '../../src/tui/top/top-app.js';
import { PLAIN_THEME, themeFromEnv } from '../../src/tui/theme.js';
import { FakeDaemon, HEALTH, plain, scenario, until } from './tui-fake-daemon.js';

afterEach(() => cleanup());

const SIZE = { columns: 80, rows: 24 };
const FAST = { backoffMs: [10], staleMs: 60_000 };

function busy() {
  const sc = scenario();
  for (let s = 0; s < 30; s++) {
    sc.traffic(10);
    sc.traffic(2, {
      model: 'claude-sonnet',
      channelId: 2,
      channelName: 'claude-backup',
      keyId: 2,
      keyName: 'batch',
    });
    if (s % 3 === 0) sc.traffic(1, { status: 502, errorCategory: 'upstream', cost: null });
    sc.tick();
  }
  sc.metrics.requestStarted('gpt-4o', 1);
  sc.metrics.requestStarted('gpt-4o', 1);
  return sc;
}

function mount(daemon: FakeDaemon, size = SIZE, theme = PLAIN_THEME) {
  return render(<TopApp client={daemon} theme={theme} size={size} follow={FAST} />);
}

describe('bc top screen', () => {
  it('shows the live header, graphs and the channel table from the stream', async () => {
    const daemon = new FakeDaemon();
    const sc = busy();
    daemon.push(sc.snapshot());
    const ui = mount(daemon);
    await until(() => plain(ui.lastFrame()).includes('live'), 5000, 'live');
    const frame = plain(ui.lastFrame());
    // 12 a second, plus an error every third second: 61 requests in the last 5 s, 10 errors in 370
    expect(frame).toContain('RPS 12.2');
    expect(frame).toContain('in-flight 2');
    expect(frame).toContain('err 2.7%');
    expect(frame).toContain('$/min $0.72');
    expect(frame).toMatch(/p50 (29\d|3[0-4]\d)ms/);
    expect(frame).toMatch(/req\/s 5m\s+12\s/);
    expect(frame).toMatch(/[\u2801-\u28ff]/); // braille dots of the graphs
    expect(frame).toMatch(/openai-main\s+ok\s+-\s+310\s+10\s/);
    expect(frame).toMatch(/claude-backup\s+ok\s+-\s+60\s+0\s/);
    expect(frame).toMatch(/old-azure\s+auto-off/);
    expect(frame).toContain('q quit');
  });

  it('fits 80x24 exactly and grows with a larger terminal', async () => {
    const daemon = new FakeDaemon();
    daemon.push(busy().snapshot());
    const small = mount(daemon);
    await until(() => plain(small.lastFrame()).includes('live'));
    const lines = plain(small.lastFrame()).split('\n');
    expect(lines.length).toBe(23);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    small.unmount();

    const big = mount(daemon, { columns: 160, rows: 50 });
    await until(() => plain(big.lastFrame()).includes('live'));
    const bigLines = plain(big.lastFrame()).split('\n');
    expect(bigLines.length).toBe(49);
    expect(bigLines.filter((l) => /[\u2801-\u28ff]/.test(l)).length).toBeGreaterThan(
      lines.filter((l) => /[\u2801-\u28ff]/.test(l)).length,
    );
  });

  it('switches views, window and sort with keys', async () => {
    const daemon = new FakeDaemon();
    daemon.push(busy().snapshot());
    const ui = mount(daemon);
    await until(() => plain(ui.lastFrame()).includes('live'));
    ui.stdin.write('3');
    await until(() => plain(ui.lastFrame()).includes('MODEL'));
    expect(plain(ui.lastFrame())).toMatch(/gpt-4o\s+310\s+10\s+31k\s+16k\s+\$0\.60\s/);
    expect(plain(ui.lastFrame())).not.toContain('req/s');
    ui.stdin.write('4');
    await until(() => plain(ui.lastFrame()).includes('KEY'));
    expect(plain(ui.lastFrame())).toMatch(/batch\s+60\s+0\s/);
    ui.stdin.write('1');
    await until(() => plain(ui.lastFrame()).includes('req/s 5m'));
    ui.stdin.write('w');
    await until(() => plain(ui.lastFrame()).includes('req/s 15m'));
    expect(plain(ui.lastFrame())).toContain('window 15m');
    ui.stdin.write('w');
    await until(() => plain(ui.lastFrame()).includes('window 1m'));
    ui.stdin.write('s');
    await until(() => plain(ui.lastFrame()).includes('sort errors-'));
    ui.stdin.write('2');
    await until(() => plain(ui.lastFrame()).includes('channels'));
    const rows = plain(ui.lastFrame())
      .split('\n')
      .filter((l) => /openai-main|claude-backup|old-azure/.test(l));
    // by errors, most first: only openai-main has any
    expect(rows[0]).toContain('openai-main');
  });

  it('filters rows by name as typed', async () => {
    const daemon = new FakeDaemon();
    daemon.push(busy().snapshot());
    const ui = mount(daemon);
    await until(() => plain(ui.lastFrame()).includes('live'));
    ui.stdin.write('/');
    await until(() => plain(ui.lastFrame()).includes('filter:'));
    ui.stdin.write('clau');
    await until(() => plain(ui.lastFrame()).includes('filter: clau'));
    ui.stdin.write('\r');
    await until(() => plain(ui.lastFrame()).includes('filter "clau"'));
    const frame = plain(ui.lastFrame());
    expect(frame).toContain('claude-backup');
    expect(frame).not.toContain('openai-main');
    ui.stdin.write('\x1b');
    await until(() => plain(ui.lastFrame()).includes('openai-main'));
  });

  it('pauses the display while the stream goes on, and resumes', async () => {
    const daemon = new FakeDaemon();
    const sc = busy();
    daemon.push(sc.snapshot());
    const ui = mount(daemon);
    await until(() => plain(ui.lastFrame()).includes('in-flight 2'));
    ui.stdin.write('p');
    await until(() => plain(ui.lastFrame()).includes('PAUSED'));
    sc.metrics.requestStarted('gpt-4o', 1);
    daemon.push(sc.snapshot());
    await new Promise((r) => setTimeout(r, 100));
    expect(plain(ui.lastFrame())).toContain('in-flight 2');
    ui.stdin.write('p');
    await until(() => plain(ui.lastFrame()).includes('in-flight 3'));
    expect(plain(ui.lastFrame())).not.toContain('PAUSED');
  });

  it('shows help, and quits on q and on Ctrl-C, closing the stream', async () => {
    for (const quitKey of ['q', '\x03']) {
      const daemon = new FakeDaemon();
      daemon.push(scenario().snapshot());
      const ui = mount(daemon);
      await until(() => plain(ui.lastFrame()).includes('live'));
      ui.stdin.write('?');
      await until(() => plain(ui.lastFrame()).includes('graph window: 1, 5 or 15 minutes'));
      ui.stdin.write('?');
      await until(() => !plain(ui.lastFrame()).includes('graph window'));
      expect(daemon.aborted).toBe(0);
      ui.stdin.write(quitKey);
      await until(() => daemon.aborted === 1, 5000, `stream aborted after ${JSON.stringify(quitKey)}`);
    }
  });

  it('says it is reconnecting while the daemon is away and picks it up again', async () => {
    const daemon = new FakeDaemon();
    const sc = busy();
    daemon.push(sc.snapshot());
    const ui = mount(daemon);
    await until(() => plain(ui.lastFrame()).includes('live'));
    daemon.crash();
    await until(() => plain(ui.lastFrame()).includes('reconnecting…'));
    const openedWhileDown = daemon.opened;
    await until(() => daemon.opened > openedWhileDown + 1, 5000, 'retries');
    sc.metrics.requestStarted('gpt-4o', 1);
    daemon.up();
    daemon.push(sc.snapshot());
    await until(() => plain(ui.lastFrame()).includes('live'), 5000, 'live again');
    expect(plain(ui.lastFrame())).toContain('in-flight 3');
  });

  it('waits for the daemon before the first snapshot', async () => {
    const daemon = new FakeDaemon();
    const ui = mount(daemon);
    await until(() => plain(ui.lastFrame()).includes('waiting for the daemon'));
    expect(plain(ui.lastFrame())).toContain('connecting…');
    daemon.push(scenario().snapshot(HEALTH));
    await until(() => plain(ui.lastFrame()).includes('openai-main'));
  });

  it('draws ASCII graphs when the locale is not UTF-8', async () => {
    const daemon = new FakeDaemon();
    daemon.push(busy().snapshot());
    const ui = mount(daemon, SIZE, themeFromEnv({ NO_COLOR: '1', LANG: 'C' }));
    await until(() => plain(ui.lastFrame()).includes('live'));
    const frame = plain(ui.lastFrame());
    expect(frame).not.toMatch(/[^\x20-\x7e\n]/);
    expect(frame).toContain('*');
  });
});
