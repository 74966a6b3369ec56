/**
 * Crash ordering, deterministically (SPEC section 7: a row is committed before the request counts
 * as done). The daemon runs with the test fault point `BC_TEST_FAULT_POINT=reply-end`, which
 * SIGKILLs it right before a successful answer's last bytes go to the client. Each kind of
 * answer (a JSON body, a filtered stream, a raw passthrough stream, a converted stream) is asked
 * once; the daemon dies, is started again, and the request's row must be there with its usage and
 * cost, and the key's spend must equal the rows. A reply written before its row was committed
 * loses the row here on every run, not one run in three.
 */
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openaiChannelArgs } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startAnthropicSim, type AnthropicSim } from '../support/sim/anthropic-sim.js';
import type { KeyCreated, KeyView, LogRow } from '../../src/shared/control-api.js';

let daemon: TestDaemon;
let sim: OpenAISim;
let anthropic: AnthropicSim;
let key: string;

beforeAll(async () => {
  sim = await startOpenAISim();
  anthropic = await startAnthropicSim();
  daemon = await startTestDaemon({ env: { BC_TEST_FAULT_POINT: 'reply-end' } });
  expect(
    (await daemon.bc(openaiChannelArgs('oa', 'sk-up-0000000000', 'm', '--base-url', sim.url))).code,
  ).toBe(0);
  const an = ['channel', 'add', '--name', 'an', '--type', 'anthropic', '--key', 'sk-ant-up-000000'];
  expect((await daemon.bc([...an, '--models', 'claude-m', '--base-url', anthropic.url])).code).toBe(0);
  for (const model of ['m', 'claude-m'])
    expect((await daemon.bc(['price', 'set', model, '--input', '3', '--output', '7'])).code).toBe(0);
  key = (JSON.parse((await daemon.bc(['key', 'create', '--name', 'crash', '--json'])).stdout) as KeyCreated)
    .key;
}, 90_000);

afterAll(async () => {
  await daemon?.cleanup();
  await sim?.close();
  await anthropic?.close();
});

/** One request to a gateway that dies answering it: resolves with what the client got. */
function ask(url: string, body: unknown): Promise<{ complete: boolean; text: string }> {
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    let text = '';
    req.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ complete: true, text }));
      res.on('error', () => resolve({ complete: false, text }));
    });
    req.on('error', () => resolve({ complete: false, text }));
    req.end(JSON.stringify(body));
  });
}

async function gatewayUrl(): Promise<string> {
  const st = JSON.parse((await daemon.bc(['status', '--json'])).stdout) as { listen: string };
  return `http://${st.listen}`;
}

const messages = [{ role: 'user', content: 'crash' }];

it.each([
  ['a JSON body', { model: 'm', messages }],
  ['a filtered stream', { model: 'm', messages, stream: true }],
  [
    'a raw passthrough stream',
    { model: 'm', messages, stream: true, stream_options: { include_usage: true } },
  ],
  ['a converted stream (OpenAI client, Anthropic channel)', { model: 'claude-m', messages, stream: true }],
])(
  '%s: the daemon dies before the last byte, and the row is there after a restart',
  async (_, body) => {
    const before = JSON.parse((await daemon.bc(['logs', '--json', '--limit', '100'])).stdout) as LogRow[];
    const answer = await ask(await gatewayUrl(), body);
    // the client never got a complete answer: the process died first
    expect(answer.complete && answer.text.includes('[DONE]')).toBe(false);
    const restarted = await daemon.bc(['start'], { timeoutMs: 60_000 });
    expect(restarted.code, restarted.stderr).toBe(0);
    const after = JSON.parse((await daemon.bc(['logs', '--json', '--limit', '100'])).stdout) as LogRow[];
    expect(after.length).toBe(before.length + 1);
    const row = after[0]!;
    expect(row).toMatchObject({ status: 200, error: null, model: body.model });
    expect(row.output_tokens).toBeGreaterThan(0);
    expect(row.cost).toBeGreaterThan(0);
    const k = JSON.parse((await daemon.bc(['key', 'show', 'crash', '--json'])).stdout) as KeyView;
    expect(k.spent).toBe(after.reduce((n, l) => n + (l.cost ?? 0), 0));
  },
  90_000,
);
