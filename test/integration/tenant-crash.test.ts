/**
 * Crash safety of balances (SPEC section 11): SIGKILL the real daemon during a burst of top-ups,
 * adjustments, code redemptions and settled requests by several users, start it again, and check
 * for every user that the ledger invariant holds (sum of ledger rows - spent = balance), that spend
 * equals the sum of the user's log rows, that every credit and redemption the control socket
 * confirmed is in the ledger once, and that codes used equal redemption rows.
 * Also `bc user` end to end through the real binary: JSON field names (SPEC section 12) and exit
 * codes (SPEC section 4).
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiChannelArgs } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { createDaemonClient } from '../../src/shared/daemon-client.js';
import type { KeyCreated, LogRow } from '../../src/shared/control-api.js';
import type { LedgerRowView, RedeemCodeView, UserView } from '../../src/shared/tenant-api.js';

let daemon: TestDaemon;
let sim: OpenAISim;

beforeAll(async () => {
  sim = await startOpenAISim();
  daemon = await startTestDaemon();
  const add = await daemon.bc(openaiChannelArgs('sim', 'sk-up-0000000000', 'm', '--base-url', sim.url));
  expect(add.code, add.stderr).toBe(0);
  expect((await daemon.bc(['price', 'set', 'm', '--input', '3', '--output', '7'])).code).toBe(0);
});

afterAll(async () => {
  await daemon?.cleanup();
  await sim?.close();
});

const json = <T>(r: { code: number; stdout: string; stderr: string }): T => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

/** One streamed or plain request; resolves once it is over, whatever happened. */
function fire(url: string, key: string, stream: boolean): Promise<void> {
  const body = JSON.stringify({
    model: 'm',
    messages: [{ role: 'user', content: 'load' }],
    stream,
    metadata: { 'x-sim-deltas': '6', 'x-sim-pace-ms': stream ? '5' : '0' },
  });
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve());
      res.on('error', () => resolve());
    });
    req.on('error', () => resolve());
    req.end(body);
  });
}

describe('bc user', () => {
  it('creates, tops up, adjusts and lists with the SPEC names, and exits 1 on a refusal, 2 on bad flags', async () => {
    const u = json<UserView>(
      await daemon.bc(['user', 'create', '--name', 'kim', '--balance', '2.5', '--json']),
    );
    expect(u).toMatchObject({
      name: 'kim',
      group: 'default',
      balance: 2_500_000,
      spent: 0,
      status: 'enabled',
    });
    for (const field of [
      'id',
      'credited',
      'rpm',
      'tpm',
      'concurrency',
      'max_keys',
      'keys',
      'invited_by',
      'referral_code',
      'created_at',
    ])
      expect(u).toHaveProperty(field);
    json(await daemon.bc(['user', 'topup', 'kim', '--usd', '1', '--note', 'invoice 7', '--json']));
    const refused = await daemon.bc(['user', 'adjust', 'kim', '--usd', '-10', '--note', 'oops']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/below zero.*--allow-negative/);
    expect((await daemon.bc(['user', 'topup', 'kim', '--usd', 'lots'])).code).toBe(2);
    expect((await daemon.bc(['user', 'create', '--name', 'x', '--balance', '1', '--unmetered'])).code).toBe(
      2,
    );
    const ledger = json<LedgerRowView[]>(await daemon.bc(['user', 'ledger', 'kim', '--json']));
    expect(ledger.map((r) => [r.kind, r.amount, r.balance_after])).toEqual([
      ['topup', 1_000_000, 3_500_000],
      ['topup', 2_500_000, 2_500_000],
    ]);
    expect(Object.keys(ledger[0]!)).toEqual([
      'id',
      'time',
      'user',
      'kind',
      'amount',
      'balance_after',
      'ref',
      'actor',
      'note',
    ]);
    const key = json<KeyCreated>(
      await daemon.bc(['key', 'create', '--name', 'cli', '--user', 'kim', '--scope', 'account', '--json']),
    );
    expect(key).toMatchObject({ name: 'kim/cli', user: 'kim', scope: 'account', created_by: 'admin' });
    const human = await daemon.bc(['user', 'list']);
    expect(human.stdout.split('\n')[0]).toMatch(
      /^ID\s+NAME\s+GROUP\s+BALANCE\s+SPENT\s+KEYS\s+STATUS\s+CREATED$/,
    );
    expect(human.stdout).toMatch(/kim\s+default\s+\$3\.50\s+\$0\.00\s+1\s+enabled/);
  });
});

describe('SIGKILL during top-ups and settlements', () => {
  it('keeps sum(ledger) - spent = balance for every user, each confirmed top-up once', async () => {
    const users = ['u1', 'u2', 'u3'];
    const keys: string[] = [];
    for (const name of users) {
      json(await daemon.bc(['user', 'create', '--name', name, '--balance', '50', '--json']));
      keys.push(
        json<KeyCreated>(await daemon.bc(['key', 'create', '--name', 'k', '--user', name, '--json'])).key,
      );
    }
    const client = createDaemonClient({ socket: daemon.socket, timeoutMs: 5000 });
    // codes to redeem during the burst: more than can be used before the kill
    const { codes } = await client.redeem.create({ amount: 777, count: 600 });
    const redeemed: { user: string; code: string }[] = [];
    const confirmed: { user: string; note: string }[] = [];
    let stop = false;
    const requests = Array.from({ length: 9 }, async (_, w) => {
      for (let i = 0; !stop; i++) await fire(daemon.gatewayUrl, keys[w % keys.length]!, (w + i) % 2 === 0);
    });
    const credits = users.map(async (name) => {
      for (let i = 0; !stop; i++) {
        const note = `burst-${name}-${i}`;
        try {
          await client.users.credit(name, { kind: i % 3 === 2 ? 'adjust' : 'topup', amount: 1000 + i, note });
          confirmed.push({ user: name, note });
        } catch {
          return;
        }
      }
    });
    const redemptions = users.map(async (name, u) => {
      for (let i = u; !stop && i < codes.length; i += users.length) {
        try {
          await client.redeem.use(codes[i]!.code, name);
          redeemed.push({ user: name, code: codes[i]!.code });
        } catch {
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    daemon.kill('SIGKILL');
    stop = true;
    await Promise.all([...requests, ...credits, ...redemptions]);
    expect(confirmed.length).toBeGreaterThan(10);
    expect(redeemed.length).toBeGreaterThan(10);

    const restarted = await daemon.bc(['start'], { timeoutMs: 60_000 });
    expect(restarted.code, restarted.stderr).toBe(0);
    const logs = json<LogRow[]>(await daemon.bc(['logs', '--json', '--limit', '10000']));
    for (const name of users) {
      const u = json<UserView>(await daemon.bc(['user', 'show', name, '--json']));
      const ledger = json<LedgerRowView[]>(
        await daemon.bc(['user', 'ledger', name, '--json', '--limit', '10000']),
      );
      const sum = ledger.reduce((n, r) => n + r.amount, 0);
      expect(u.balance).toBe(sum - u.spent);
      const rows = logs.filter((l) => l.key === `${name}/k`);
      expect(rows.length).toBeGreaterThan(0);
      expect(u.spent).toBe(rows.reduce((n, l) => n + (l.cost ?? 0), 0));
      // every confirmed credit is in the ledger exactly once
      const notes = ledger.map((r) => r.note);
      for (const c of confirmed.filter((x) => x.user === name))
        expect(notes.filter((n) => n === c.note)).toHaveLength(1);
      // every confirmed redemption too, and no code is credited without its use being counted
      const mine = redeemed.filter((r) => r.user === name).length;
      const redeemRows = ledger.filter((r) => r.kind === 'redeem');
      expect(redeemRows.length).toBeGreaterThanOrEqual(mine);
      expect(new Set(redeemRows.map((r) => r.ref)).size).toBe(redeemRows.length);
    }
    const used = json<RedeemCodeView[]>(await daemon.bc(['redeem', 'list', '--status', 'used', '--json']));
    const redeemTotal = (
      await Promise.all(
        users.map(async (name) =>
          json<LedgerRowView[]>(await daemon.bc(['user', 'ledger', name, '--json', '--limit', '10000'])),
        ),
      )
    )
      .flat()
      .filter((r) => r.kind === 'redeem').length;
    // a code's use and its credit commit together: as many used codes as redeem rows
    expect(used.filter((c) => c.amount === 777).length).toBe(redeemTotal);
  }, 120_000);
});
