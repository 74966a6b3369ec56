/**
 * Claude Code pointed at the gateway must work as its users run it (SPEC section 5): the pinned
 * `@anthropic-ai/claude-code` (installed once into a cache folder outside the repository) runs
 * `claude -p` with nothing but ANTHROPIC_BASE_URL, a gateway key and a model, all its default tools
 * on, in print mode and with `--output-format stream-json`, through an `anthropic` channel (byte
 * passthrough) and `openai`, `gemini` and `bedrock` channels (conversion both ways). Its real
 * traffic carries what current clients send: mid-conversation system messages, adaptive thinking
 * with `output_config.effort`, context_management, `max_tokens: 64000`, eight beta headers and the
 * default model `claude-opus-4-8`. The simulated model calls the first tool it is offered (the
 * Agent tool), the sub-agent that starts answers its task in text, and the main conversation
 * answers the tool result in text: a tool round trip and a sub-agent, then the simulator's text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { readFixtureJson } from '../support/fixtures.js';
import { startAnthropicSim } from '../support/sim/anthropic-sim.js';
import { startOpenAISim } from '../support/sim/openai-sim.js';
import { startGeminiSim } from '../support/sim/gemini-sim.js';
import { BEDROCK_SIM_CREDENTIALS, startBedrockSim } from '../support/sim/bedrock-sim.js';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import { DEFAULT_BEDROCK_SIM_TEXT } from '../support/sim/bedrock-sim-answers.js';
import type { SimCall } from '../support/sim/sim-common.js';
import { ensureClaudeCode, runClaude, type ClaudeRun } from '../support/claude-code.js';
import type { ChannelInput, LogRow } from '../../src/shared/control-api.js';

type Json = Record<string, unknown>;

/** Claude Code's default model, and the one it uses for side requests, pinned so channels serve it */
const MODEL = 'claude-opus-4-8';
const SMALL_MODEL = 'claude-haiku-4-5';
const ANTHROPIC_TEXT = readFixtureJson<{ content: { text: string }[] }>(
  'anthropic/messages-nonstream-text.json',
).content[0]!.text;

let bin: string;

beforeAll(async () => {
  bin = await ensureClaudeCode();
}, 600_000);

const bodyOf = (c: SimCall): Json => JSON.parse(c.body.toString('utf8')) as Json;

function explain(r: ClaudeRun, calls: SimCall[]): string {
  return `exit ${r.code}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}\ncalls: ${calls.length}`;
}

/** The final answer of a `--output-format stream-json` run: its `result` event. */
function streamJsonResult(stdout: string): Json | undefined {
  const events = stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Json);
  return events.find((e) => e.type === 'result');
}

interface Case {
  name: string;
  text: string;
  start(): Promise<{ url: string; calls: SimCall[]; close(): Promise<void>; channel: Partial<ChannelInput> }>;
  /** the sim calls that are the model's turns */
  isTurn(c: SimCall): boolean;
  /** whether a turn's body holds a user text equal to `text` (the sub-agent's task) */
  hasUserText(body: Json, text: string): boolean;
  /** what the first turn of this channel type must show of Claude Code's request */
  checkFirst(body: Json, call: SimCall): void;
}

const anthropicUserText = (b: Json, text: string): boolean =>
  (b.messages as { role: string; content: unknown }[]).some(
    (m) =>
      m.role === 'user' && Array.isArray(m.content) && (m.content as Json[]).some((p) => p.text === text),
  );

const CASES: Case[] = [
  {
    name: 'anthropic (passthrough)',
    text: ANTHROPIC_TEXT,
    async start() {
      const sim = await startAnthropicSim({ apiKey: 'sk-ant-upstream' });
      return {
        ...sim,
        channel: { type: 'anthropic', keys: ['sk-ant-upstream'], models: [MODEL, SMALL_MODEL] },
      };
    },
    isTurn: (c) => c.path === '/v1/messages',
    hasUserText: anthropicUserText,
    checkFirst(first, call) {
      // passthrough: what only Anthropic understands arrives untouched, with Claude Code's betas
      expect((first.messages as Json[]).map((m) => m.role)).toContain('system');
      expect(first).toMatchObject({ model: MODEL, max_tokens: 64000, thinking: { type: 'adaptive' } });
      expect(first).toHaveProperty('context_management');
      expect(first).toHaveProperty('output_config.effort');
      expect(String(call.headers['anthropic-beta'])).toContain('mid-conversation-system-');
      expect(call.headers['x-api-key']).toBe('sk-ant-upstream');
    },
  },
  {
    name: 'openai (converted)',
    text: DEFAULT_SIM_TEXT,
    async start() {
      const sim = await startOpenAISim();
      const map = { [MODEL]: 'gpt-4o', [SMALL_MODEL]: 'gpt-4o-mini' };
      return {
        ...sim,
        channel: { type: 'openai', keys: ['sk-oa-upstream'], models: ['gpt-4o', 'gpt-4o-mini'], map },
      };
    },
    isTurn: (c) => c.path === '/v1/chat/completions',
    hasUserText: (b, text) =>
      (b.messages as Json[]).some(
        (m) =>
          m.role === 'user' &&
          (m.content === text ||
            (Array.isArray(m.content) && (m.content as Json[]).some((p) => p.text === text))),
      ),
    checkFirst(first) {
      expect(first).toMatchObject({ model: 'gpt-4o', stream: true, reasoning_effort: 'high' });
      const roles = (first.messages as Json[]).map((m) => m.role);
      // the top-level system first, the mid-conversation one at its point after the user turn
      expect(roles[0]).toBe('system');
      expect(roles.lastIndexOf('system')).toBeGreaterThan(roles.indexOf('user'));
      expect(String(first.user).length).toBeLessThanOrEqual(64);
    },
  },
  {
    name: 'gemini (converted)',
    text: DEFAULT_SIM_TEXT,
    async start() {
      const sim = await startGeminiSim();
      const map = { [MODEL]: 'gemini-2.5-pro', [SMALL_MODEL]: 'gemini-2.5-flash' };
      return {
        ...sim,
        channel: {
          type: 'gemini',
          keys: ['gemini-upstream-key'],
          models: ['gemini-2.5-pro', 'gemini-2.5-flash'],
          map,
        },
      };
    },
    isTurn: (c) => /\/models\/gemini-2\.5-(pro|flash):/.test(c.path),
    hasUserText: (b, text) =>
      (b.contents as { role: string; parts: Json[] }[]).some(
        (c) => c.role === 'user' && c.parts.some((p) => p.text === text),
      ),
    checkFirst(first) {
      const decls = (first.tools as { functionDeclarations: Json[] }[]).flatMap(
        (t) => t.functionDeclarations,
      );
      expect(decls.map((d) => d.name)).toContain('Agent');
      // Claude Code's JSON Schemas reach Gemini as its OpenAPI subset: no keys it would refuse
      expect(JSON.stringify(decls.map((d) => d.parameters))).not.toMatch(
        /"\$schema"|"additionalProperties"|"propertyNames"|"exclusiveMinimum"/,
      );
      // the mid-conversation system message joined the system instruction
      expect(JSON.stringify(first.systemInstruction)).toContain('Available agent types');
      expect((first.contents as Json[]).every((c) => c.role === 'user' || c.role === 'model')).toBe(true);
    },
  },
  {
    name: 'bedrock (converted)',
    text: DEFAULT_BEDROCK_SIM_TEXT,
    async start() {
      const sim = await startBedrockSim();
      const upstream = 'us.anthropic.claude-opus-4-8-v1';
      const small = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
      const keys = [`${BEDROCK_SIM_CREDENTIALS.accessKeyId}:${BEDROCK_SIM_CREDENTIALS.secretAccessKey}`];
      return {
        ...sim,
        channel: {
          type: 'bedrock',
          keys,
          region: sim.region,
          models: [upstream, small],
          map: { [MODEL]: upstream, [SMALL_MODEL]: small },
        },
      };
    },
    isTurn: (c) => /\/model\/.+\/converse(-stream)?$/.test(c.path),
    hasUserText: (b, text) =>
      (b.messages as { role: string; content: Json[] }[]).some(
        (m) => m.role === 'user' && m.content.some((p) => p.text === text),
      ),
    checkFirst(first) {
      expect(JSON.stringify(first.system)).toContain('Available agent types');
      expect((first.messages as Json[]).every((m) => m.role === 'user' || m.role === 'assistant')).toBe(true);
      // Claude 4.8 on Bedrock thinks adaptively, with Claude Code's effort
      expect(first.additionalModelRequestFields).toMatchObject({
        thinking: { type: 'adaptive' },
        output_config: { effort: 'high' },
      });
    },
  },
];

describe.each(CASES)('Claude Code -> gateway -> $name', (c) => {
  let gw: TestGateway;
  let sim: Awaited<ReturnType<Case['start']>>;
  let key: string;

  beforeAll(async () => {
    sim = await c.start();
    gw = await startGateway();
    await gw.addChannel({ name: 'upstream', base_url: sim.url, ...sim.channel });
    key = await gw.createKey({ name: 'claude-code' });
  });

  afterAll(async () => {
    await gw?.close();
    await sim?.close();
  });

  const run = (args: string[] = []): Promise<ClaudeRun> =>
    runClaude(bin, {
      baseUrl: gw.url,
      apiKey: key,
      model: MODEL,
      prompt: 'say hello',
      args,
      env: { ANTHROPIC_DEFAULT_HAIKU_MODEL: SMALL_MODEL },
      timeoutMs: 90_000,
    });

  async function checkTraffic(from: number): Promise<void> {
    const calls = sim.calls.slice(from);
    const turns = calls.filter((x) => c.isTurn(x));
    expect(turns.length).toBeGreaterThanOrEqual(3);
    const main = turns.find((x) => c.hasUserText(bodyOf(x), 'say hello'));
    expect(main, 'a turn carrying the prompt').toBeDefined();
    c.checkFirst(bodyOf(main!), main!);
    // the Agent tool was on and used: a sub-agent ran the task the simulated model gave it
    expect(turns.some((x) => c.hasUserText(bodyOf(x), 'sim-prompt'))).toBe(true);

    const rows = (await gw.call<LogRow[]>('GET', '/v1/logs?limit=500')).slice(0, calls.length);
    expect(rows.length).toBe(calls.length);
    // a passthrough carries context_management unchanged; a conversion drops it and says so
    const named = rows.filter((r) => r.dropped_fields.includes('context_management')).length;
    if (c.name.includes('passthrough')) expect(rows.every((r) => r.dropped_fields.length === 0)).toBe(true);
    else expect(named).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row).toMatchObject({ status: 200, channel: 'upstream', error: null, usage_estimated: false });
      expect(row.output_tokens).toBeGreaterThan(0);
      // today's models are priced: every row carries a cost
      expect(row.cost).toBeGreaterThan(0);
    }
  }

  it('print mode: exits 0 with the simulator text after a sub-agent and a tool round trip', async () => {
    const from = sim.calls.length;
    const r = await run();
    expect(r.code, explain(r, sim.calls)).toBe(0);
    expect(r.stdout.trim()).toBe(c.text);
    await checkTraffic(from);
  }, 120_000);

  it('--output-format stream-json: the result event holds the simulator text', async () => {
    const from = sim.calls.length;
    const r = await run(['--output-format', 'stream-json', '--verbose']);
    expect(r.code, explain(r, sim.calls)).toBe(0);
    expect(streamJsonResult(r.stdout), r.stdout.slice(-2000)).toMatchObject({
      subtype: 'success',
      is_error: false,
      result: c.text,
    });
    await checkTraffic(from);
  }, 120_000);
});
