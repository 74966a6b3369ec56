/**
 * Claude Code pointed at the gateway must work (SPEC section 5). The pinned `@anthropic-ai/claude-code`
 * is installed once into a cache folder outside the repository, then `claude -p "say hi"` runs
 * with ANTHROPIC_BASE_URL at an in-process gateway, a gateway key, a throwaway HOME and no
 * telemetry, three times: against an `anthropic` channel (byte passthrough), and against an
 * `openai` and a `gemini` channel (conversion both ways). Claude Code sends its real request — a long system prompt,
 * two dozen tools with rich schemas, extended thinking, context_management, a ~150-character
 * metadata.user_id and beta headers — and the simulated model, which calls the first tool it is
 * offered, makes it run one tool round trip before answering in text. The Agent tool is turned off
 * because a simulated model would spawn sub-agents that call it again, without end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { readFixtureJson } from '../support/fixtures.js';
import { startAnthropicSim, type AnthropicSim } from '../support/sim/anthropic-sim.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startGeminiSim, type GeminiSim } from '../support/sim/gemini-sim.js';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import type { SimCall } from '../support/sim/sim-common.js';
import { ensureClaudeCode, runClaude, type ClaudeRun } from '../support/claude-code.js';
import type { LogRow } from '../../src/shared/control-api.js';

type Json = Record<string, unknown>;

const MODEL = 'claude-sonnet-4-5';
/** the model Claude Code uses for side requests, pinned so the channel serves it */
const SMALL_MODEL = 'claude-haiku-4-5';
const ANTHROPIC_TEXT = readFixtureJson<{ content: { text: string }[] }>(
  'anthropic/messages-nonstream-text.json',
).content[0]!.text;

let bin: string;

beforeAll(async () => {
  bin = await ensureClaudeCode();
}, 600_000);

async function run(gw: TestGateway): Promise<ClaudeRun> {
  return runClaude(bin, {
    baseUrl: gw.url,
    apiKey: await gw.createKey({ name: 'claude-code' }),
    model: MODEL,
    prompt: 'say hi',
    args: ['--disallowedTools', 'Agent'],
    env: { ANTHROPIC_DEFAULT_HAIKU_MODEL: SMALL_MODEL, ANTHROPIC_SMALL_FAST_MODEL: SMALL_MODEL },
    timeoutMs: 90_000,
  });
}

const bodyOf = (c: SimCall): Json => JSON.parse(c.body.toString('utf8')) as Json;

async function logs(gw: TestGateway): Promise<LogRow[]> {
  return gw.call<LogRow[]>('GET', '/v1/logs?limit=100');
}

function explain(r: ClaudeRun, calls: SimCall[]): string {
  return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\ncalls: ${calls.map((c) => c.path).join(', ')}`;
}

describe('Claude Code -> gateway -> anthropic channel (passthrough)', () => {
  let gw: TestGateway;
  let sim: AnthropicSim;

  beforeAll(async () => {
    sim = await startAnthropicSim({ apiKey: 'sk-ant-upstream' });
    gw = await startGateway();
    await gw.addChannel({
      name: 'anthropic',
      type: 'anthropic',
      keys: ['sk-ant-upstream'],
      models: [MODEL, SMALL_MODEL],
      base_url: sim.url,
    });
  });

  afterAll(async () => {
    await gw?.close();
    await sim?.close();
  });

  it('exits 0 and prints the simulator text after one tool round trip', async () => {
    const r = await run(gw);
    expect(r.code, explain(r, sim.calls)).toBe(0);
    expect(r.stdout.trim()).toBe(ANTHROPIC_TEXT);

    const chats = sim.calls.filter((c) => c.path === '/v1/messages');
    expect(chats.length).toBeGreaterThanOrEqual(2);
    const first = bodyOf(chats[0]!);
    expect((first.tools as Json[]).map((t) => t.name)).toContain('Bash');
    expect(first.thinking).toMatchObject({ type: 'enabled' });
    // passthrough: fields only Anthropic understands arrive untouched, with Claude Code's betas
    expect(first).toHaveProperty('context_management');
    expect(String(chats[0]!.headers['anthropic-beta'])).toContain('claude-code-');
    expect(chats[0]!.headers['x-api-key']).toBe('sk-ant-upstream');

    const last = bodyOf(chats.at(-1)!);
    const messages = last.messages as { role: string; content: Json[] | string }[];
    const uses = messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []));
    const use = uses.find((b) => b.type === 'tool_use');
    expect(use).toBeDefined();
    expect(uses.some((b) => b.type === 'tool_result' && b.tool_use_id === use?.id)).toBe(true);

    const rows = await logs(gw);
    expect(rows.length).toBe(sim.calls.length);
    for (const row of rows) expect(row).toMatchObject({ status: 200, channel: 'anthropic', error: null });
    expect(rows.every((row) => row.output_tokens > 0)).toBe(true);
  }, 120_000);
});

describe('Claude Code -> gateway -> openai channel (converted)', () => {
  let gw: TestGateway;
  let sim: OpenAISim;

  beforeAll(async () => {
    sim = await startOpenAISim();
    gw = await startGateway();
    await gw.addChannel({
      name: 'openai',
      type: 'openai',
      keys: ['sk-oa-upstream'],
      models: ['gpt-4o', 'gpt-4o-mini'],
      map: { [MODEL]: 'gpt-4o', [SMALL_MODEL]: 'gpt-4o-mini' },
      base_url: sim.url,
    });
  });

  afterAll(async () => {
    await gw?.close();
    await sim?.close();
  });

  it('exits 0 and prints the simulator text after one tool round trip', async () => {
    const r = await run(gw);
    expect(r.code, explain(r, sim.calls)).toBe(0);
    expect(r.stdout.trim()).toBe(DEFAULT_SIM_TEXT);

    const chats = sim.calls.filter((c) => c.path === '/v1/chat/completions');
    expect(chats.length).toBeGreaterThanOrEqual(2);
    const first = bodyOf(chats[0]!);
    expect(first.model).toBe('gpt-4o');
    expect(first.stream).toBe(true);
    const tools = first.tools as { function: { name: string; parameters?: unknown } }[];
    expect(tools.map((t) => t.function.name)).toContain('Bash');
    expect(tools.every((t) => typeof t.function.parameters === 'object')).toBe(true);
    expect((first.messages as Json[])[0]).toMatchObject({ role: 'system' });
    // OpenAI caps `user` at 64 characters; Claude Code's metadata.user_id is longer
    expect(String(first.user).length).toBeLessThanOrEqual(64);

    const messages = bodyOf(chats.at(-1)!).messages as Json[];
    const call = messages.flatMap((m) => (m.tool_calls as Json[] | undefined) ?? [])[0];
    expect(call).toBeDefined();
    expect(messages.some((m) => m.role === 'tool' && m.tool_call_id === call?.id)).toBe(true);

    const rows = await logs(gw);
    expect(rows.length).toBe(sim.calls.length);
    for (const row of rows) expect(row).toMatchObject({ status: 200, channel: 'openai', error: null });
    expect(rows.every((row) => row.output_tokens > 0 && !row.usage_estimated)).toBe(true);
    expect(rows.some((row) => row.dropped_fields.includes('context_management'))).toBe(true);
  }, 120_000);
});

describe('Claude Code -> gateway -> gemini channel (converted)', () => {
  let gw: TestGateway;
  let sim: GeminiSim;

  beforeAll(async () => {
    sim = await startGeminiSim();
    gw = await startGateway();
    await gw.addChannel({
      name: 'gemini',
      type: 'gemini',
      keys: ['gemini-upstream-key'],
      models: ['gemini-2.5-pro', 'gemini-2.5-flash'],
      map: { [MODEL]: 'gemini-2.5-pro', [SMALL_MODEL]: 'gemini-2.5-flash' },
      base_url: sim.url,
    });
  });

  afterAll(async () => {
    await gw?.close();
    await sim?.close();
  });

  it('exits 0 and prints the simulator text after one tool round trip', async () => {
    const r = await run(gw);
    expect(r.code, explain(r, sim.calls)).toBe(0);
    expect(r.stdout.trim()).toBe(DEFAULT_SIM_TEXT);

    const chats = sim.calls.filter((c) => c.path.includes('/models/gemini-2.5-pro:'));
    expect(chats.length).toBeGreaterThanOrEqual(2);
    const first = bodyOf(chats[0]!);
    const decls = (first.tools as { functionDeclarations: Json[] }[]).flatMap((t) => t.functionDeclarations);
    expect(decls.map((d) => d.name)).toContain('Bash');
    // Claude Code's JSON Schemas reach Gemini as its OpenAPI subset: no keys it would refuse
    const schemas = JSON.stringify(decls.map((d) => d.parameters));
    expect(schemas).not.toMatch(/"\$schema"|"additionalProperties"|"propertyNames"|"exclusiveMinimum"/);
    expect(first.systemInstruction).toBeDefined();

    const contents = bodyOf(chats.at(-1)!).contents as { role: string; parts: Json[] }[];
    const parts = contents.flatMap((c) => c.parts);
    const call = parts.find((p) => p.functionCall)?.functionCall as Json | undefined;
    expect(call).toBeDefined();
    expect(parts.some((p) => (p.functionResponse as Json | undefined)?.name === call?.name)).toBe(true);

    const rows = await logs(gw);
    expect(rows.length).toBe(sim.calls.length);
    for (const row of rows) expect(row).toMatchObject({ status: 200, channel: 'gemini', error: null });
    expect(rows.every((row) => row.output_tokens > 0 && !row.usage_estimated)).toBe(true);
  }, 120_000);
});
