/**
 * Budgets that let work finish, against a real daemon set up with the real `bc` binary: 100
 * concurrent requests on a key whose budget covers a few of them are served whole, served with a
 * lowered output limit (which the simulator receives and bills up to) or refused 403
 * insufficient_quota, and the sum of their costs never passes the budget, to the micro-USD.
 * `bc key create/edit --strict-budget` and `--no-strict-budget`, `bc key show` and `bc logs`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { KeyCreated, KeyView, LogRow } from '../../src/shared/control-api.js';
import { countChatTokens } from '../../src/daemon/gateway/tokens/tokens.js';
import { worstInput } from '../../src/daemon/gateway/money/meter.js';

let d: TestDaemon;
let sim: OpenAISim;

// $2 and $10 per 1M tokens: 2 and 10 micro-USD per token
const IN = 2;
const OUT = 10;
const BUDGET = 200_000; // $0.20: one request's worst case is about $0.05; all 100 would spend about $0.77
const ASKED = 5000;

beforeAll(async () => {
  sim = await startOpenAISim();
  d = await startTestDaemon();
  const setup = [
    ['channel', 'add', '--name', 'sim', '--type', 'openai', '--key', 'sk-up-000000000000'],
    ['--models', 'm', '--base-url', sim.url],
  ].flat();
  expect((await d.bc(setup)).code).toBe(0);
  expect((await d.bc(['price', 'set', 'm', '--input', String(IN), '--output', String(OUT)])).code).toBe(0);
});

afterAll(async () => {
  await d?.cleanup();
  await sim?.close();
});

async function createKey(...flags: string[]): Promise<KeyCreated> {
  const r = await d.bc(['key', 'create', ...flags, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as KeyCreated;
}

interface Answer {
  status: number;
  limit: number | null;
  requestId: string;
  body: { usage?: { completion_tokens: number }; error?: { code: string; message: string } };
}

function chatBody(content: string, deltas: number): string {
  return JSON.stringify({
    model: 'm',
    messages: [{ role: 'user', content }],
    max_tokens: ASKED,
    // one one-byte token per delta, cut at whatever limit the simulator receives
    metadata: { 'x-sim-deltas': String(deltas), 'x-sim-delta-bytes': '1' },
  });
}

async function chat(secret: string, content: string, deltas: number): Promise<Answer> {
  const res = await fetch(`${d.gatewayUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: chatBody(content, deltas),
  });
  const limit = res.headers.get('x-bc-max-tokens');
  return {
    status: res.status,
    limit: limit === null ? null : Number(limit),
    requestId: res.headers.get('x-request-id') ?? '',
    body: (await res.json()) as Answer['body'],
  };
}

async function logsOf(key: string): Promise<LogRow[]> {
  const r = await d.bc(['logs', '--key', key, '--limit', '1000', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as LogRow[];
}

describe('100 concurrent requests near the end of a budget', () => {
  it('never spend past it: each is served whole, served lowered or refused, and the simulator bills what it was allowed', async () => {
    // a first budgeted request loads the daemon's tokenizer (about a second), so the burst below
    // is not queued behind it and settlements interleave with admissions
    const warm = await createKey('--name', 'warm', '--budget', '1');
    expect((await chat(warm.key, 'warm up', 1)).status).toBe(200);
    const key = await createKey('--name', 'shared', '--budget', String(BUDGET / 1e6));
    expect(key.strict_budget).toBe(false);
    const before = sim.calls.length;
    // every tenth one takes every token it is allowed; the others stop at 300
    const deltas = (i: number): number => (i % 10 === 7 ? 100_000 : 300);
    // all in flight together, started 3 ms apart so that settlements interleave with admissions
    const answers = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 3));
        return chat(key.key, `req ${i}`, deltas(i));
      }),
    );

    const served = answers.filter((a) => a.status === 200);
    const lowered = served.filter((a) => a.limit !== null);
    const refused = answers.filter((a) => a.status !== 200);
    expect(lowered.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.status).toBe(403);
      expect(a.body.error?.code).toBe('insufficient_quota');
    }

    // what the simulator received: the lowered limit where the answer said so, else the client's
    const received = new Map<string, number>();
    for (const c of sim.calls.slice(before)) {
      const body = JSON.parse(c.body.toString()) as { messages: { content: string }[]; max_tokens: number };
      received.set(body.messages[0]!.content, body.max_tokens);
    }
    expect(received.size).toBe(served.length);
    answers.forEach((a, i) => {
      if (a.status !== 200) return expect(received.has(`req ${i}`)).toBe(false);
      const limit = a.limit ?? ASKED;
      expect(a.limit === null || (a.limit >= 1024 && a.limit < ASKED)).toBe(true);
      expect(received.get(`req ${i}`)).toBe(limit);
      const billed = a.body.usage!.completion_tokens;
      expect(billed).toBe(Math.min(limit, deltas(i)));
    });

    // the rows: one per request, the lowered limit in max_tokens_clamped, costs within the budget
    const rows = await logsOf('shared');
    expect(rows.length).toBe(100);
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    for (const a of answers) {
      const row = byId.get(a.requestId)!;
      expect(row.status).toBe(a.status);
      expect(row.max_tokens_clamped).toBe(a.limit);
      if (a.status === 200) expect(row.output_tokens).toBe(a.body.usage!.completion_tokens);
    }
    // the simulator counts no more prompt than the gateway reserved for (else this test proves nothing)
    for (const [i, a] of answers.entries()) {
      if (a.status !== 200) continue;
      const counted = await countChatTokens({ messages: [{ role: 'user', content: `req ${i}` }] });
      expect(byId.get(a.requestId)!.input_tokens).toBeLessThanOrEqual(counted);
    }
    const total = rows.reduce((n, r) => n + (r.cost ?? 0), 0);
    expect(total).toBeLessThanOrEqual(BUDGET);
    const view = JSON.parse((await d.bc(['key', 'show', 'shared', '--json'])).stdout) as KeyView;
    expect(view.spent).toBe(total);

    // `bc logs` marks a lowered row's output with its limit
    const human = await d.bc(['logs', '--key', 'shared', '--limit', '1000']);
    const row = rows.find((r) => r.max_tokens_clamped !== null)!;
    expect(human.stdout).toContain(`/${row.max_tokens_clamped!.toLocaleString('en-US')}`);
  });
});

describe('bc key --strict-budget', () => {
  it('refuses instead of lowering, until --no-strict-budget; key show says which', async () => {
    const key = await createKey('--name', 'strict', '--budget', '0.02', '--strict-budget');
    expect(key.strict_budget).toBe(true);
    const show = await d.bc(['key', 'show', 'strict']);
    expect(show.stdout).toMatch(/near the end\s+refuse \(strict budget\)/);

    const refused = await chat(key.key, 'hello', 300);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('insufficient_quota');
    expect(refused.body.error?.message).toContain('strict budget');

    const off = await d.bc(['key', 'edit', 'strict', '--no-strict-budget', '--json']);
    expect(off.code, off.stderr).toBe(0);
    expect((JSON.parse(off.stdout) as KeyView).strict_budget).toBe(false);
    expect((await d.bc(['key', 'show', 'strict'])).stdout).toMatch(/near the end\s+lower the output limit/);
    const served = await chat(key.key, 'hello', 300);
    expect(served.status).toBe(200);
    // $0.02 less the prompt as reserved (its count with a margin, or a third of the body's bytes), at 10 micro-USD a token
    const counted = await countChatTokens({ messages: [{ role: 'user', content: 'hello' }] });
    const prompt = worstInput(counted, Buffer.byteLength(chatBody('hello', 300)));
    expect(served.limit).toBe(Math.floor((20_000 - prompt * IN) / OUT));

    const on = await d.bc(['key', 'edit', 'strict', '--strict-budget', '--json']);
    expect((JSON.parse(on.stdout) as KeyView).strict_budget).toBe(true);
    expect((await d.bc(['key', 'list', '--json'])).stdout).toContain('"strict_budget": true');
  });
});
