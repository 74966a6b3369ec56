import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { TopApp } from '../../src/tui/top/top-app.js';
import { PLAIN_THEME, themeFromEnv, type Theme } from '../../src/tui/theme.js';
import { FakeDaemon, FakeManagement, plain, scenario, until } from './tui-fake-daemon.js';

afterEach(() => cleanup());

const SIZE = { columns: 80, rows: 24 };
const FAST = { backoffMs: [10], staleMs: 60_000 };

/** 30 s of traffic: alice 5/s over two keys (one error every third second), bob 1/s, an operator key 2/s */
function tenants() {
  const sc = scenario();
  for (let s = 0; s < 30; s++) {
    sc.traffic(3, { keyId: 10, keyName: 'alice/laptop', userId: 1, userName: 'alice' });
    sc.traffic(2, { keyId: 11, keyName: 'alice/ci', userId: 1, userName: 'alice', cost: 500 });
    if (s % 3 === 0)
      sc.traffic(1, {
        keyId: 10,
        keyName: 'alice/laptop',
        userId: 1,
        userName: 'alice',
        status: 502,
        errorCategory: 'upstream',
        cost: null,
      });
    sc.traffic(1, { keyId: 20, keyName: 'bob/main', userId: 2, userName: 'bob', model: 'claude-sonnet' });
    sc.traffic(2, { keyId: 1, keyName: 'ops' });
    sc.tick();
  }
  sc.metrics.requestStarted('gpt-4o', 10, 1);
  return sc;
}

function mount(client: FakeDaemon, theme: Theme = PLAIN_THEME) {
  const ui = render(<TopApp client={client} theme={theme} size={SIZE} follow={FAST} />);
  const frame = () => plain(ui.lastFrame());
  const see = (text: string | RegExp) =>
    until(
      () => (typeof text === 'string' ? frame().includes(text) : text.test(frame())),
      5000,
      String(text),
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- last frame ---\n${frame()}`);
    });
  return { ui, frame, see };
}

/** A fake whose user list counts its calls. */
function counted() {
  const client = new FakeManagement();
  let calls = 0;
  const list = client.users.list;
  client.users.list = () => {
    calls++;
    return list();
  };
  return { client, calls: () => calls };
}

describe('bc top users view', () => {
  it("switches to the users view with 5 and shows each user's traffic, spend and balance", async () => {
    const { client, calls } = counted();
    client.push(tenants().snapshot());
    const t = mount(client);
    await t.see('live');
    expect(calls()).toBe(0); // not asked for while another view is shown
    t.ui.stdin.write('5');
    await t.see('BALANCE');
    await t.see('$12.5');
    const frame = t.frame();
    expect(frame).toMatch(/USER\s+RPM\s+ERR\s+IN\/m\s+OUT\/m\s+\$\/m\s+BALANCE\s+P50\s+INFL/);
    // alice: 5 a second plus 10 errors over 30 s, over two keys; $0.002 x 90 + $0.0005 x 60 a minute
    expect(frame).toMatch(/alice\s+160\s+10\s+16k\s+8k\s+\$0\.21\s+\$12\.5\s+\d+ms\s+1\s/);
    expect(frame).toMatch(/bob\s+30\s+0\s+3k\s+1\.5k\s+\$0\.06\s+unmetered\s+\d+ms\s+0\s/);
    // the operator's key belongs to no user
    expect(frame).not.toContain('ops');
    expect(frame).toContain('users');
    const lines = frame.split('\n');
    expect(lines).toHaveLength(23);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(calls()).toBe(1);
  });

  it('asks for balances every few seconds, not once per frame', async () => {
    const { client, calls } = counted();
    const sc = tenants();
    client.push(sc.snapshot());
    const t = mount(client);
    await t.see('live');
    t.ui.stdin.write('5');
    await t.see('$12.5');
    for (let i = 0; i < 10; i++) {
      sc.tick();
      client.push(sc.snapshot());
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(calls()).toBe(1);
    // a change shows at the next poll
    client.userList[0]!.balance = 3_000_000;
    await until(() => t.frame().includes('$3.00'), 8000, 'the next poll');
    expect(calls()).toBe(2);
  });

  it('reaches the users view with Tab after keys, filters it, and sorts it', async () => {
    const { client } = counted();
    client.push(tenants().snapshot());
    const t = mount(client);
    await t.see('live');
    t.ui.stdin.write('4');
    await t.see('KEY');
    t.ui.stdin.write('\t');
    await t.see('USER');
    t.ui.stdin.write('/');
    await t.see('filter:');
    t.ui.stdin.write('bo\r');
    await t.see('filter "bo"');
    expect(t.frame()).toMatch(/bob\s+30/);
    expect(t.frame()).not.toMatch(/alice\s+160/);
    t.ui.stdin.write('\x1b');
    await t.see(/alice\s+160/);
    t.ui.stdin.write('r'); // fewest requests first
    await t.see('sort rpm+');
    const rows = t
      .frame()
      .split('\n')
      .filter((l) => /alice|bob/.test(l));
    expect(rows[0]).toContain('bob');
  });

  it('shows "-" for balances when the client cannot list users, and no colour or non-ASCII without', async () => {
    const daemon = new FakeDaemon();
    daemon.push(tenants().snapshot());
    const t = mount(daemon, themeFromEnv({ NO_COLOR: '1', LANG: 'C' }));
    await t.see('live');
    t.ui.stdin.write('5');
    await t.see('BALANCE');
    expect(t.frame()).toMatch(/alice\s+160\s+10\s+16k\s+8k\s+\$0\.21\s+-\s/);
    expect(t.ui.lastFrame()).not.toContain('\x1b[');
    expect(t.frame()).not.toMatch(/[^\x20-\x7e\n]/);
  });

  it('says so when no user has sent requests in the window', async () => {
    const daemon = new FakeDaemon();
    const sc = scenario();
    sc.traffic(5);
    daemon.push(sc.snapshot());
    const t = mount(daemon);
    await t.see('live');
    t.ui.stdin.write('5');
    await t.see('no requests by users in the window');
  });
});
