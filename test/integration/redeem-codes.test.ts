/**
 * Redemption codes (SPEC section 11, TENANTS.md 5.4) against a real daemon (`bc start`), through
 * its control socket and the real `bc` binary: a code is credited at most `uses` times and at most
 * once per user however many redeem it at the same moment; a retry by the same user answers the
 * first result; every failure is REDEEM_INVALID, with the exact reason for the admin and one
 * answer for a tenant; the credit reaches the gateway's in-memory balance at once; codes are shown
 * once (stdout, --json or a 0600 CSV that never overwrites a file).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startTestServices, stopTestServices, type TestServices } from '../support/control.js';
import type { KeyCreated } from '../../src/shared/control-api.js';
import type {
  LedgerRowView,
  RedeemAnswer,
  RedeemCodesCreated,
  RedeemCodeView,
  UserView,
} from '../../src/shared/tenant-api.js';
import { BcError } from '../../src/shared/errors.js';
import { redeemForUser } from '../../src/daemon/tenants/redeem.js';

const USD = 1_000_000;
const MODEL = 'm-redeem';

let d: TestDaemon;
let sim: OpenAISim;

interface Answer<T> {
  status: number;
  body: T & { error?: { code: string; message: string } };
}

/** One request on the daemon's control socket, as any client would send it. */
function ctl<T = unknown>(method: string, url: string, body?: unknown): Promise<Answer<T>> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: d.socket,
        method,
        path: url,
        agent: false,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer<T>['body'] }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function ok<T>(method: string, url: string, body?: unknown): Promise<T> {
  const a = await ctl<T>(method, url, body);
  expect(a.status, JSON.stringify(a.body)).toBeLessThan(300);
  return a.body;
}

async function createCodes(input: Record<string, unknown>): Promise<RedeemCodesCreated> {
  const a = await ctl<RedeemCodesCreated>('POST', '/v1/redeem-codes', input);
  expect(a.status, JSON.stringify(a.body)).toBe(201);
  return a.body;
}

const redeem = (code: string, user: string) => ctl<RedeemAnswer>('POST', '/v1/redeem', { code, user });
const getUser = (name: string) => ok<UserView>('GET', `/v1/users/${name}`);
const ledger = (name: string) => ok<LedgerRowView[]>('GET', `/v1/users/${name}/ledger?limit=1000`);

let users: string[] = [];

beforeAll(async () => {
  sim = await startOpenAISim();
  d = await startTestDaemon();
  // 50 metered users through the control socket, each starting with $1
  users = Array.from({ length: 50 }, (_, i) => `user${String(i).padStart(2, '0')}`);
  for (const name of users) await ok('POST', '/v1/users', { name, balance: USD });
}, 120_000);

afterAll(async () => {
  await d?.cleanup();
  await sim?.close();
});

describe('exactly once, under 50 concurrent redemptions', () => {
  it('one single-use code redeemed by 50 users at once: one success, one redemption, one ledger row', async () => {
    const { codes } = await createCodes({ amount: 7 * USD, batch: 'race-1' });
    const code = codes[0]!;
    const answers = await Promise.all(users.map((u) => redeem(code.code, u)));
    const won = answers.filter((a) => a.status === 200);
    const lost = answers.filter((a) => a.status !== 200);
    expect(won).toHaveLength(1);
    expect(won[0]!.body).toEqual({ amount: 7 * USD, balance: 8 * USD, replayed: false });
    for (const a of lost) {
      expect(a.status).toBe(400);
      expect(a.body.error?.code).toBe('invalid_redeem_code');
      expect(a.body.error?.message).toMatch(/was already redeemed by user\d\d at /);
    }
    const winner = users[answers.findIndex((a) => a.status === 200)]!;
    const shown = await ok<RedeemCodeView & { redemptions: { user: string; amount: number }[] }>(
      'GET',
      `/v1/redeem-codes/${code.id}`,
    );
    expect(shown).toMatchObject({ uses: 1, max_uses: 1, status: 'used' });
    expect(shown.redemptions).toEqual([expect.objectContaining({ user: winner, amount: 7 * USD })]);
    const rows = (await Promise.all(users.map(ledger))).flat().filter((r) => r.kind === 'redeem');
    expect(rows).toEqual([
      expect.objectContaining({ user: winner, amount: 7 * USD, ref: `code:${code.id}` }),
    ]);
    for (const u of users) expect((await getUser(u)).balance).toBe(u === winner ? 8 * USD : USD);
  });

  it('a code of --uses 10 redeemed by 50 users at once: exactly 10', async () => {
    const { codes } = await createCodes({ amount: USD, uses: 10, batch: 'race-10' });
    const before = await Promise.all(users.map(getUser));
    const answers = await Promise.all(users.map((u) => redeem(codes[0]!.code, u)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.body.error?.code).toBe('invalid_redeem_code');
      expect(a.body.error?.message).toMatch(/is used up: all 10 uses are taken/);
    }
    const after = await Promise.all(users.map(getUser));
    const gained = after.map((u, i) => u.balance! - before[i]!.balance!);
    expect(gained.filter((g) => g === USD)).toHaveLength(10);
    expect(gained.filter((g) => g === 0)).toHaveLength(40);
    const shown = await ok<{ uses: number; redemptions: unknown[] }>(
      'GET',
      `/v1/redeem-codes/${codes[0]!.id}`,
    );
    expect(shown.uses).toBe(10);
    expect(shown.redemptions).toHaveLength(10);
  });

  it('the same user retrying (also 10 times at once) gets the first result, replayed, and no second credit', async () => {
    const { codes } = await createCodes({ amount: 2 * USD, uses: 5 });
    const first = await redeem(codes[0]!.code, 'user03');
    expect(first.status).toBe(200);
    expect(first.body.replayed).toBe(false);
    const again = await Promise.all(Array.from({ length: 10 }, () => redeem(codes[0]!.code, 'user03')));
    for (const a of again) {
      expect(a.status).toBe(200);
      expect(a.body).toEqual({ ...first.body, replayed: true });
    }
    const rows = (await ledger('user03')).filter((r) => r.ref === `code:${codes[0]!.id}`);
    expect(rows).toHaveLength(1);
    expect((await ok<{ uses: number }>('GET', `/v1/redeem-codes/${codes[0]!.id}`)).uses).toBe(1);
  });
});

describe('what cannot be redeemed, and why', () => {
  it('unknown, used, expired, revoked and someone else’s code: REDEEM_INVALID, each with its reason', async () => {
    const [used, revoked, bound] = (await createCodes({ amount: USD, count: 3 })).codes;
    expect((await redeem(used!.code, 'user10')).status).toBe(200);
    await ok('POST', `/v1/redeem-codes/${revoked!.id}/revoke`);
    const own = (await createCodes({ amount: USD, user: 'user11' })).codes[0]!;
    const soon = (await createCodes({ amount: USD, expires_at: new Date(Date.now() + 1500).toISOString() }))
      .codes[0]!;
    await new Promise((r) => setTimeout(r, 1600));
    const cases: [string, RegExp][] = [
      ['BCR-00000-00000-00000-00000', /^no redemption code BCR-00000\.\.\. exists/],
      [used!.code, /was already redeemed by user10 at /],
      [soon.code, /expired at /],
      [revoked!.code, /was revoked$/],
      [own.code, /can be redeemed only by user11$/],
    ];
    const before = await getUser('user12');
    for (const [code, reason] of cases) {
      const a = await redeem(code, 'user12');
      expect(a.status).toBe(400);
      expect(a.body.error?.code).toBe('invalid_redeem_code');
      expect(a.body.error?.message).toMatch(reason);
    }
    expect(await getUser('user12')).toEqual(before);
    // bound and unused codes still work for their users
    expect((await redeem(own.code, 'user11')).status).toBe(200);
    expect((await redeem(bound!.code, 'user12')).status).toBe(200);
  });

  it('a promo code redeems like any other', async () => {
    const code = (await createCodes({ amount: 3 * USD, promo: true })).codes[0]!;
    expect(code.promo).toBe(true);
    const before = await getUser('user20');
    const a = await redeem(code.code, 'user20');
    expect(a.status).toBe(200);
    expect(a.body.balance).toBe(before.balance! + 3 * USD);
  });

  it('an unmetered user gets 409 user_unmetered; a disabled user 403 user_disabled; neither takes a use', async () => {
    await ok('POST', '/v1/users', { name: 'free', unmetered: true });
    const code = (await createCodes({ amount: USD })).codes[0]!;
    const unmetered = await redeem(code.code, 'free');
    expect(unmetered.status).toBe(409);
    expect(unmetered.body.error?.code).toBe('user_unmetered');
    await ok('POST', '/v1/users/user30/disable');
    const disabled = await redeem(code.code, 'user30');
    expect(disabled.status).toBe(403);
    expect(disabled.body.error?.code).toBe('user_disabled');
    expect((await ok<RedeemCodeView>('GET', `/v1/redeem-codes/${code.id}`)).uses).toBe(0);
    expect((await redeem(code.code, 'user31')).status).toBe(200);
  });
});

describe('the credit reaches the gateway at once', () => {
  it('a user with nothing left is refused, redeems a code, and the next request is served', async () => {
    const setup = ['channel', 'add', '--name', 'sim', '--type', 'openai', '--key', 'sk-up-000000000000'];
    expect((await d.bc([...setup, '--models', MODEL, '--base-url', sim.url])).code).toBe(0);
    expect((await d.bc(['price', 'set', MODEL, '--input', '0', '--output', '100'])).code).toBe(0);
    await ok('POST', '/v1/users', { name: 'broke', balance: 0 });
    const key = await ok<KeyCreated>('POST', '/v1/keys', { name: 'app', user: 'broke' });
    const chat = () =>
      fetch(`${d.gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
      });
    const refused = await chat();
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('insufficient_quota');
    const code = (await createCodes({ amount: USD })).codes[0]!;
    expect((await redeem(code.code, 'broke')).status).toBe(200);
    const served = await chat();
    expect(served.status, await served.clone().text()).toBe(200);
  });
});

describe('a tenant gets one answer for every reason (redeemForUser)', () => {
  let t: TestServices;
  beforeAll(async () => {
    t = await startTestServices();
  });
  afterAll(async () => {
    await stopTestServices(t, []);
  });

  it('unknown, used, expired, revoked and bound to another: the same code and message; a retry replays', async () => {
    const store = t.services.store;
    const mk = async (name: string) => (await store.createUser({ name, balance: 0 })).user.id;
    const [ann, bob, cat] = [await mk('ann'), await mk('bob'), await mk('cat')];
    const make = async (over: { expiresAt?: string | null; userId?: number | null } = {}) =>
      (
        await store.createRedeemCodes({
          amount: USD,
          count: 1,
          batch: null,
          maxUses: 1,
          promo: false,
          expiresAt: null,
          userId: null,
          ...over,
        })
      )[0]!;
    const used = await make();
    const revoked = await make();
    const bobs = await make({ userId: bob });
    const soon = await make({ expiresAt: new Date(Date.now() + 300).toISOString() });
    await store.revokeRedeemCode(revoked.record.id);
    const use = (code: string, userId: number) =>
      redeemForUser(t.services, { code, userId, ip: '198.51.100.9', actor: 'key:1' });
    const first = await use(used.code, ann);
    expect(first).toEqual({ amount: USD, balance: USD, replayed: false });
    expect(await use(used.code, ann)).toEqual({ ...first, replayed: true });
    await new Promise((r) => setTimeout(r, 350));
    const messages = new Set<string>();
    for (const code of ['BCR-11111-11111-11111-11111', used.code, revoked.code, bobs.code, soon.code]) {
      const e = await use(code, cat).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(BcError);
      expect((e as BcError).code).toBe('REDEEM_INVALID');
      expect((e as BcError).wireCode).toBe('invalid_redeem_code');
      expect(Object.keys(e as object)).not.toContain('reason');
      messages.add((e as BcError).message);
    }
    expect([...messages]).toEqual(['this code cannot be redeemed']);
    expect((await store.redemptions(used.record.id))[0]?.ip).toBe('198.51.100.9');
    expect((await store.getUser(cat))?.balance).toBe(0);
  });
});

describe('bc redeem', () => {
  it('create --count 3 --usd 1.5 --json: codes shown once that `bc redeem use` redeems', async () => {
    const r = await d.bc(['redeem', 'create', '--count', '3', '--usd', '1.5', '--name', 'cli', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as RedeemCodesCreated;
    expect(doc.batch).toBe('cli');
    expect(doc.amount).toBe(1_500_000);
    expect(doc.codes).toHaveLength(3);
    expect(Object.keys(doc.codes[0]!).slice(0, 3)).toEqual(['id', 'code', 'prefix']);
    const [a, b, c] = doc.codes;
    const used = await d.bc(['redeem', 'use', a!.code, '--user', 'user40', '--json']);
    expect(used.code, used.stderr).toBe(0);
    expect(JSON.parse(used.stdout)).toEqual({ amount: 1_500_000, balance: 2_500_000, replayed: false });
    // the code from stdin, in lower case and without dashes
    const piped = await d.bc(['redeem', 'use', '-', '--user', 'user41'], {
      stdin: `${b!.code.toLowerCase().replace(/-/g, '')}\n`,
    });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toMatch(/^redeemed \$1\.50 for user41: balance \$2\.50/);
    // the admin sees why a code cannot be redeemed; exit 1
    const again = await d.bc(['redeem', 'use', a!.code, '--user', 'user42']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/was already redeemed by user40 at /);
    // list, show, revoke
    const list = await d.bc(['redeem', 'list', '--batch', 'cli', '--json']);
    const rows = JSON.parse(list.stdout) as RedeemCodeView[];
    expect(rows.map((x) => x.status)).toEqual(['used', 'used', 'active']);
    expect(Object.keys(rows[0]!)).toEqual([
      'id',
      'prefix',
      'batch',
      'amount',
      'max_uses',
      'uses',
      'user',
      'promo',
      'status',
      'expires_at',
      'created_at',
    ]);
    expect(list.stdout).not.toContain(c!.code);
    const human = await d.bc(['redeem', 'list', '--batch', 'cli', '--status', 'active']);
    expect(human.stdout.split('\n')[0]).toMatch(
      /^ID +PREFIX +BATCH +AMOUNT +USES +USER +PROMO +STATUS +EXPIRES +CREATED$/,
    );
    expect(human.stdout).toContain(c!.prefix);
    const show = await d.bc(['redeem', 'show', a!.prefix]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/user40/);
    const revoke = await d.bc(['redeem', 'revoke', '--batch', 'cli']);
    expect(revoke.stdout.trim()).toBe('revoked 1 code of batch cli');
    expect((await d.bc(['redeem', 'use', c!.code, '--user', 'user43'])).stderr).toMatch(/was revoked/);
  });

  it('human create prints the codes and the warning', async () => {
    const r = await d.bc([
      'redeem',
      'create',
      '--usd',
      '2',
      '--count',
      '2',
      '--expires',
      '30d',
      '--uses',
      '3',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^created 2 codes of \$2\.00 \(3 uses each, once per user, expires /);
    expect(r.stdout.match(/BCR-[0-9A-Z]{5}(-[0-9A-Z]{5}){3}/g)).toHaveLength(2);
    expect(r.stdout.trim().split('\n').at(-1)).toBe(
      'Save these now: they are stored hashed and cannot be shown again.',
    );
  });

  it('--out writes a 0600 CSV, prints no code, and never overwrites a file', async () => {
    const file = path.join(d.home, 'codes.csv');
    const r = await d.bc([
      'redeem',
      'create',
      '--usd',
      '0.25',
      '--count',
      '4',
      '--name',
      'csv',
      '--out',
      file,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('code,amount_usd,expires_at,batch');
    expect(lines).toHaveLength(5);
    for (const line of lines.slice(1)) {
      const [code, usd, expires, batch] = line.split(',');
      expect(code).toMatch(/^BCR-/);
      expect(r.stdout).not.toContain(code);
      expect([usd, expires, batch]).toEqual(['0.25', '', 'csv']);
    }
    expect((await d.bc(['redeem', 'use', lines[1]!.split(',')[0]!, '--user', 'user44'])).code).toBe(0);
    const before = fs.readFileSync(file, 'utf8');
    const again = await d.bc(['redeem', 'create', '--usd', '1', '--name', 'csv-2', '--out', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists: codes are never written over a file/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    // refused before any code was made
    expect((await d.bc(['redeem', 'list', '--batch', 'csv-2', '--json'])).stdout.trim()).toBe('[]');
  });

  it('--count 10000 in one call', async () => {
    const file = path.join(d.home, 'big.csv');
    const r = await d.bc(
      ['redeem', 'create', '--usd', '1', '--count', '10000', '--name', 'big', '--out', file],
      {
        timeoutMs: 60_000,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const codes = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1);
    expect(new Set(codes.map((l) => l.split(',')[0])).size).toBe(10_000);
    const list = await d.bc(['redeem', 'list', '--batch', 'big', '--json'], { timeoutMs: 60_000 });
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(10_000);
    const over = await d.bc(['redeem', 'create', '--usd', '1', '--count', '10001']);
    expect(over.code).toBe(2);
  }, 120_000);
});
