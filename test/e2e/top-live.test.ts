/**
 * `bc top` end to end: the compiled monitor runs in a real pseudo-terminal (a private tmux server,
 * 100x30) against a real background daemon, while requests flow through the gateway to an OpenAI
 * simulator. The test reads the screen as a user sees it: the live figures, a graph that moves,
 * the channel table, no colour under NO_COLOR, "reconnecting" across a daemon restart, and `q`
 * quitting. A second case measures the daemon's CPU with the monitor attached and no traffic.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { cleanEnv } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOP_ENTRY = path.join(ROOT, 'dist/tui/top/run.js');
const SERVER = `bc-e2e-top-${process.pid}`;
const COLS = 100;
const ROWS = 30;

let daemon: TestDaemon;
let sim: OpenAISim;
let secret: string;
let gatewayUrl: string;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SERVER, '-f', '/dev/null', ...args], { encoding: 'utf8' });
}

/** Starts the monitor in its own tmux session, as a user would in a terminal. */
function startTop(session: string, extraEnv: Record<string, string> = {}): void {
  const env = { ...cleanEnv(), LANG: 'C.UTF-8', TERM: 'xterm-256color', ...extraEnv };
  delete (env as Record<string, string | undefined>).CI; // Ink renders nothing live under CI
  // the CLI registers `bc top` by lazily importing this entry point; run the same function
  const script = `const { runTop } = await import(${JSON.stringify(TOP_ENTRY)}); process.exitCode = await runTop({ socket: ${JSON.stringify(daemon.socket)} });`;
  execFileSync(
    'tmux',
    [
      '-L',
      SERVER,
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-x',
      String(COLS),
      '-y',
      String(ROWS),
      '-s',
      session,
      process.execPath,
      '--input-type=module',
      '-e',
      script,
    ],
    { env, encoding: 'utf8' },
  );
}

function screen(session: string, escapes = false): string {
  return tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', session);
}

async function waitScreen(
  session: string,
  test: (s: string) => boolean,
  what: string,
  ms = 15_000,
): Promise<string> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    last = screen(session);
    if (test(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
}

function sessionAlive(session: string): boolean {
  return spawnSync('tmux', ['-L', SERVER, '-f', '/dev/null', 'has-session', '-t', session]).status === 0;
}

/** Sends chat requests at about `rps` a second until stopped. */
function startLoad(rps: number): { stop: () => Promise<number> } {
  let running = true;
  let sent = 0;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      await fetch(`${gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] }),
      })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      sent++;
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / rps - (Date.now() - started))));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return sent;
    },
  };
}

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name (which may contain spaces) start at ") "
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function refreshGateway(): Promise<void> {
  const st = await daemon.bc(['status', '--json']);
  gatewayUrl = `http://${(JSON.parse(st.stdout) as { listen: string }).listen}`;
}

beforeAll(async () => {
  if (!fs.existsSync(TOP_ENTRY))
    throw new Error(`${TOP_ENTRY} is missing: run \`npx tsc -p tsconfig.build.json\` first`);
  sim = await startOpenAISim();
  sim.setDelay(40);
  daemon = await startTestDaemon();
  gatewayUrl = daemon.gatewayUrl;
  const ch = await daemon.bc([
    'channel',
    'add',
    '--name',
    'sim',
    '--type',
    'openai',
    '--key',
    'sk-sim',
    '--models',
    'gpt-4o-mini',
    '--base-url',
    sim.url,
  ]);
  expect(ch.code, ch.stderr).toBe(0);
  const key = await daemon.bc(['key', 'create', '--name', 'load', '--json']);
  expect(key.code, key.stderr).toBe(0);
  secret = (JSON.parse(key.stdout) as { key: string }).key;
}, 90_000);

afterAll(async () => {
  spawnSync('tmux', ['-L', SERVER, '-f', '/dev/null', 'kill-server']);
  await daemon?.cleanup();
  await sim?.close();
});

describe('bc top in a terminal', () => {
  it('shows live numbers and a moving graph under load, survives a daemon restart, and quits on q', async () => {
    const load = startLoad(15);
    startTop('live', { NO_COLOR: '1' });
    let s = await waitScreen(
      'live',
      (x) => /RPS (\d+(\.\d)?)/.test(x) && Number(/RPS (\d+(\.\d)?)/.exec(x)?.[1]) >= 5,
      'RPS under load',
    );
    expect(s).toContain('live');
    // the frame fills the pane less one line, redrawn in place: title on top, help at the bottom
    const lines = s.split('\n');
    expect(lines[0]).toMatch(/^bc top live/);
    expect(lines[ROWS - 2]).toMatch(/^q quit/);
    expect(lines.filter((l) => l.startsWith('bc top'))).toHaveLength(1);
    expect(s).toMatch(/sim\s+ok\s+-\s+\d+/);
    expect(Number(/sim\s+ok\s+-\s+(\d+)/.exec(s)?.[1])).toBeGreaterThan(10); // RPM
    expect(s).toMatch(/tok\/s in [1-9]/);
    expect(s).toMatch(/p50 \d+ms/);
    // no colour codes at all under NO_COLOR
    // eslint-disable-next-line no-control-regex
    expect(screen('live', true)).not.toMatch(/\x1b\[[0-9;]*3[0-7]m|\x1b\[38;/);

    const graph = (x: string) =>
      x
        .split('\n')
        .filter((l) => /[\u2801-\u28ff]/.test(l))
        .join('\n');
    const before = graph(s);
    expect(before.length).toBeGreaterThan(0);
    s = await waitScreen(
      'live',
      (x) => graph(x) !== before && graph(x).length > 0,
      'the graph to move',
      10_000,
    );

    await daemon.stop();
    await waitScreen('live', (x) => x.includes('reconnecting'), 'reconnecting while the daemon is away');
    const restarted = await daemon.bc(['start'], { timeoutMs: 60_000 });
    expect(restarted.code, restarted.stderr).toBe(0);
    await refreshGateway();
    s = await waitScreen(
      'live',
      (x) => x.includes(' live ') && /sim\s+ok/.test(x),
      'live again after the restart',
    );
    expect(s).not.toContain('reconnecting');
    expect(await load.stop()).toBeGreaterThan(20);

    tmux('send-keys', '-t', 'live', 'q');
    const end = Date.now() + 5000;
    while (sessionAlive('live') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(sessionAlive('live')).toBe(false);
  }, 120_000);

  it('keeps the daemon under 2% of a core with the monitor attached and no traffic', async () => {
    startTop('idle');
    await waitScreen('idle', (x) => x.includes(' live '), 'the monitor to attach');
    const st = await daemon.bc(['status', '--json']);
    const pid = (JSON.parse(st.stdout) as { pid: number }).pid;
    // let the daemon's JIT settle on the snapshot path before measuring
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = cpuTicks(pid);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 10_000));
    const seconds = (cpuTicks(pid) - t0) / 100; // CLK_TCK is 100 on Linux
    const share = seconds / ((Date.now() - started) / 1000);
    expect(screen('idle')).toContain(' live ');
    expect(share, `daemon CPU share ${share.toFixed(4)}`).toBeLessThan(0.02);
  }, 60_000);
});
