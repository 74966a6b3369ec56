/**
 * The OpenAI simulator's Responses API as Codex uses it, checked with the official client's
 * stream helper (which rebuilds the Response from the events and throws on one it cannot place)
 * and with raw requests for the refusals: tools offered in an `additional_tools` item, a
 * reasoning item with encrypted content first, a custom tool called with its namespace, text
 * once the tool's output is the last item, and OpenAI's 400/404 for an orphan tool output,
 * encrypted reasoning it did not issue and a stored-only reasoning item with `store: false`.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';

type Json = Record<string, unknown>;
const KEY = 'sk-sim-test';

let sim: OpenAISim;
let client: OpenAI;

beforeAll(async () => {
  sim = await startOpenAISim({ keys: [KEY] });
  client = new OpenAI({ apiKey: KEY, baseURL: sim.url, maxRetries: 0, timeout: 5000 });
});

afterAll(async () => {
  await sim?.close();
});

const toolsItem = {
  type: 'additional_tools',
  role: 'developer',
  tools: [
    {
      type: 'namespace',
      name: 'functions',
      description: '',
      tools: [{ type: 'custom', name: 'exec', description: 'Run JavaScript.' }],
    },
  ],
};

function codexBody(input: Json[]): Json {
  return {
    model: 'gpt-6.2-sol',
    stream: true,
    store: false,
    include: ['reasoning.encrypted_content'],
    reasoning: { effort: 'low' },
    input: [
      toolsItem,
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
      ...input,
    ],
  };
}

async function raw(body: Json): Promise<{ status: number; text: string }> {
  const res = await fetch(`${sim.url}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

function events(sse: string): Json[] {
  return sse
    .split('\n\n')
    .filter((f) => f.trim().length > 0)
    .map((f) => {
      const [eventLine, dataLine] = f.split('\n');
      const data = JSON.parse(dataLine!.slice('data: '.length)) as Json;
      expect(eventLine).toBe(`event: ${String(data.type)}`);
      return data;
    });
}

describe('OpenAI simulator: Responses API as Codex uses it', () => {
  it('reasoning with encrypted content, then a custom_tool_call with its namespace; numbered from 0', async () => {
    const res = await raw(codexBody([]));
    expect(res.status).toBe(200);
    const evs = events(res.text);
    expect(evs.map((e) => e.sequence_number)).toEqual(evs.map((_, i) => i));
    expect(evs.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.output_item.done',
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const final = evs.at(-1)!.response as Json;
    const [reasoning, call] = final.output as Json[];
    expect(reasoning).toMatchObject({ type: 'reasoning', summary: [] });
    expect(reasoning!.encrypted_content).toMatch(/^gAAAAAB/);
    expect(call).toMatchObject({
      type: 'custom_tool_call',
      name: 'exec',
      namespace: 'functions',
      input: 'sim-input',
      status: 'completed',
    });
    expect(call!.id).toMatch(/^ctc_/);
    expect(final).toMatchObject({ status: 'completed', store: false, object: 'response' });
    expect(final.usage).toMatchObject({ output_tokens_details: { reasoning_tokens: 3 } });
  });

  it('answers in text once the tool output is the last item; the official stream helper accepts it', async () => {
    const first = events((await raw(codexBody([]))).text).at(-1)!.response as Json;
    const [reasoning, call] = first.output as Json[];
    const replay = [
      { type: 'reasoning', summary: [], encrypted_content: reasoning!.encrypted_content },
      {
        type: 'custom_tool_call',
        call_id: call!.call_id,
        namespace: 'functions',
        name: 'exec',
        input: 'sim-input',
      },
      { type: 'custom_tool_call_output', call_id: call!.call_id, output: 'ReferenceError' },
    ];
    const body = codexBody(replay);
    delete body.stream;
    const stream = client.responses.stream(body as unknown as OpenAI.Responses.ResponseCreateParamsStreaming);
    let text = '';
    stream.on('response.output_text.delta', (e) => (text += e.delta));
    const final = await stream.finalResponse();
    expect(text).toBe(DEFAULT_SIM_TEXT);
    expect(final.output_text).toBe(DEFAULT_SIM_TEXT);
    expect(final.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
  });

  it('refuses what OpenAI refuses: an orphan output, foreign encrypted reasoning, a stored-only reasoning item', async () => {
    const orphan = await raw(
      codexBody([{ type: 'custom_tool_call_output', call_id: 'call_x', output: 'y' }]),
    );
    expect(orphan.status).toBe(400);
    expect(JSON.parse(orphan.text)).toMatchObject({
      error: {
        message: 'No tool call found for custom tool call output with call_id call_x.',
        param: 'input',
      },
    });
    const forged = await raw(
      codexBody([{ type: 'reasoning', summary: [], encrypted_content: 'gAAAAABforged' }]),
    );
    expect(forged.status).toBe(400);
    expect(JSON.parse(forged.text)).toMatchObject({ error: { code: 'invalid_encrypted_content' } });
    const stored = await raw(codexBody([{ type: 'reasoning', id: 'rs_1', summary: [] }]));
    expect(stored.status).toBe(404);
    expect(stored.text).toContain("Item with id 'rs_1' not found");
  });
});
