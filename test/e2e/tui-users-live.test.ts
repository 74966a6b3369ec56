/**
 * Users in the TUIs end to end: the real `bc top` and `bc ui` in a real pseudo-terminal (a private
 * tmux server, 100x30) against a real background daemon, with a user's key sending requests
 * through the gateway to an OpenAI simulator. `bc top`'s users view shows the user's live traffic
 * and balance; `bc ui`'s users tab creates a user, tops them up, issues a code bound to them that
 * `bc redeem use` then credits, and disables them, each checked through `bc user ... --json`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { BC_BIN, cleanEnv, openaiChannelArgs } from '../support/cli.js';
import type { LedgerRowView, UserView } from '../../src/shared/tenant-api.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UI_ENTRY = path.join(ROOT, 'dist/tui/ui/users-screen.js');
const SERVER = `bc-e2e-users-${process.pid}`;
const COLS = 100;
const ROWS = 30;

let daemon: TestDaemon;
let sim: OpenAISim;
let secret: string;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SERVER, '-f', '/dev/null', ...args], { encoding: 'utf8' });
}

function startTui(session: string, which: 'top' | 'ui'): void {
  const env: Record<string, string> = {
    ...cleanEnv(),
    BC_HOME: daemon.home,
    LANG: 'C.UTF-8',
    TERM: 'xterm-256color',
    NO_COLOR: '1',
  };
  delete env.CI; // Ink renders nothing live under CI
  const args = ['new-session', '-d', '-x', String(COLS), '-y', String(ROWS), '-s', session];
  execFileSync('tmux', ['-L', SERVER, '-f', '/dev/null', ...args, process.execPath, BC_BIN, which], {
    env,
    encoding: 'utf8',
  });
}

const screen = (session: string): string => tmux('capture-pane', '-p', '-t', session);
const keys = (session: string, ...k: string[]): void => void tmux('send-keys', '-t', session, ...k);
const text = (session: string, t: string): void => void tmux('send-keys', '-t', session, '-l', t);

async function waitScreen(session: string, test: (s: string) => boolean, what: string, ms = 15_000) {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    last = screen(session);
    if (test(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
}

async function quit(session: string): Promise<void> {
  keys(session, 'q');
  const end = Date.now() + 5000;
  const alive = () =>
    spawnSync('tmux', ['-L', SERVER, '-f', '/dev/null', 'has-session', '-t', session]).status === 0;
  while (alive() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  expect(alive()).toBe(false);
}

async function user(name: string): Promise<UserView> {
  const r = await daemon.bc(['user', 'show', name, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as UserView;
}

/** Types into a form field then Enter, letting the form take each step. */
async function field(session: string, value: string): Promise<void> {
  if (value) text(session, value);
  await new Promise((r) => setTimeout(r, 150));
  keys(session, 'Enter');
  await new Promise((r) => setTimeout(r, 150));
}

beforeAll(async () => {
  if (!fs.existsSync(UI_ENTRY)) throw new Error(`${UI_ENTRY} is missing: run \`npm run build\` first`);
  sim = await startOpenAISim();
  daemon = await startTestDaemon();
  const ch = await daemon.bc(openaiChannelArgs('sim', 'sk-sim', 'gpt-4o-mini', '--base-url', sim.url));
  expect(ch.code, ch.stderr).toBe(0);
  const price = await daemon.bc(['price', 'set', 'gpt-4o-mini', '--input', '1000', '--output', '4000']);
  expect(price.code, price.stderr).toBe(0);
  const u = await daemon.bc(['user', 'create', '--name', 'zed', '--balance', '5']);
  expect(u.code, u.stderr).toBe(0);
  const key = await daemon.bc(['key', 'create', '--user', 'zed', '--name', 'laptop', '--json']);
  expect(key.code, key.stderr).toBe(0);
  secret = (JSON.parse(key.stdout) as { key: string }).key;
}, 90_000);

afterAll(async () => {
  spawnSync('tmux', ['-L', SERVER, '-f', '/dev/null', 'kill-server']);
  await daemon?.cleanup();
  await sim?.close();
});

describe('users in the TUIs, live', () => {
  it("bc top's users view shows a user's requests, spend and balance", async () => {
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${daemon.gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] }),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const balance = (await user('zed')).balance ?? 0;
    expect(balance).toBeLessThan(5_000_000);
    startTui('top', 'top');
    await waitScreen('top', (x) => x.includes(' live '), 'the monitor to attach');
    keys('top', '5');
    const s = await waitScreen(
      'top',
      (x) => /zed\s+12\s+0\s/.test(x) && /\$4\.\d+/.test(x),
      'the row of zed',
    );
    expect(s).toMatch(/USER\s+RPM\s+ERR\s+IN\/m\s+OUT\/m\s+\$\/m\s+BALANCE/);
    expect(s).toMatch(/zed\s+12\s+0\s+\S+\s+\S+\s+\$0\.\d+\s+\$4\.\d+/);
    await quit('top');
  }, 60_000);

  it("bc ui's users tab creates, tops up, issues a code for and disables a user", async () => {
    startTui('ui', 'ui');
    await waitScreen('ui', (x) => x.includes('[1 monitor]') && x.includes(' live'), 'the ui to connect');
    keys('ui', '6');
    await waitScreen('ui', (x) => /zed\s+default\s+\$4\./.test(x), 'the user list');

    keys('ui', 'c');
    await waitScreen('ui', (x) => x.includes('Create a user'), 'the create form');
    await field('ui', 'yara');
    await field('ui', '');
    await field('ui', ''); // metered
    await field('ui', '2');
    await waitScreen('ui', (x) => x.includes('created user yara ($2.00)'), 'the user created');
    expect(await user('yara')).toMatchObject({ balance: 2_000_000, status: 'enabled', group: 'default' });

    await waitScreen('ui', (x) => /yara\s+default\s+\$2\.00/.test(x), 'yara listed');
    keys('ui', 'Down');
    await new Promise((r) => setTimeout(r, 200));
    keys('ui', 't');
    await waitScreen('ui', (x) => x.includes('Top up yara'), 'the top-up form');
    await field('ui', '1.5');
    await field('ui', 'paid by invoice 7');
    await waitScreen('ui', (x) => x.includes('topped up yara by $1.50: balance $3.50'), 'the top-up');
    const ledger = await daemon.bc(['user', 'ledger', 'yara', '--json']);
    expect(JSON.parse(ledger.stdout) as LedgerRowView[]).toContainEqual(
      expect.objectContaining({ kind: 'topup', amount: 1_500_000, note: 'paid by invoice 7' }),
    );

    keys('ui', 'i');
    await waitScreen('ui', (x) => x.includes('Issue redemption codes'), 'the codes form');
    await field('ui', '0.75');
    await field('ui', '');
    keys('ui', 'Right');
    await waitScreen('ui', (x) => x.includes('< yara >'), 'the code bound to yara');
    await field('ui', '');
    await field('ui', '');
    const shown = await waitScreen('ui', (x) => x.includes('Save these now'), 'the codes');
    expect(shown).toContain('1 code(s) of $0.75 each; only yara may redeem them.');
    const code = /BCR-[0-9A-Z]{5}(-[0-9A-Z]{5}){3}/.exec(shown)?.[0];
    expect(code).toBeDefined();
    keys('ui', 'Enter');
    await waitScreen('ui', (x) => !x.includes(code ?? '-') && /yara\s+default/.test(x), 'the list again');
    const used = await daemon.bc(['redeem', 'use', code ?? '', '--user', 'yara']);
    expect(used.code, used.stderr).toBe(0);
    expect((await user('yara')).balance).toBe(4_250_000);

    keys('ui', 'd');
    await waitScreen('ui', (x) => x.includes('Disable user yara?'), 'the question');
    keys('ui', 'y');
    await waitScreen('ui', (x) => x.includes('disabled yara'), 'yara disabled');
    expect((await user('yara')).status).toBe('disabled');
    await quit('ui');
  }, 90_000);
});
