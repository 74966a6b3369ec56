import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { UiApp, UI_TABS } from '../../src/tui/ui/ui-app.js';
import { PLAIN_THEME } from '../../src/tui/theme.js';
import { FakeManagement, HEALTH, keyView, plain, scenario, until } from './tui-fake-daemon.js';

afterEach(() => cleanup());

const ENTER = '\r';
const ESC = '\x1b';
const RIGHT = '\x1b[C';
const DOWN = '\x1b[B';
const USERS_TAB = UI_TABS.indexOf('users');

function mount(client: FakeManagement, initialTab = USERS_TAB, size = { columns: 100, rows: 30 }) {
  const ui = render(
    <UiApp
      client={client}
      theme={PLAIN_THEME}
      size={size}
      follow={{ backoffMs: [10] }}
      initialTab={initialTab}
    />,
  );
  const frame = () => plain(ui.lastFrame());
  const see = (text: string | RegExp, what = String(text)) =>
    until(() => (typeof text === 'string' ? frame().includes(text) : text.test(frame())), 5000, what).then(
      () => new Promise((r) => setTimeout(r, 20)),
      (err: Error) => {
        throw new Error(`${err.message}\n--- last frame ---\n${frame()}`);
      },
    );
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

/** alice sent 40 requests in the last second */
function withTraffic(): FakeManagement {
  const client = new FakeManagement();
  const sc = scenario();
  sc.traffic(40, { keyId: 5, keyName: 'alice/laptop', userId: 1, userName: 'alice' });
  sc.tick();
  client.push(sc.snapshot(HEALTH));
  return client;
}

describe('bc ui users tab', () => {
  it('is reached with 6 and lists users with group, balance, spend, keys, status and live RPM', async () => {
    const client = withTraffic();
    const t = mount(client, 0, { columns: 80, rows: 24 });
    await t.see('RPS 8');
    expect(t.frame().split('\n')[0]).toContain(' 6 users ');
    expect(
      Math.max(
        ...t
          .frame()
          .split('\n')
          .map((l) => l.length),
      ),
    ).toBeLessThanOrEqual(80);
    await t.press('6');
    await t.see('[6 users]');
    await t.see(/1\s+alice\s+default\s+\$12\.5\s+\$2\.50\s+2\s+enabled\s+40/);
    expect(t.frame()).toMatch(/2\s+bob\s+vip\s+unmetered\s+\$0\s+0\s+enabled\s+0/);
    expect(t.frame()).toContain('c create  t top up  d enable/disable  i issue codes');
    expect(t.frame()).toContain('Tab/1-6');
  });

  it('creates a metered user with a starting balance, and an unmetered one', async () => {
    const client = withTraffic();
    const t = mount(client);
    await t.see('alice');
    await t.press('c');
    await t.see('Create a user');
    await t.type('carol');
    await t.press(ENTER);
    await t.type('team-a');
    await t.press(ENTER);
    await t.press(ENTER); // metered
    await t.type('5');
    await t.press(ENTER);
    await t.see('created user carol ($5.00)');
    await t.see(/3\s+carol\s+team-a\s+\$5\.00\s+\$0\s+0\s+enabled/);

    await t.press('c');
    await t.see('Create a user');
    await t.type('dave');
    await t.press(ENTER);
    await t.press(ENTER);
    await t.press(RIGHT); // unmetered
    await t.see('< unmetered >');
    await t.press(ENTER);
    await t.type('3');
    await t.press(ENTER);
    await t.see('an unmetered user has no balance');
    await t.type('\x7f');
    await t.press(ENTER);
    await t.see('created user dave (unmetered)');
    expect(client.callsOf('users.create')).toEqual([
      [{ name: 'carol', group: 'team-a', balance: 5_000_000 }],
      [{ name: 'dave', unmetered: true }],
    ]);
  });

  it('tops up the selected user with a note, and refuses an unmetered one without calling', async () => {
    const client = withTraffic();
    const t = mount(client);
    await t.see('alice');
    await t.press('t');
    await t.see('Top up alice (balance $12.50)');
    await t.type('abc');
    await t.press(ENTER);
    await t.press(ENTER);
    await t.see('amount USD: "abc" is not an amount in USD');
    expect(client.callsOf('users.credit')).toEqual([]);
    await t.press('\x1b[A');
    await t.type('\x7f\x7f\x7f2.5');
    await t.press(ENTER);
    await t.type('invoice 42');
    await t.press(ENTER);
    await t.see('topped up alice by $2.50: balance $15.00');
    expect(client.callsOf('users.credit')).toEqual([
      [1, { kind: 'topup', amount: 2_500_000, note: 'invoice 42' }],
    ]);
    await t.see(/alice\s+default\s+\$15\.0\s/);

    await t.press(DOWN);
    await t.press('t');
    await t.see('bob is unmetered: there is no balance to top up');
    expect(t.frame()).not.toContain('Top up bob');
    expect(client.callsOf('users.credit')).toHaveLength(1);
  });

  it('disables a user after asking, and enables without asking', async () => {
    const client = withTraffic();
    const t = mount(client);
    await t.see('alice');
    await t.press('d');
    await t.see('Disable user alice? All their keys are refused');
    await t.press('n');
    await until(() => !t.frame().includes('Disable user'), 5000, 'question gone');
    expect(client.callsOf('users.disable')).toEqual([]);
    await t.press('d');
    await t.see('Disable user alice?');
    await t.press('y');
    await t.see('disabled alice');
    expect(client.callsOf('users.disable')).toEqual([[1]]);
    await t.see(/alice\s+default\s+\$12\.5\s+\$2\.50\s+2\s+disabled/);
    await t.press('d');
    await t.see('enabled alice');
    expect(client.callsOf('users.enable')).toEqual([[1]]);
  });

  it('issues codes for the selected user, shows them once, and goes back to the list', async () => {
    const client = withTraffic();
    const t = mount(client);
    await t.see('alice');
    await t.press('i');
    await t.see('Issue redemption codes');
    await t.type('10');
    await t.press(ENTER);
    await t.type('3');
    await t.press(ENTER);
    await t.press(RIGHT);
    await t.see('< alice >');
    await t.press(ENTER);
    await t.press(ENTER); // not promo
    await t.see('Save these now');
    expect(t.frame()).toContain('3 code(s) of $10.00 each; only alice may redeem them.');
    for (const c of ['BCR-TEST0001-XXXX-YYYY', 'BCR-TEST0002-XXXX-YYYY', 'BCR-TEST0003-XXXX-YYYY'])
      expect(t.frame()).toContain(c);
    expect(client.callsOf('redeem.create')).toEqual([[{ amount: 10_000_000, count: 3, user: 'alice' }]]);
    // keys of the app do nothing while the codes are shown: Enter or Esc goes back
    await t.press('q');
    expect(t.frame()).toContain('BCR-TEST0001');
    await t.press(ENTER);
    await t.see('issued 3 code(s) of $10.00');
    expect(t.frame()).not.toContain('BCR-TEST');
    await t.see(/alice\s+default/);
  });

  it('issues a promo code for anyone, and keeps a batch to what fits on the screen', async () => {
    const client = withTraffic();
    const t = mount(client, USERS_TAB, { columns: 80, rows: 24 });
    await t.see('alice');
    await t.press(DOWN); // bob is unmetered: a code bound to him could never be redeemed
    await t.press('i');
    await t.see('Issue redemption codes');
    await t.type('0.5');
    await t.press(ENTER);
    await t.type('500');
    await t.press(ENTER);
    await t.press(RIGHT);
    await t.see('< anyone >');
    await t.press(ENTER);
    await t.press(RIGHT);
    await t.press(ENTER);
    await t.see('count: at most 15 fit on this screen');
    expect(t.frame()).toContain('for more: `bc redeem create --out FILE`');
    expect(client.callsOf('redeem.create')).toEqual([]);
    await t.press('\x1b[A');
    await t.press('\x1b[A');
    await t.type('\x7f\x7f\x7f15');
    await t.press(ENTER);
    await t.press(ENTER);
    await t.press(ENTER);
    await t.see('Save these now');
    expect(client.callsOf('redeem.create')).toEqual([[{ amount: 500_000, count: 15, promo: true }]]);
    const frame = t.frame();
    expect(frame).toContain('15 code(s) of $0.50 each; anyone may redeem them.');
    // every code is on the screen, and the screen still fits
    for (let i = 1; i <= 15; i++) expect(frame).toContain(`BCR-TEST${String(i).padStart(4, '0')}`);
    expect(frame).toContain('press Enter or Esc to close');
    expect(frame.split('\n')).toHaveLength(23);
    await t.press(ESC);
    await t.see('bob');
  });

  it("shows a key's user and scope once users own keys", async () => {
    const client = withTraffic();
    client.keyList.push({ ...keyView(2, 'alice/laptop'), user: 'alice', scope: 'account' });
    const t = mount(client, UI_TABS.indexOf('keys'));
    await t.see(/alice\/laptop\s+sk-bc-abcd\s+enabled.*alice\s+account/);
    expect(t.frame()).toMatch(/USER\s+SCOPE/);
    expect(t.frame()).toMatch(/app\s+sk-bc-abcd\s+enabled.*-\s+-/);
    t.ui.unmount();
    // at 80 columns the name says whose key it is; the name keeps its room
    const narrow = mount(client, UI_TABS.indexOf('keys'), { columns: 80, rows: 24 });
    await narrow.see(/alice\/laptop\s+sk-bc-abcd\s+enabled/);
    expect(narrow.frame()).not.toContain('SCOPE');
  });
});
