/**
 * A store that cannot write is the gateway's failure, never the upstream's (README, "Failure
 * guarantees"). The settlement journal is made immutable (`chattr +i`: root only, as CI runs;
 * the test fails, never skips, where that is impossible) behind three healthy channels:
 *  - the request that finds out makes exactly one upstream call, is not retried on the two other
 *    channels, cools no channel down and gets a clean 503 store_unavailable (or, in a stream that
 *    began, the protocol's in-stream error event) without the internal cause (EPERM);
 *  - from then on requests get 503 store_unavailable in their own protocol with no upstream call,
 *    /readyz and the status say why, and no key is charged in memory for what the store lacks;
 *  - once the journal is writable again the store's probe notices and requests are served and
 *    logged, and the key's spend equals the sum of its rows.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { ChannelView, KeyView, LogRow, StatusView } from '../../src/shared/control-api.js';

let gw: TestGateway;
let sims: OpenAISim[];
let key: string;
let journal: string;
let locked = false;

function chattr(flag: '+i' | '-i', file: string): void {
  try {
    execFileSync('chattr', [flag, file], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(
      `chattr ${flag} ${file} failed: this test needs root and a filesystem with the immutable flag ` +
        `(CI runs as root): ${(err as Error).message}`,
    );
  }
  locked = flag === '+i';
}

beforeEach(async () => {
  gw = await startGateway();
  sims = await Promise.all([startOpenAISim(), startOpenAISim(), startOpenAISim()]);
  for (const [i, s] of sims.entries()) {
    await gw.addChannel({
      name: `c${i}`,
      type: 'openai',
      keys: [`sk-c${i}-0000000000`],
      models: ['m'],
      base_url: s.url,
    });
  }
  await gw.call('PUT', '/v1/prices/m', { input: 10_000_000, output: 20_000_000 });
  key = await gw.createKey({ name: 'k', budget: 100_000_000 });
  journal = path.join(gw.home, 'burncloud.db-settle.jsonl');
});

afterEach(async () => {
  if (locked) chattr('-i', journal);
  await gw.close();
  await Promise.all(sims.map((s) => s.close()));
});

const upstreamCalls = (): number => sims.reduce((n, s) => n + s.callCount('/chat/completions'), 0);

interface Answer {
  status: number;
  text: string;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${gw.url}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

/** A stream's frames come 20 ms apart, so the answer has begun before the upstream ends it. */
const PACED = { metadata: { 'x-sim-deltas': '4', 'x-sim-pace-ms': '20' } };

const chat = (stream = false): Promise<Answer> =>
  post('/v1/chat/completions', {
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    stream,
    ...(stream ? PACED : {}),
  });

const anthropic = (stream = false): Promise<Answer> =>
  post(
    '/v1/messages',
    { model: 'm', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream },
    { 'anthropic-version': '2023-06-01' },
  );

const gemini = (): Promise<Answer> =>
  post('/v1beta/models/m:generateContent', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });

/** No internal detail of the failure reaches a client. */
function expectClean(a: Answer): void {
  expect(a.text).not.toMatch(/EPERM|ENOSPC|not permitted|settle\.jsonl|journal/i);
  expect(a.text).not.toContain(gw.home);
}

async function money(): Promise<{ store: number; memory: number; rows: number; rowCount: number }> {
  const k = (await gw.call<KeyView[]>('GET', '/v1/keys')).find((x) => x.name === 'k')!;
  const rows = await gw.call<LogRow[]>('GET', '/v1/logs?key=k&limit=1000');
  return {
    store: k.spent,
    memory: gw.services.gateway.ledger.spent(k.id),
    rows: rows.reduce((sum, r) => sum + (r.cost ?? 0), 0),
    rowCount: rows.length,
  };
}

async function expectNoCooldown(): Promise<void> {
  const channels = await gw.call<ChannelView[]>('GET', '/v1/channels');
  expect(channels.map((c) => c.cooldown_until)).toEqual([null, null, null]);
}

async function waitReady(ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await fetch(`${gw.url}/readyz`)).status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`/readyz still not ready after ${ms} ms`);
}

describe('a settlement the store cannot write', () => {
  it('is one upstream call, never retried, never a cooldown, a clean 503 and no charge', async () => {
    expect((await chat()).status).toBe(200);
    const before = await money();
    expect(before.store).toBeGreaterThan(0);
    expect(before.memory).toBe(before.store);
    const callsBefore = upstreamCalls();

    chattr('+i', journal);
    const failed = await chat();
    expect(failed.status).toBe(503);
    expect(JSON.parse(failed.text)).toMatchObject({
      error: { code: 'store_unavailable', type: 'api_error' },
    });
    expectClean(failed);
    // the upstream answered once; the two other channels were never asked
    expect(upstreamCalls() - callsBefore).toBe(1);
    await expectNoCooldown();

    // known to be failing: every protocol gets its own 503 and no upstream is called
    const [openaiStream, claude, google] = [await chat(true), await anthropic(), await gemini()];
    expect(openaiStream.status).toBe(503);
    expect(JSON.parse(openaiStream.text)).toMatchObject({ error: { code: 'store_unavailable' } });
    expect(claude.status).toBe(503);
    expect(JSON.parse(claude.text)).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(google.status).toBe(503);
    expect(JSON.parse(google.text)).toMatchObject({ error: { code: 503, status: 'UNAVAILABLE' } });
    for (const a of [openaiStream, claude, google]) expectClean(a);
    expect(upstreamCalls() - callsBefore).toBe(1);
    await expectNoCooldown();

    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'not_ready',
      reason: 'store_unavailable',
      detail: 'settlement journal: operation not permitted (EPERM)',
    });
    const status = await gw.call<StatusView>('GET', '/v1/status');
    expect(status.store_fault?.reason).toBe('settlement journal: operation not permitted (EPERM)');

    // nothing charged in memory that the store does not have
    const during = await money();
    expect(during).toEqual(before);

    chattr('-i', journal);
    await waitReady(3000);
    expect((await gw.call<StatusView>('GET', '/v1/status')).store_fault).toBeNull();
    expect((await chat()).status).toBe(200);
    expect((await anthropic()).status).toBe(200);
    const after = await money();
    expect(after.rowCount).toBe(before.rowCount + 2);
    expect(after.store).toBeGreaterThan(before.store);
    expect(after.store).toBe(after.rows);
    expect(after.memory).toBe(after.store);
  });

  it("ends an OpenAI stream that began with the protocol's error event, after one upstream call", async () => {
    expect((await chat()).status).toBe(200);
    const before = await money();
    const callsBefore = upstreamCalls();
    chattr('+i', journal);
    const a = await chat(true);
    // the answer had begun: a 200 whose last event is the store's error, never [DONE]
    expect(a.status).toBe(200);
    const frames = a.text.split('\n\n').filter((f) => f.startsWith('data: '));
    expect(frames.length).toBeGreaterThan(1);
    expect(JSON.parse(frames.at(-1)!.slice(6))).toMatchObject({ error: { code: 'store_unavailable' } });
    expect(a.text).not.toContain('[DONE]');
    expectClean(a);
    expect(upstreamCalls() - callsBefore).toBe(1);
    await expectNoCooldown();
    expect(await money()).toEqual(before);
  });

  it('ends a converted Anthropic stream with an error event, after one upstream call', async () => {
    expect((await chat()).status).toBe(200);
    const before = await money();
    const callsBefore = upstreamCalls();
    chattr('+i', journal);
    const a = await anthropic(true);
    expectClean(a);
    expect(upstreamCalls() - callsBefore).toBe(1);
    await expectNoCooldown();
    expect(await money()).toEqual(before);
    // converted frames go out as they come and settlement follows the upstream's end: begun
    expect(a.status).toBe(200);
    expect(a.text).toContain('event: message_start');
    expect(a.text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error"/);
    expect(a.text).not.toContain('message_stop');
  });
});
