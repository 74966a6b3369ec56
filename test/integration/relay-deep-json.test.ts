/**
 * Bodies nested absurdly deep: a tool schema 9,000 levels deep parses (JSON.parse takes any
 * depth) but would overflow the stack in the gateway's own recursive walks (token counting
 * serialises the tools, the codecs convert them): it must get a 400 that names the field, on every
 * front, before anything is sent upstream. A schema exactly as deep as the cap allows (far deeper
 * than real tools go) is served, through passthrough and through conversion alike: the cap sits
 * below where any of the gateway's own walks would overflow; one level more is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { MAX_JSON_DEPTH } from '../../src/daemon/gateway/intake/json-depth.js';

let gw: TestGateway;
let sim: OpenAISim;
let budgeted: string;
let plain: string;

beforeAll(async () => {
  sim = await startOpenAISim();
  gw = await startGateway();
  await gw.addChannel({
    name: 'sim',
    type: 'openai',
    keys: ['sk-up-000000000000'],
    models: ['gpt-4o-mini'],
    base_url: sim.url,
  });
  await gw.call('PUT', '/v1/prices/gpt-4o-mini', { input: 150_000, output: 600_000 });
  // a budget makes the gateway count the prompt's tokens, tools included, before relaying
  budgeted = await gw.createKey({ name: 'budgeted', budget: 10_000_000 });
  plain = await gw.createKey({ name: 'plain' });
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

/**
 * A JSON schema whose `properties.child` nests `levels` schemas deep, as text: JSON.stringify
 * itself would overflow the test's stack at these depths.
 */
function nestedSchema(levels: number): string {
  return '{"type":"object","properties":{"child":'.repeat(levels) + '{"type":"string"}' + '}}'.repeat(levels);
}

function openaiBody(levels: number): string {
  const tools = `[{"type":"function","function":{"name":"deep","parameters":${nestedSchema(levels)}}}]`;
  return `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"use the tool"}],"tools":${tools}}`;
}

function anthropicBody(levels: number): string {
  const tools = `[{"name":"deep","input_schema":${nestedSchema(levels)}}]`;
  return `{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":"use the tool"}],"tools":${tools}}`;
}

function geminiBody(levels: number): string {
  const tools = `[{"functionDeclarations":[{"name":"deep","parameters":${nestedSchema(levels)}}]}]`;
  return `{"contents":[{"role":"user","parts":[{"text":"use the tool"}]}],"tools":${tools}}`;
}

/**
 * Each front's body puts the outermost schema at `base` levels (the body itself is level 1), and
 * every schema level adds two (the schema, its `properties`).
 */
const FRONTS = [
  {
    front: 'OpenAI',
    path: '/v1/chat/completions',
    base: 5,
    body: openaiBody,
    auth: (k: string) => ({ authorization: `Bearer ${k}` }),
  },
  {
    front: 'Anthropic',
    path: '/v1/messages',
    base: 4,
    body: anthropicBody,
    auth: (k: string) => ({ 'x-api-key': k }),
  },
  {
    front: 'Gemini',
    path: '/v1beta/models/gpt-4o-mini:generateContent',
    base: 6,
    body: geminiBody,
    auth: (k: string) => ({ 'x-goog-api-key': k }),
  },
];

async function post(
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, text: await res.text() };
}

describe('deeply nested bodies', () => {
  for (const f of FRONTS) {
    it(`a tool schema 9,000 levels deep gets a 400 naming the field (${f.front} front)`, async () => {
      const calls = sim.callCount();
      for (const key of [budgeted, plain]) {
        const r = await post(f.path, f.auth(key), f.body(9000));
        expect(r.status, r.text.slice(0, 300)).toBe(400);
        expect(r.text).toContain('tools[0]');
        expect(r.text).toContain(`nested more than ${MAX_JSON_DEPTH} levels deep`);
      }
      expect(sim.callCount()).toBe(calls);
    });

    it(`a schema as deep as the cap allows is served, one level more is refused (${f.front} front)`, async () => {
      // the string schema innermost sits at base + 2 * levels
      const levels = Math.floor((MAX_JSON_DEPTH - f.base) / 2);
      for (const key of [budgeted, plain]) {
        const r = await post(f.path, f.auth(key), f.body(levels));
        expect(r.status, r.text.slice(0, 300)).toBe(200);
        const over = await post(f.path, f.auth(key), f.body(levels + 1));
        expect(over.status, over.text.slice(0, 300)).toBe(400);
      }
    });
  }

  it('OpenAI errors name the top-level field in `param`', async () => {
    const r = await post('/v1/chat/completions', { authorization: `Bearer ${budgeted}` }, openaiBody(9000));
    const body = JSON.parse(r.text) as { error: { param: string; message: string } };
    expect(body.error.param).toBe('tools');
    expect(body.error.message).toMatch(/^tools\[0\]\.function\.parameters\.properties\.child/);
  });
});
