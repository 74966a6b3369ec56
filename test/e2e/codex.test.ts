/**
 * OpenAI's Codex CLI pointed at the gateway must work (SPEC section 5). The pinned `@openai/codex`
 * is installed once into a cache folder outside the repository; each run writes a throwaway
 * CODEX_HOME whose config.toml names one model provider at the gateway (`wire_api = "responses"`,
 * the gateway key read through `env_key`) and runs `codex exec --skip-git-repo-check "say hello"`
 * with no other flag: every feature Codex has on by default stays on. Codex sends its real request
 * to `/v1/responses`: its tools in an `additional_tools` item (a `functions` namespace holding the
 * free-form `exec` custom tool and functions, more namespaces for agents), `reasoning` with an
 * effort, `include: ["reasoning.encrypted_content"]`, `store: false`, `prompt_cache_key`,
 * `text.verbosity` and `client_metadata`.
 *
 * Three channel types serve it: `openai` (passthrough to the simulator's Responses API, which
 * answers with a reasoning item carrying encrypted content and a `custom_tool_call`), `anthropic`
 * and `gemini` (conversion by the Responses codec). The simulated model calls the first tool it
 * is offered and answers in text once a tool's output is the last item, so each run is one tool
 * round trip, and Codex must print the simulator's text and exit 0. A second run per channel sets
 * the channel's own model name, which Codex does not know: it then sends its fallback tool set
 * (`exec_command` and the others as top-level functions, a namespace, hosted web search).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { readFixtureJson } from '../support/fixtures.js';
import { startAnthropicSim } from '../support/sim/anthropic-sim.js';
import { startOpenAISim } from '../support/sim/openai-sim.js';
import { startGeminiSim } from '../support/sim/gemini-sim.js';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import type { SimCall } from '../support/sim/sim-common.js';
import { ensureCodex, runCodex, type CodexRun } from '../support/codex.js';
import type { ChannelInput, LogRow } from '../../src/shared/control-api.js';

type Json = Record<string, unknown>;

/** the model Codex 0.169.1 uses when config.toml names none */
const CODEX_DEFAULT_MODEL = 'gpt-6.2-sol';
const ANTHROPIC_TEXT = readFixtureJson<{ content: { text: string }[] }>(
  'anthropic/messages-nonstream-text.json',
).content[0]!.text;

let launcher: string;

beforeAll(async () => {
  launcher = await ensureCodex();
}, 600_000);

interface Sim {
  url: string;
  calls: SimCall[];
  close(): Promise<void>;
}

interface Setup {
  gw: TestGateway;
  sim: Sim;
  apiKey: string;
}

async function setUp(sim: Sim, channel: ChannelInput): Promise<Setup> {
  const gw = await startGateway();
  await gw.addChannel({ ...channel, base_url: sim.url });
  return { gw, sim, apiKey: await gw.createKey({ name: 'codex' }) };
}

/** One `codex exec` run; its upstream calls and its log rows. */
interface Turn {
  run: CodexRun;
  calls: SimCall[];
  rows: LogRow[];
}

async function codex(s: Setup, model?: string): Promise<Turn> {
  const before = s.sim.calls.length;
  const seen = Math.max(0, ...(await logRows(s.gw)).map((row) => row.id));
  const run = await runCodex(launcher, {
    baseUrl: s.gw.url,
    apiKey: s.apiKey,
    prompt: 'say hello',
    model,
    timeoutMs: 60_000,
  });
  const calls = s.sim.calls.slice(before);
  expect(run.code, explain(run, calls)).toBe(0);
  // a row is written when the gateway has finished the request, which may be just after Codex exits
  let rows: LogRow[] = [];
  for (let waited = 0; waited <= 3000; waited += 100) {
    rows = (await logRows(s.gw)).filter((row) => row.id > seen);
    if (rows.length >= calls.length) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { run, calls, rows };
}

async function logRows(gw: TestGateway): Promise<LogRow[]> {
  return gw.call<LogRow[]>('GET', '/v1/logs?limit=100');
}

const bodyOf = (c: SimCall): Json => JSON.parse(c.body.toString('utf8')) as Json;

function explain(r: CodexRun, calls: SimCall[]): string {
  return `${r.argv.join(' ')}\nexit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\ncalls: ${calls.map((c) => c.path).join(', ')}`;
}

/** Every upstream call of the run has its log row: 200, the upstream's own usage, a request id. */
function expectLogged(t: Turn, channel: string): void {
  expect(t.rows.length).toBe(t.calls.length);
  for (const row of t.rows) {
    expect(row).toMatchObject({ status: 200, channel, error: null, usage_estimated: false });
    expect(row.request_id).toMatch(/^req_[0-9a-f]+$/);
    expect(row.input_tokens).toBeGreaterThan(0);
    expect(row.output_tokens).toBeGreaterThan(0);
  }
}

/** Input items of the Responses requests the simulator received. */
function items(c: SimCall): Json[] {
  return bodyOf(c).input as Json[];
}

describe('Codex -> gateway -> openai channel (passthrough)', () => {
  let s: Setup;

  beforeAll(async () => {
    s = await setUp(await startOpenAISim({ keys: ['sk-oa-upstream'] }), {
      name: 'openai',
      type: 'openai',
      keys: ['sk-oa-upstream'],
      models: [CODEX_DEFAULT_MODEL, 'gpt-5-nano'],
    });
  });

  afterAll(async () => {
    await s?.gw.close();
    await s?.sim.close();
  });

  it('its defaults: one custom exec round trip, encrypted reasoning sent back, the simulator text printed', async () => {
    const t = await codex(s);
    expect(t.run.stdout.trim()).toBe(DEFAULT_SIM_TEXT);

    const calls = t.calls;
    expect(calls.map((c) => c.path)).toEqual(['/v1/responses', '/v1/responses']);
    const first = bodyOf(calls[0]!);
    expect(first).toMatchObject({
      model: CODEX_DEFAULT_MODEL,
      stream: true,
      store: false,
      include: ['reasoning.encrypted_content'],
    });
    expect((first.reasoning as Json).effort).toEqual(expect.any(String));
    expect(first.prompt_cache_key).toEqual(expect.any(String));
    expect(first).toHaveProperty('client_metadata');
    const offered = items(calls[0]!).find((i) => i.type === 'additional_tools')?.tools as Json[];
    const fns = offered.find((t) => t.type === 'namespace' && t.name === 'functions')?.tools as Json[];
    expect(fns[0]).toMatchObject({ type: 'custom', name: 'exec' });
    expect(calls[0]!.headers.authorization).toBe('Bearer sk-oa-upstream');

    // the next request replays the answer: the simulator's encrypted reasoning (it refuses any it
    // did not issue), the custom call with its namespace, and Codex's output for it
    const replay = items(calls[1]!);
    expect(replay.find((i) => i.type === 'reasoning')?.encrypted_content).toMatch(/^gAAAAAB/);
    const call = replay.find((i) => i.type === 'custom_tool_call');
    expect(call).toMatchObject({ name: 'exec', namespace: 'functions', input: 'sim-input' });
    expect(replay.at(-1)).toMatchObject({ type: 'custom_tool_call_output', call_id: call?.call_id });

    expectLogged(t, 'openai');
    expect(t.rows.every((row) => row.reasoning_tokens > 0 && row.dropped_fields.length === 0)).toBe(true);
  }, 90_000);

  it('a model Codex does not know: its fallback tools, one exec_command round trip', async () => {
    const t = await codex(s, 'gpt-5-nano');
    expect(t.run.stdout.trim()).toBe(DEFAULT_SIM_TEXT);
    const calls = t.calls;
    expect(calls.length).toBe(2);
    const tools = bodyOf(calls[0]!).tools as Json[];
    expect(tools[0]).toMatchObject({ type: 'function', name: 'exec_command' });
    expect(tools.some((t) => t.type === 'web_search')).toBe(true);
    const replay = items(calls[1]!);
    const call = replay.find((i) => i.type === 'function_call');
    expect(call).toMatchObject({ name: 'exec_command' });
    expect(replay.at(-1)).toMatchObject({ type: 'function_call_output', call_id: call?.call_id });
    expectLogged(t, 'openai');
  }, 90_000);
});

/** Codex ran the simulator's `sim-input` as JavaScript: it got a custom call with the raw input. */
const RAN_EXEC = 'ReferenceError: sim is not defined';
/** Codex ran the simulator's `sim-cmd` in a shell: it got the exec_command call. */
const RAN_COMMAND = 'sim-cmd: command not found';

describe('Codex -> gateway -> anthropic channel (converted)', () => {
  let s: Setup;

  beforeAll(async () => {
    s = await setUp(await startAnthropicSim({ apiKey: 'sk-ant-upstream' }), {
      name: 'anthropic',
      type: 'anthropic',
      keys: ['sk-ant-upstream'],
      models: ['claude-sonnet-4-5'],
      map: { [CODEX_DEFAULT_MODEL]: 'claude-sonnet-4-5' },
    });
  });

  afterAll(async () => {
    await s?.gw.close();
    await s?.sim.close();
  });

  /** The tool call of the last request and the result Codex sent for it. */
  function roundTrip(t: Turn): { use: Json | undefined; result: Json | undefined } {
    const messages = bodyOf(t.calls.at(-1)!).messages as { content: Json[] | string }[];
    const blocks = messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []));
    const use = blocks.find((b) => b.type === 'tool_use');
    return { use, result: blocks.find((b) => b.type === 'tool_result' && b.tool_use_id === use?.id) };
  }

  it('its defaults: the namespaced custom exec tool round trip, the simulator text printed', async () => {
    const t = await codex(s);
    expect(t.run.stdout.trim()).toBe(ANTHROPIC_TEXT);
    expect(t.calls.length).toBe(2);
    const first = bodyOf(t.calls[0]!);
    expect(first.system).toBeDefined();
    expect(first.thinking).toMatchObject({ type: 'enabled' });
    // the additional_tools item's namespaces, flattened; the custom tool takes one string
    const tools = first.tools as { name: string; description?: string; input_schema: Json }[];
    expect(tools[0]).toMatchObject({
      name: 'functions__exec',
      input_schema: { properties: { input: { type: 'string' } }, required: ['input'] },
    });
    expect(tools[0]!.description).toContain('lark grammar');
    expect(tools.map((x) => x.name)).toContain('collaboration__spawn_agent');

    const { use, result } = roundTrip(t);
    expect(use).toMatchObject({ name: 'functions__exec', input: { input: 'sim-input' } });
    expect(JSON.stringify(result?.content)).toContain(RAN_EXEC);

    expectLogged(t, 'anthropic');
    for (const row of t.rows)
      expect(row.dropped_fields).toEqual(expect.arrayContaining(['client_metadata', 'text.verbosity']));
  }, 90_000);

  it('a model Codex does not know: its fallback tools, one exec_command round trip', async () => {
    const t = await codex(s, 'claude-sonnet-4-5');
    expect(t.run.stdout.trim()).toBe(ANTHROPIC_TEXT);
    expect(t.calls.length).toBe(2);
    const { use, result } = roundTrip(t);
    expect(use).toMatchObject({ name: 'exec_command' });
    expect(JSON.stringify(result?.content)).toContain(RAN_COMMAND);
    expectLogged(t, 'anthropic');
    for (const row of t.rows) expect(row.dropped_fields).toContain('tools.web_search');
  }, 90_000);
});

describe('Codex -> gateway -> gemini channel (converted)', () => {
  let s: Setup;

  beforeAll(async () => {
    s = await setUp(await startGeminiSim(), {
      name: 'gemini',
      type: 'gemini',
      keys: ['gemini-upstream-key'],
      models: ['gemini-2.5-pro'],
      map: { [CODEX_DEFAULT_MODEL]: 'gemini-2.5-pro' },
    });
  });

  afterAll(async () => {
    await s?.gw.close();
    await s?.sim.close();
  });

  function roundTrip(t: Turn): { call: Json | undefined; response: Json | undefined } {
    const contents = bodyOf(t.calls.at(-1)!).contents as { parts: Json[] }[];
    const parts = contents.flatMap((c) => c.parts);
    const call = parts.find((p) => p.functionCall)?.functionCall as Json | undefined;
    const response = parts.find((p) => (p.functionResponse as Json | undefined)?.name === call?.name);
    return { call, response: response?.functionResponse as Json | undefined };
  }

  it('its defaults: the namespaced custom exec tool round trip, the simulator text printed', async () => {
    const t = await codex(s);
    expect(t.run.stdout.trim()).toBe(DEFAULT_SIM_TEXT);
    expect(t.calls.length).toBe(2);
    const first = bodyOf(t.calls[0]!);
    const decls = (first.tools as { functionDeclarations: Json[] }[]).flatMap((x) => x.functionDeclarations);
    expect(decls[0]).toMatchObject({
      name: 'functions__exec',
      parameters: { properties: { input: { type: 'string' } } },
    });
    expect(first.generationConfig).toMatchObject({ thinkingConfig: { includeThoughts: true } });

    const { call, response } = roundTrip(t);
    expect(call).toMatchObject({ name: 'functions__exec', args: { input: 'sim-input' } });
    expect(JSON.stringify(response)).toContain(RAN_EXEC);

    expectLogged(t, 'gemini');
    for (const row of t.rows)
      expect(row.dropped_fields).toEqual(expect.arrayContaining(['client_metadata', 'text.verbosity']));
  }, 90_000);

  it('a model Codex does not know: its fallback tools, one exec_command round trip', async () => {
    const t = await codex(s, 'gemini-2.5-pro');
    expect(t.run.stdout.trim()).toBe(DEFAULT_SIM_TEXT);
    expect(t.calls.length).toBe(2);
    const { call, response } = roundTrip(t);
    expect(call).toMatchObject({ name: 'exec_command' });
    expect(JSON.stringify(response)).toContain(RAN_COMMAND);
    expectLogged(t, 'gemini');
    for (const row of t.rows) expect(row.dropped_fields).toContain('tools.web_search');
  }, 90_000);
});
