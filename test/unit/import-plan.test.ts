// The import planner (bc import one-api) over fixture databases of the anchors' three shapes:
// flavour detection, type ids and SDK base URLs per flavour (ids 26, 27, 36, 40 and 45 mean
// different things in One API and New API), the Azure, Bedrock, qwen and New API Custom
// exceptions, quota to micro-USD with a QuotaPerUnit other than 500000, statuses, names, dropped
// fields named one per line, and a file that is not a One API database refused with exit 2.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { planFromFile } from '../../src/cli/import/plan.js';
import { quotaToMicro } from '../../src/cli/import/plan-util.js';
import { readSource } from '../../src/cli/import/read.js';
import { UsageError } from '../../src/cli/parse.js';
import { hashCode } from '../../src/shared/redeem-code.js';
import type { ImportPlan, PlanChannel } from '../../src/shared/import-plan.js';
import {
  fixtureDir,
  redemptionCode,
  tokenKey,
  writeFixtureDb,
  type FixtureData,
  type FixtureRow,
  type FixtureShape,
} from '../support/one-api-fixtures.js';

const dir = fixtureDir();
let n = 0;
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function db(shape: FixtureShape, data: FixtureData): string {
  return writeFixtureDb(path.join(dir, `f${++n}.db`), shape, data);
}

function channel(id: number, type: number, extra: FixtureRow = {}): FixtureRow {
  return { id, type, name: `c${id}`, key: `sk-upstream-${id}`, models: 'm1,m2', status: 1, ...extra };
}

function plan(
  shape: FixtureShape,
  data: FixtureData,
  opts: Parameters<typeof planFromFile>[1] = {},
): ImportPlan {
  return planFromFile(db(shape, data), opts);
}

function byId(p: ImportPlan, id: number): PlanChannel | undefined {
  return p.channels.find((c) => c.source_ids.includes(id));
}

const OA: FixtureShape = 'one-api-2025-02';
const NA: FixtureShape = 'new-api-2026-08';
const NA_OLD: FixtureShape = 'new-api-2025-04';

describe('reading', () => {
  it('refuses a file that is not an SQLite database, with exit 2', () => {
    const f = path.join(dir, 'text.db');
    fs.writeFileSync(f, 'this is not a database at all, just some text that is long enough'.repeat(20));
    expect(() => readSource(f)).toThrow(UsageError);
    expect(() => readSource(f)).toThrow(/not a One API \/ New API database/);
  });

  it('refuses an SQLite database without the One API tables', () => {
    const f = path.join(dir, 'other.db');
    const d = new Database(f);
    d.exec('CREATE TABLE channels (id INTEGER PRIMARY KEY); CREATE TABLE users (id INTEGER PRIMARY KEY)');
    d.close();
    expect(() => readSource(f)).toThrow(/not a One API \/ New API database \(no table tokens, options\)/);
  });

  it('refuses a missing file', () => {
    expect(() => readSource(path.join(dir, 'nope.db'))).toThrow(/no such file/);
  });

  it('tells the flavours apart, and --flavor overrides', () => {
    expect(readSource(db(OA, {})).flavor).toBe('one-api');
    expect(readSource(db(NA_OLD, {})).flavor).toBe('new-api');
    expect(readSource(db(NA, {})).flavor).toBe('new-api');
    const forced = readSource(db(NA, {}), 'one-api');
    expect([forced.flavor, forced.detected]).toEqual(['one-api', 'new-api']);
  });

  it('reads an older New API without the columns it lacks', () => {
    const p = plan(NA_OLD, {
      channels: [channel(1, 1)],
      users: [{ id: 1, username: 'ann', quota: 500000 }],
      tokens: [{ id: 1, user_id: 1, key: tokenKey('a'), name: 'app', remain_quota: 0, unlimited_quota: 1 }],
      redemptions: [{ id: 1, key: redemptionCode(1), quota: 500000, status: 1 }],
    });
    expect([p.channels.length, p.users.length, p.keys.length, p.codes.length]).toEqual([1, 1, 1, 1]);
    expect(p.codes[0]?.expires_at).toBeNull();
  });

  it('counts the tables it does not import', () => {
    const p = plan(NA, { logs: 3, topUps: 2 });
    expect(p.not_imported).toEqual({ logs: 3, top_ups: 2 });
  });
});

describe('channel types and base URLs', () => {
  const ids = [1, 14, 17, 24, 26, 27, 36, 40, 45];
  const rows = ids.map((id) => channel(id, id));

  it('One API', () => {
    const p = plan(OA, { channels: rows });
    const got = Object.fromEntries(ids.map((id) => [id, [byId(p, id)?.type, byId(p, id)?.base_url]]));
    expect(got).toEqual({
      1: ['openai', 'https://api.openai.com/v1'],
      14: ['anthropic', 'https://api.anthropic.com'],
      17: ['qwen', 'https://dashscope.aliyuncs.com/compatible-mode/v1'],
      24: ['gemini', null],
      26: ['openai-compatible', 'https://api.baichuan-ai.com/v1'],
      27: ['openai-compatible', 'https://api.minimax.chat/v1'],
      36: ['deepseek', 'https://api.deepseek.com/v1'],
      40: ['openai-compatible', 'https://ark.cn-beijing.volces.com/api/v3'],
      45: ['xai', 'https://api.x.ai/v1'],
    });
    expect(p.warnings.some((w) => w.startsWith('channel "c27" (#27): One API called MiniMax'))).toBe(true);
  });

  it('New API, where the same ids are other providers', () => {
    const p = plan(NA, { channels: rows });
    const got = Object.fromEntries(ids.map((id) => [id, [byId(p, id)?.type, byId(p, id)?.base_url]]));
    expect(got).toEqual({
      1: ['openai', 'https://api.openai.com/v1'],
      14: ['anthropic', 'https://api.anthropic.com'],
      17: ['qwen', 'https://dashscope.aliyuncs.com/compatible-mode/v1'],
      24: ['gemini', null],
      26: ['openai-compatible', 'https://open.bigmodel.cn/api/paas/v4'],
      27: ['openai-compatible', 'https://api.perplexity.ai'],
      36: [undefined, undefined],
      40: ['openai-compatible', 'https://api.siliconflow.cn/v1'],
      45: ['openai-compatible', 'https://ark.cn-beijing.volces.com/api/v3'],
    });
    expect(p.skipped_channel_types).toEqual({ SunoAPI: 1 });
    expect(p.skipped.channels).toBe(1);
  });

  it('a channel base URL replaces the default, the path appended; Cloudflare gateways stay as they are', () => {
    const p = plan(OA, {
      channels: [
        channel(1, 1, { base_url: 'https://proxy.example.com/' }),
        channel(2, 1, { base_url: 'https://gateway.ai.cloudflare.com/v1/acct/gw/openai' }),
        channel(3, 17, { base_url: 'https://dashscope-intl.aliyuncs.com' }),
        channel(4, 50, { base_url: 'https://compat.example.com/api/v1' }),
        channel(5, 24, { base_url: 'https://gemini-proxy.example.com' }),
      ],
    });
    expect(p.channels.map((c) => c.base_url)).toEqual([
      'https://proxy.example.com/v1',
      'https://gateway.ai.cloudflare.com/v1/acct/gw/openai',
      'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
      'https://compat.example.com/api/v1',
      'https://gemini-proxy.example.com',
    ]);
  });

  it("skips unsupported types and counts them by the flavour's type name", () => {
    const p = plan(NA, { channels: [channel(1, 2), channel(2, 2), channel(3, 41), channel(4, 99)] });
    expect(p.channels).toEqual([]);
    expect(p.skipped_channel_types).toEqual({ Midjourney: 2, VertexAi: 1, 'type 99': 1 });
    const oa = plan(OA, { channels: [channel(1, 2), channel(2, 42)] });
    expect(oa.channels.map((c) => c.type)).toEqual(['openai-compatible']);
    expect(oa.skipped_channel_types).toEqual({ VertexAI: 1 });
  });

  it("New API's Custom type: a chat completions URL without {model} only", () => {
    const p = plan(NA, {
      channels: [
        channel(1, 8, { base_url: 'https://llm.example.com/v1/chat/completions' }),
        channel(2, 8, { base_url: 'https://llm.example.com/{model}/chat/completions' }),
        channel(3, 8, { base_url: 'https://llm.example.com/v1/embeddings' }),
      ],
    });
    expect(p.channels.map((c) => [c.source_ids[0], c.type, c.base_url])).toEqual([
      [1, 'openai-compatible', 'https://llm.example.com/v1'],
    ]);
    expect(p.skipped_channel_types).toEqual({ Custom: 2 });
    // One API's Custom is an OpenAI-compatible base
    expect(
      plan(OA, { channels: [channel(1, 8, { base_url: 'https://x.example.com' })] }).channels[0]?.base_url,
    ).toBe('https://x.example.com/v1');
  });

  it("New API's named special bases", () => {
    const p = plan(NA, {
      channels: [channel(1, 1, { base_url: 'glm-coding-plan' }), channel(2, 1, { base_url: 'no-such-plan' })],
    });
    expect(p.channels.map((c) => [c.type, c.base_url])).toEqual([
      ['openai-compatible', 'https://open.bigmodel.cn/api/coding/paas/v4'],
    ]);
    expect(p.warnings.some((w) => w.startsWith('channel "c2" (#2): skipped: base_url "no-such-plan"'))).toBe(
      true,
    );
  });

  it('statuses, weight, priority, groups, models and map', () => {
    const p = plan(OA, {
      channels: [
        channel(1, 1, {
          status: 2,
          weight: 0,
          priority: 5,
          group: 'default,vip',
          model_mapping: '{"gpt-4":"gpt-4-0613"}',
        }),
        channel(2, 1, { status: 3, weight: 7, models: ' a , b,,a ' }),
      ],
    });
    const [a, b] = p.channels;
    expect([a?.status, a?.status_reason, a?.weight, a?.priority, a?.groups, a?.map]).toEqual([
      'disabled',
      null,
      1,
      5,
      ['default', 'vip'],
      { 'gpt-4': 'gpt-4-0613' },
    ]);
    expect([b?.status, b?.status_reason, b?.weight, b?.models]).toEqual([
      'auto_disabled',
      'imported: auto-disabled in One API',
      7,
      ['a', 'b'],
    ]);
  });

  it('names are made unique: the first keeps its name', () => {
    const p = plan(OA, {
      channels: [
        channel(1, 1, { name: 'main' }),
        channel(2, 1, { name: 'main' }),
        channel(3, 1, { name: '42' }),
      ],
    });
    expect(p.channels.map((c) => c.name)).toEqual(['main', 'main-2', 'channel-42']);
  });
});

describe('Azure', () => {
  const azure = (id: number, created: number, extra: FixtureRow = {}): FixtureRow =>
    channel(id, 3, {
      base_url: 'https://res.openai.azure.com',
      models: 'gpt-4.1,gpt-3.5-turbo',
      model_mapping: '{"fast":"gpt-4.1-mini"}',
      created_time: created,
      ...extra,
    });
  const before = Date.UTC(2025, 4, 9) / 1000;
  const after = Date.UTC(2025, 4, 11) / 1000;

  it('One API removes the dots from every deployment', () => {
    const p = plan(OA, { channels: [azure(1, after, { config: '{"api_version":"2024-10-21"}' })] });
    expect(p.channels[0]).toMatchObject({
      type: 'azure',
      base_url: 'https://res.openai.azure.com',
      api_version: '2024-10-21',
      map: { 'gpt-4.1': 'gpt-41', 'gpt-3.5-turbo': 'gpt-35-turbo', fast: 'gpt-41-mini' },
    });
  });

  it('New API removes them only for channels created before 2025-05-10', () => {
    const p = plan(NA, { channels: [azure(1, before), azure(2, after, { other: '2024-12-01-preview' })] });
    expect(byId(p, 1)?.map).toEqual({
      'gpt-4.1': 'gpt-41',
      'gpt-3.5-turbo': 'gpt-35-turbo',
      fast: 'gpt-41-mini',
    });
    expect(byId(p, 2)?.map).toEqual({
      'gpt-4.1': 'gpt-4.1',
      'gpt-3.5-turbo': 'gpt-3.5-turbo',
      fast: 'gpt-4.1-mini',
    });
    expect([byId(p, 1)?.api_version, byId(p, 2)?.api_version]).toEqual([
      '2025-04-01-preview',
      '2024-12-01-preview',
    ]);
  });

  it('an Azure channel without a base URL is skipped and said so', () => {
    const p = plan(OA, { channels: [channel(1, 3)] });
    expect(p.channels).toEqual([]);
    expect(p.warnings).toContain(
      'channel "c1" (#1): skipped: Azure needs a base URL and the channel has none',
    );
  });
});

describe('Bedrock', () => {
  const AK = 'AKIAIOSFODNN7EXAMPLE';
  const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

  it('AK|SK|REGION becomes AK:SK and the region', () => {
    const p = plan(OA, { channels: [channel(1, 33, { key: `${AK}|${SK}|eu-west-1` })] });
    expect(p.channels[0]).toMatchObject({
      type: 'bedrock',
      keys: [`${AK}:${SK}`],
      region: 'eu-west-1',
      base_url: null,
    });
  });

  it('APIKEY|REGION (New API) becomes the API key and the region', () => {
    const p = plan(NA, {
      channels: [
        channel(1, 33, { key: 'ABSKexampleapikey123456|us-west-2', settings: '{"aws_key_type":"api_key"}' }),
      ],
    });
    expect(p.channels[0]).toMatchObject({ keys: ['ABSKexampleapikey123456'], region: 'us-west-2' });
    expect(p.warnings).toEqual([]);
  });

  it("One API's config holds the credentials when the key does not", () => {
    const p = plan(OA, {
      channels: [
        channel(1, 33, { key: '', config: JSON.stringify({ ak: AK, sk: SK, region: 'ap-south-1' }) }),
      ],
    });
    expect(p.channels[0]).toMatchObject({ keys: [`${AK}:${SK}`], region: 'ap-south-1' });
  });

  it('a key in neither shape skips the channel', () => {
    const p = plan(OA, { channels: [channel(1, 33, { key: 'just-a-key' })] });
    expect(p.channels).toEqual([]);
    expect(p.skipped_channel_types).toEqual({ AwsClaude: 1 });
  });
});

describe('dropped fields', () => {
  it('one warning line per dropped field per channel', () => {
    const p = plan(NA, {
      channels: [
        channel(12, 3, {
          name: 'azure-east',
          base_url: 'https://east.openai.azure.com',
          status_code_mapping: '{"429":"500"}',
          param_override: '{"temperature":0}',
          header_override: '',
          tag: 'prod',
          auto_ban: 0,
          setting: '{"force_format":false,"proxy":"socks5://p:1080"}',
          settings: '{"azure_responses_version":"preview"}',
          test_model: 'gpt-4o',
        }),
      ],
    });
    expect(p.warnings).toEqual([
      'channel "azure-east" (#12): param_override dropped',
      'channel "azure-east" (#12): status_code_mapping dropped',
      'channel "azure-east" (#12): tag dropped',
      'channel "azure-east" (#12): auto_ban 0 dropped (BurnCloud always disables a key its upstream refuses)',
      'channel "azure-east" (#12): setting.proxy dropped',
      'channel "azure-east" (#12): settings.azure_responses_version dropped',
    ]);
    expect(p.channels[0]?.settings).toEqual({ test_model: 'gpt-4o' });
  });

  it("One API's system prompt and unused config", () => {
    const p = plan(OA, { channels: [channel(1, 1, { system_prompt: 'be nice', config: '{"plugin":"x"}' })] });
    expect(p.warnings).toEqual([
      'channel "c1" (#1): system_prompt dropped',
      'channel "c1" (#1): config.plugin dropped',
    ]);
  });
});

describe('New API multi-key channels and --merge-keys', () => {
  it('keeps each key and its state', () => {
    const info = {
      is_multi_key: true,
      multi_key_size: 3,
      multi_key_status_list: { 1: 3, 2: 2 },
      multi_key_disabled_reason: { 1: 'quota' },
    };
    const p = plan(NA, {
      channels: [channel(1, 1, { key: 'k-one\nk-two\nk-three', channel_info: JSON.stringify(info) })],
    });
    expect(p.channels[0]?.keys).toEqual(['k-one', 'k-two', 'k-three']);
    expect(p.channels[0]?.key_disabled).toEqual([
      null,
      'imported: auto-disabled in New API (quota)',
      'imported: disabled in New API',
    ]);
  });

  it('merges siblings alike in all but the key', () => {
    const rows = [
      channel(1, 1, { name: 'pool' }),
      channel(2, 1, { name: 'pool', status: 2 }),
      channel(3, 1, { name: 'pool', priority: 1 }),
    ];
    const merged = plan(OA, { channels: rows }, { mergeKeys: true });
    expect(merged.channels.map((c) => [c.name, c.source_ids, c.keys.length, c.key_disabled])).toEqual([
      ['pool', [1, 2], 2, [null, 'imported: disabled']],
      ['pool-2', [3], 1, [null]],
    ]);
    expect(plan(OA, { channels: rows }).channels).toHaveLength(3);
  });
});

describe('money', () => {
  it('quotaToMicro rounds half up, exactly', () => {
    expect(quotaToMicro(500_000, 500_000)).toBe(1_000_000);
    expect(quotaToMicro(1, 500_000)).toBe(2);
    expect(quotaToMicro(1, 3)).toBe(333_333);
    expect(quotaToMicro(1, 2_000_000)).toBe(1); // 0.5 rounds up
    expect(quotaToMicro(-1, 2_000_000)).toBe(0); // -0.5 rounds up too
    expect(quotaToMicro(500_000_000_000_000, 500_000)).toBe(1e15); // One API root's $1e9, exactly
  });

  const data = (): FixtureData => ({
    options: { QuotaPerUnit: '1000000', ModelRatio: '{"gpt-x":1.5}', CompletionRatio: '{"gpt-x":4}' },
    users: [{ id: 1, username: 'ann', quota: 2_500_000, used_quota: 1_000_001 }],
    tokens: [
      { id: 1, user_id: 1, key: tokenKey('t'), name: 'app', remain_quota: 3_000_000, used_quota: 500_000 },
    ],
    redemptions: [{ id: 1, key: redemptionCode(7), quota: 250_000, status: 1 }],
  });

  it("converts with the source's QuotaPerUnit", () => {
    const p = plan(OA, data());
    expect(p.quota_per_unit).toBe(1_000_000);
    expect([p.users[0]?.balance, p.users[0]?.spent]).toEqual([2_500_000, 1_000_001]);
    expect([p.keys[0]?.budget, p.keys[0]?.spent]).toEqual([3_500_000, 500_000]);
    expect(p.codes[0]?.amount).toBe(250_000);
    // ratio 1.5 = $3 per 1M at 500000; $1.5 at 1000000
    expect(p.prices).toEqual([
      {
        model: 'gpt-x',
        input: 1_500_000,
        output: 6_000_000,
        cache_read: null,
        cache_write: null,
        per_request: null,
      },
    ]);
  });

  it('and with --quota-per-unit over the option', () => {
    const p = plan(OA, data(), { quotaPerUnit: 250_000 });
    expect([p.users[0]?.balance, p.users[0]?.spent, p.codes[0]?.amount]).toEqual([
      10_000_000, 4_000_004, 1_000_000,
    ]);
    expect(p.prices[0]?.input).toBe(6_000_000);
  });
});

describe('users', () => {
  const users: FixtureRow[] = [
    { id: 1, username: 'root', role: 100, quota: 500_000_000_000_000, used_quota: 500_000 },
    { id: 2, username: 'ann', quota: 1_000_000, status: 2, inviter_id: 1, group: 'vip' },
    { id: 3, username: 'deleted_x', status: 3, quota: 5 },
    { id: 4, username: 'ann.b', display_name: 'Ann B', quota: 0 },
    { id: 5, username: 'Ann', group: 'VIP 用户' },
    { id: 6, username: '12345' },
  ];

  it('skips deleted users, maps status, group, admins unmetered, notes', () => {
    const p = plan(OA, { users });
    expect(p.skipped.users).toBe(1);
    expect(p.users.map((u) => [u.source_id, u.name, u.status, u.balance, u.group, u.invited_by])).toEqual([
      [1, 'root', 'enabled', null, 'default', null],
      [2, 'ann', 'disabled', 2_000_000, 'vip', 1],
      [4, 'ann.b', 'enabled', 0, 'default', null],
      [5, 'Ann', 'enabled', 0, 'VIP_', null],
      [6, 'user-12345', 'enabled', 0, 'default', null],
    ]);
    expect(p.users[0]?.spent).toBe(1_000_000);
    expect(p.users[0]?.note).toBe('root in the source: unmetered');
    expect(p.users[2]?.note).toBe('Ann B');
  });

  it('--admins metered keeps their balance', () => {
    const p = plan(OA, { users }, { admins: 'metered' });
    expect(p.users[0]?.balance).toBe(1e15);
  });

  it('a name clash gets -<id>', () => {
    const p = plan(OA, {
      users: [
        { id: 1, username: 'a b' },
        { id: 2, username: 'a_b' },
      ],
    });
    expect(p.users.map((u) => u.name)).toEqual(['a_b', 'a_b-2']);
  });

  it("New API's deleted_at and unspent invitation rewards", () => {
    const p = plan(NA, {
      users: [
        { id: 1, username: 'ann', quota: 500_000, aff_quota: 250_000 },
        { id: 2, username: 'bob', deleted_at: '2026-01-01 00:00:00' },
      ],
    });
    expect(p.users.map((u) => [u.name, u.balance, u.aff_balance])).toEqual([['ann', 1_000_000, 500_000]]);
    expect(p.skipped.users).toBe(1);
  });
});

describe('tokens', () => {
  const users: FixtureRow[] = [
    { id: 1, username: 'ann' },
    { id: 2, username: 'gone', status: 3 },
  ];
  const now = Math.floor(Date.now() / 1000);

  it('become keys named user/token with their old secret, budget, status', () => {
    const p = plan(OA, {
      users,
      tokens: [
        { id: 1, user_id: 1, key: tokenKey('a'), name: 'default', unlimited_quota: 1, remain_quota: -1 },
        {
          id: 2,
          user_id: 1,
          key: tokenKey('b'),
          name: 'default',
          status: 2,
          remain_quota: 500_000,
          used_quota: 500_000,
        },
        { id: 3, user_id: 1, key: tokenKey('c'), name: 'old', status: 3, expired_time: now - 60 },
        {
          id: 4,
          user_id: 1,
          key: tokenKey('d'),
          name: 'dry',
          status: 4,
          remain_quota: -10,
          used_quota: 1_000_000,
        },
        { id: 5, user_id: 2, key: tokenKey('e'), name: 'x' },
        {
          id: 6,
          user_id: 1,
          key: tokenKey('f'),
          name: 'ips',
          models: 'a,b',
          subnet: '10.0.0.0/8, 192.168.1.7,bad',
        },
      ],
    });
    expect(p.keys.map((k) => [k.name, k.status, k.budget, k.spent])).toEqual([
      ['ann/default', 'enabled', null, 0],
      ['ann/default-2', 'disabled', 2_000_000, 1_000_000],
      ['ann/old', 'enabled', 0, 0],
      ['ann/dry', 'enabled', 2_000_000, 2_000_000],
      ['ann/ips', 'enabled', 0, 0],
    ]);
    expect(p.keys[0]).toMatchObject({
      secret: `sk-${tokenKey('a')}`,
      prefix: `sk-${tokenKey('a').slice(0, 4)}`,
      user_source_id: 1,
    });
    expect(p.keys[2]?.expires_at).toBe(new Date((now - 60) * 1000).toISOString());
    expect([p.keys[4]?.models, p.keys[4]?.allow_ips]).toEqual([
      ['a', 'b'],
      ['10.0.0.0/8', '192.168.1.7/32'],
    ]);
    expect(p.warnings).toContain(
      'token "ips" (#6): allow_ips entry "bad" dropped (not an address or CIDR block)',
    );
    expect(p.skipped.keys).toBe(1);
  });

  it("New API: model limits only when enabled, allowed IPs by line, the token's group", () => {
    const p = plan(NA, {
      users: [{ id: 1, username: 'ann', group: 'vip' }],
      tokens: [
        {
          id: 1,
          user_id: 1,
          key: tokenKey('a'),
          name: 'a',
          model_limits_enabled: 1,
          model_limits: 'm1,m2',
          allow_ips: '::1\n10.1.0.0/16',
          group: 'auto',
        },
        { id: 2, user_id: 1, key: tokenKey('b'), name: 'b', model_limits_enabled: 0, model_limits: 'm1' },
        { id: 3, user_id: 1, key: tokenKey('c'), name: 'c', deleted_at: '2026-01-01' },
      ],
    });
    expect(p.keys.map((k) => [k.models, k.allow_ips])).toEqual([
      [
        ['m1', 'm2'],
        ['::1/128', '10.1.0.0/16'],
      ],
      [[], []],
    ]);
    expect(p.warnings).toContain(
      'token "a" (#1): group "auto" dropped (a user\'s keys use the user\'s group "vip")',
    );
  });
});

describe('redemption codes', () => {
  const now = Math.floor(Date.now() / 1000);
  const codes: FixtureRow[] = [
    {
      id: 1,
      key: redemptionCode(1).toUpperCase(),
      name: 'batch',
      quota: 500_000,
      status: 1,
      created_time: now,
    },
    { id: 2, key: redemptionCode(2), quota: 500_000, status: 2 },
    { id: 3, key: redemptionCode(3), quota: 500_000, status: 3, used_user_id: 1, redeemed_time: now },
    { id: 4, key: redemptionCode(4), quota: 0, status: 1 },
    { id: 5, key: redemptionCode(5), quota: 500_000, status: 1, expired_time: now - 10 },
  ];

  it('statuses, hash of the code as issued, history for used ones', () => {
    const p = plan(NA, { redemptions: codes });
    expect(p.codes.map((c) => [c.source_id, c.status, c.used, c.used_by, c.amount])).toEqual([
      [1, 'active', false, null, 1_000_000],
      [2, 'revoked', false, null, 1_000_000],
      [3, 'active', true, 1, 1_000_000],
      [5, 'active', false, null, 1_000_000],
    ]);
    expect(p.codes[0]?.hash).toBe(hashCode(redemptionCode(1)));
    expect(p.codes[0]?.prefix).toBe(redemptionCode(1).slice(0, 6));
    expect(p.codes[0]?.batch).toBe('batch');
    expect(p.codes[3]?.expires_at).toBe(new Date((now - 10) * 1000).toISOString());
    expect(p.skipped.codes).toBe(1);
  });

  it('--skip-used-codes leaves the used ones out', () => {
    const p = plan(NA, { redemptions: codes }, { skipUsedCodes: true });
    expect(p.codes.map((c) => c.source_id)).toEqual([1, 2, 5]);
    expect(p.skipped.codes).toBe(2);
  });
});

describe('prices and groups', () => {
  it('ratios to micro-USD per 1M tokens; New API per-call and cache prices; per-type keys skipped', () => {
    const p = plan(NA, {
      options: {
        ModelRatio: JSON.stringify({
          'gpt-4o': 1.25,
          'claude-3-5-sonnet': 1.5,
          'llama3-8b-8192(33)': 0.1,
          plain: 1,
        }),
        CompletionRatio: JSON.stringify({ 'gpt-4o': 4, 'claude-3-5-sonnet': 5 }),
        CacheRatio: JSON.stringify({ 'gpt-4o': 0.5 }),
        CreateCacheRatio: JSON.stringify({ 'claude-3-5-sonnet': 1.25 }),
        ModelPrice: JSON.stringify({ 'dall-e-3': 0.04 }),
        GroupRatio: JSON.stringify({ default: 1, vip: 0.8, 'svip 2': 0.5 }),
        GroupGroupRatio: JSON.stringify({ vip: { default: 0.9 } }),
        QuotaForInvitee: '250000',
        QuotaForInviter: '500000',
      },
    });
    expect(p.prices).toEqual([
      {
        model: 'claude-3-5-sonnet',
        input: 3_000_000,
        output: 15_000_000,
        cache_read: null,
        cache_write: 3_750_000,
        per_request: null,
      },
      { model: 'dall-e-3', input: 0, output: 0, cache_read: null, cache_write: null, per_request: 40_000 },
      {
        model: 'gpt-4o',
        input: 2_500_000,
        output: 10_000_000,
        cache_read: 1_250_000,
        cache_write: null,
        per_request: null,
      },
      {
        model: 'plain',
        input: 2_000_000,
        output: null,
        cache_read: null,
        cache_write: null,
        per_request: null,
      },
    ]);
    expect(p.skipped.prices).toBe(1);
    expect(p.warnings.some((w) => w.startsWith('price "llama3-8b-8192(33)": skipped'))).toBe(true);
    expect(
      p.warnings.some((w) => w.startsWith('price "claude-3-5-sonnet": New API ignores CompletionRatio')),
    ).toBe(true);
    expect(p.warnings.some((w) => w.startsWith('price "plain": no CompletionRatio'))).toBe(true);
    expect(p.groups).toEqual([
      { name: 'default', ratio: 1 },
      { name: 'vip', ratio: 0.8 },
      { name: 'svip_2', ratio: 0.5 },
    ]);
    expect(p.warnings.some((w) => w.startsWith('option GroupGroupRatio: dropped'))).toBe(true);
    expect(p.suggested_settings).toBe(
      'bc tenant settings --signup invite+referral --invitee-usd 0.5 --inviter-usd 1',
    );
  });

  it('--only leaves the other kinds out', () => {
    const p = plan(
      OA,
      { options: { ModelRatio: '{"m":1}' }, channels: [channel(1, 1)], users: [{ id: 1, username: 'a' }] },
      { only: ['prices'] },
    );
    expect([p.channels.length, p.users.length, p.prices.length, p.only]).toEqual([0, 0, 1, ['prices']]);
  });
});
