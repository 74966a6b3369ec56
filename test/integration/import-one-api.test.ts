/**
 * `bc import one-api` end to end: the real `bc` binary reads fixture One API and New API databases
 * (test/support/one-api-fixtures.ts) into a real daemon. `--dry-run` writes nothing; the import
 * brings channels, keys, users, codes, prices and groups with QuotaPerUnit 1000000 (not the
 * default); balances are the converted quota and every metered user's ledger sums to balance +
 * spent; a second run imports nothing; an imported token answers through the gateway in One API's
 * three forms (`<key>`, `sk-<key>`, `sk-<key>-<channelId>`) against an OpenAI simulator the
 * imported channel points at; an imported One API code is redeemed with `bc redeem use`.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelView, GroupView, KeyView, PriceView } from '../../src/shared/control-api.js';
import type { ImportPlan, ImportReport } from '../../src/shared/import-plan.js';
import { createDaemonClient, DaemonError } from '../../src/shared/daemon-client.js';
import { hashCode } from '../../src/shared/redeem-code.js';
import type { LedgerRowView, RedeemCodeView, UserView } from '../../src/shared/tenant-api.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { fixtureDir, redemptionCode, tokenKey, writeFixtureDb } from '../support/one-api-fixtures.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';

const QPU = 1_000_000; // quota units per USD in the fixture: 1 unit = 1 micro-USD
const ANN_KEY = tokenKey('annAnnAnn');
const BOB_KEY = tokenKey('bobBobBob');
const CODE = redemptionCode(0xc0de);
const UPSTREAM_SECRET = 'sk-upstream-0123456789abcdef';
const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

let d: TestDaemon;
let sim: OpenAISim;
let dir: string;
let oneApiDb: string;
let newApiDb: string;

beforeAll(async () => {
  sim = await startOpenAISim();
  dir = fixtureDir();
  const now = Math.floor(Date.now() / 1000);
  oneApiDb = writeFixtureDb(path.join(dir, 'one-api.db'), 'one-api-2025-02', {
    options: {
      QuotaPerUnit: String(QPU),
      ModelRatio: JSON.stringify({ 'm-imp': 1.5, 'gpt-4o': 1.25 }),
      CompletionRatio: JSON.stringify({ 'm-imp': 2, 'gpt-4o': 4 }),
      GroupRatio: JSON.stringify({ default: 1, vip: 0.75 }),
    },
    channels: [
      // One API appends /v1 to an OpenAI channel's base: the simulator's root
      {
        id: 1,
        type: 1,
        name: 'sim',
        key: UPSTREAM_SECRET,
        models: 'm-imp',
        base_url: sim.url.replace(/\/v1$/, ''),
      },
      {
        id: 2,
        type: 3,
        name: 'azure-east',
        key: 'azure-secret-0123456789',
        models: 'gpt-4.1',
        base_url: 'https://east.openai.azure.com',
        system_prompt: 'Answer briefly.',
        config: '{"api_version":"2024-10-21"}',
        status: 2,
      },
      { id: 3, type: 34, name: 'coze', key: 'k', models: 'bot' },
      {
        id: 4,
        type: 33,
        name: 'claude-aws',
        key: `${AK}|${SK}|eu-west-1`,
        models: 'claude-3-haiku',
        status: 3,
      },
    ],
    users: [
      { id: 1, username: 'root', role: 100, quota: 500_000_000_000_000, used_quota: 123 },
      { id: 2, username: 'ann', quota: 5_000_000, used_quota: 1_250_000, group: 'default', aff_code: 'abcd' },
      { id: 3, username: 'bob', quota: 2_000_000, used_quota: 0, group: 'vip', inviter_id: 2, status: 2 },
      { id: 4, username: 'deleted_9f', status: 3, quota: 7 },
    ],
    tokens: [
      {
        id: 1,
        user_id: 2,
        key: ANN_KEY,
        name: 'default',
        unlimited_quota: 1,
        remain_quota: -1,
        created_time: now,
      },
      { id: 2, user_id: 3, key: BOB_KEY, name: 'default', remain_quota: 1_500_000, used_quota: 500_000 },
      { id: 3, user_id: 4, key: tokenKey('gone'), name: 'default' },
    ],
    redemptions: [
      { id: 1, user_id: 1, key: CODE, name: 'promo', quota: 3_000_000, status: 1, created_time: now },
      {
        id: 2,
        user_id: 1,
        key: redemptionCode(2),
        name: 'promo',
        quota: 1_000_000,
        status: 3,
        redeemed_time: now,
      },
      { id: 3, user_id: 1, key: redemptionCode(3), name: 'promo', quota: 1_000_000, status: 2 },
    ],
    logs: 5,
  });
  newApiDb = writeFixtureDb(path.join(dir, 'new-api.db'), 'new-api-2026-08', {
    users: [{ id: 7, username: 'ann', quota: 1_000_000, used_quota: 500_000, aff_quota: 250_000 }],
    topUps: 2,
  });
  d = await startTestDaemon();
}, 120_000);

afterAll(async () => {
  await d?.cleanup();
  await sim?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function json<T>(args: string[]): Promise<T> {
  const r = await d.bc([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

async function listings(): Promise<unknown[]> {
  return Promise.all([
    json<ChannelView[]>(['channel', 'list']),
    json<KeyView[]>(['key', 'list']),
    json<UserView[]>(['user', 'list']),
    json<PriceView[]>(['price', 'list']),
    json<GroupView[]>(['group', 'list']),
    json<RedeemCodeView[]>(['redeem', 'list']),
  ]);
}

function chat(secret: string): Promise<Response> {
  return fetch(`${d.gatewayUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({ model: 'm-imp', messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 }),
  });
}

describe('bc import one-api', () => {
  it('refuses a file that is not a One API database with exit 2', async () => {
    const f = path.join(dir, 'notes.txt');
    fs.writeFileSync(f, 'hello'.repeat(500));
    const r = await d.bc(['import', 'one-api', f, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a One API / New API database');
  });

  it('--dry-run shows the plan and writes nothing', async () => {
    const before = await listings();
    const r = await d.bc(['import', 'one-api', oneApiDb, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Dry run (nothing written): One API database');
    expect(r.stdout).toContain('channel "azure-east" (#2): system_prompt dropped');
    expect(r.stdout).toMatch(/1 channel\(s\) of types BurnCloud does not speak: Coze×1/);
    const j = await json<ImportReport & { plan: ImportPlan }>(['import', 'one-api', oneApiDb, '--dry-run']);
    expect(j.dry_run).toBe(true);
    expect(j.counts.channels).toEqual({ imported: 3, skipped: 1, already: 0 });
    expect(j.plan.flavor).toBe('one-api');
    // the plan is printed with its secrets masked
    const text = JSON.stringify(j);
    for (const secret of [ANN_KEY, BOB_KEY, UPSTREAM_SECRET, SK, CODE]) expect(text).not.toContain(secret);
    expect(await listings()).toEqual(before);
  });

  it('imports channels, keys, users, codes, prices and groups', async () => {
    const report = await json<ImportReport>(['import', 'one-api', oneApiDb]);
    expect(report.dry_run).toBe(false);
    expect(report.counts).toEqual({
      channels: { imported: 3, skipped: 1, already: 0 },
      keys: { imported: 2, skipped: 1, already: 0 },
      users: { imported: 3, skipped: 1, already: 0 },
      codes: { imported: 3, skipped: 0, already: 0 },
      prices: { imported: 2, skipped: 0, already: 0 },
      groups: { imported: 2, skipped: 0, already: 0 },
    });
    expect(report.not_imported).toEqual({ logs: 5 });
    expect(report.warnings).toContain('channel "azure-east" (#2): system_prompt dropped');

    const channels = await json<ChannelView[]>(['channel', 'list']);
    const byName = (n: string) => channels.find((c) => c.name === n);
    expect(byName('sim')).toMatchObject({
      type: 'openai',
      base_url: sim.url,
      status: 'enabled',
      models: ['m-imp'],
    });
    expect(byName('azure-east')).toMatchObject({
      type: 'azure',
      status: 'disabled',
      api_version: '2024-10-21',
      map: { 'gpt-4.1': 'gpt-41' },
    });
    expect(byName('claude-aws')).toMatchObject({
      type: 'bedrock',
      region: 'eu-west-1',
      status: 'auto_disabled',
    });
    expect(JSON.stringify(channels)).not.toContain(UPSTREAM_SECRET);

    const keys = await json<KeyView[]>(['key', 'list']);
    expect(keys.map((k) => [k.name, k.user, k.budget, k.spent, k.group, k.prefix, k.created_by])).toEqual([
      ['ann/default', 'ann', null, 0, 'default', `sk-${ANN_KEY.slice(0, 4)}`, 'import'],
      ['bob/default', 'bob', 2_000_000, 500_000, 'vip', `sk-${BOB_KEY.slice(0, 4)}`, 'import'],
    ]);

    const users = await json<UserView[]>(['user', 'list']);
    expect(users.map((u) => [u.name, u.balance, u.spent, u.status, u.group, u.invited_by])).toEqual([
      ['root', null, 123, 'enabled', 'default', null],
      ['ann', 5_000_000, 1_250_000, 'enabled', 'default', null],
      ['bob', 2_000_000, 0, 'disabled', 'vip', 'ann'],
    ]);

    const prices = await json<PriceView[]>(['price', 'list']);
    expect(prices.find((p) => p.model === 'm-imp')).toMatchObject({ input: 1_500_000, output: 3_000_000 });
    const groups = await json<GroupView[]>(['group', 'list']);
    expect(groups).toEqual(expect.arrayContaining([{ name: 'vip', ratio: 0.75 }]));

    const codes = await json<RedeemCodeView[]>(['redeem', 'list']);
    expect(codes.map((c) => [c.prefix, c.amount, c.status, c.uses, c.batch]).sort()).toEqual(
      [
        [CODE.slice(0, 6), 3_000_000, 'active', 0, 'promo'],
        [redemptionCode(2).slice(0, 6), 1_000_000, 'used', 1, 'promo'],
        [redemptionCode(3).slice(0, 6), 1_000_000, 'revoked', 0, 'promo'],
      ].sort(),
    );
  });

  it("keeps every metered user's ledger invariant: sum(ledger) - spent = balance", async () => {
    for (const name of ['ann', 'bob']) {
      const u = await json<UserView>(['user', 'show', name]);
      const ledger = await json<LedgerRowView[]>(['user', 'ledger', name]);
      expect(ledger.map((l) => l.kind)).toEqual(['import']);
      expect(ledger.reduce((s, l) => s + l.amount, 0) - u.spent).toBe(u.balance);
    }
  });

  it('answers an imported token through the gateway in the three legacy forms', async () => {
    const before = sim.callCount('/chat/completions');
    for (const secret of [ANN_KEY, `sk-${ANN_KEY}`, `sk-${ANN_KEY}-1`]) {
      const res = await chat(secret);
      expect(res.status, await res.clone().text()).toBe(200);
      await res.arrayBuffer();
    }
    expect(sim.callCount('/chat/completions') - before).toBe(3);
    // near misses stay unknown
    for (const wrong of [`${ANN_KEY}x`, `sk-${ANN_KEY.slice(1)}`, `sk-bc-${ANN_KEY}`]) {
      const res = await chat(wrong);
      expect(res.status).toBe(401);
      await res.arrayBuffer();
    }
    // bob is disabled in the source, so his keys stop at his user
    const res = await chat(`sk-${BOB_KEY}`);
    expect(res.status).toBe(403);
    await res.arrayBuffer();
  });

  it('redeems an imported One API code as it was issued', async () => {
    const stored = new Database(path.join(d.home, 'burncloud.db'), { readonly: true });
    const hashes = stored.prepare('SELECT hash FROM redeem_codes').pluck().all();
    stored.close();
    expect(hashes).toContain(hashCode(CODE));
    const r = await json<{ amount: number; balance: number; replayed: boolean }>([
      'redeem',
      'use',
      CODE,
      '--user',
      'ann',
    ]);
    expect(r.amount).toBe(3_000_000);
    const ann = await json<UserView>(['user', 'show', 'ann']);
    const ledger = await json<LedgerRowView[]>(['user', 'ledger', 'ann']);
    expect(ledger.reduce((s, l) => s + l.amount, 0) - ann.spent).toBe(ann.balance);
  });

  it('the daemon refuses a plan of the wrong shape, and leaves out an entry that breaks a rule', async () => {
    const client = createDaemonClient({ socket: d.socket });
    try {
      const wrong = await client.importOneApi({ version: 99 }).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(DaemonError);
      expect((wrong as DaemonError).message).toMatch(/^version must be 1/);
      const plan = (await json<{ plan: ImportPlan }>(['import', 'one-api', newApiDb, '--dry-run'])).plan;
      const bad = { ...plan, source: 'one-api:000000000000', users: [{ ...plan.users[0], name: '12345' }] };
      const report = (await client.importOneApi(bad)) as ImportReport;
      expect(report.counts.users).toEqual({ imported: 0, skipped: 1, already: 0 });
      expect(report.warnings).toContain(
        'users[0] "12345" (#7): skipped: name cannot be all digits (it would read as an id)',
      );
    } finally {
      await client.close();
    }
  });

  it('a second run imports nothing and says what it had already', async () => {
    const before = await listings();
    const report = await json<ImportReport>(['import', 'one-api', oneApiDb]);
    for (const kind of ['channels', 'keys', 'users', 'codes', 'prices', 'groups'] as const)
      expect(report.counts[kind].imported, kind).toBe(0);
    expect(report.counts.users.already).toBe(3);
    expect(report.counts.keys.already).toBe(2);
    expect(report.counts.channels.already).toBe(3);
    expect(await listings()).toEqual(before);
    const human = await d.bc(['import', 'one-api', oneApiDb]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/users\s+0\s+1\s+3/);
  });

  it('a New API database: unspent invitation rewards get a ledger row of their own; a taken name gets -<id>', async () => {
    const report = await json<ImportReport>(['import', 'one-api', newApiDb]);
    expect(report.flavor).toBe('new-api');
    expect(report.counts.users).toEqual({ imported: 1, skipped: 0, already: 0 });
    expect(report.not_imported).toEqual({ top_ups: 2 });
    const u = await json<UserView>(['user', 'show', 'ann-7']);
    // QuotaPerUnit 500000 (the default): 1,000,000 + 250,000 units are $2.50, 500,000 used $1
    expect([u.balance, u.spent]).toEqual([2_500_000, 1_000_000]);
    const ledger = await json<LedgerRowView[]>(['user', 'ledger', 'ann-7']);
    expect(ledger.map((l) => l.amount).sort()).toEqual([3_000_000, 500_000].sort());
    expect(ledger.reduce((s, l) => s + l.amount, 0) - u.spent).toBe(u.balance);
  });
});
