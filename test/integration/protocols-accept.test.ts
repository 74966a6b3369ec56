/**
 * Issue 12, "accept what the real APIs accept", through the gateway with the official clients
 * and the simulators, which refuse what OpenAI and Gemini refuse (unknown message fields, tool
 * results without their call, thinking settings a model does not take). Conversions must not
 * leak one protocol's fields into another: signed Anthropic thinking (`thinking_blocks`) and a
 * Gemini call's signature (`extra_content`) stay off OpenAI; reasoning efforts reach Gemini as
 * the thinkingConfig each model family takes. What a client sends that its own API accepts is
 * never refused: passthrough carries it byte for byte with no dropped fields on the log row,
 * conversion maps it (thinkingLevel, legacy function calling) or names it in dropped_fields.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { GoogleGenAI, ThinkingLevel } from '@google/genai';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startGeminiSim, type GeminiSim } from '../support/sim/gemini-sim.js';
import { readChunksJsonl, readFixtureJson } from '../support/fixtures.js';
import type { LogRow } from '../../src/shared/control-api.js';

type Json = Record<string, unknown>;

let gw: TestGateway;
let oa: OpenAISim;
let ge: GeminiSim;
let secret: string;

beforeAll(async () => {
  gw = await startGateway();
  [oa, ge] = await Promise.all([startOpenAISim(), startGeminiSim()]);
  await gw.addChannel({
    name: 'openai',
    type: 'openai',
    keys: ['sk-up'],
    models: ['gpt-4o'],
    base_url: oa.url,
  });
  await gw.addChannel({
    name: 'gemini',
    type: 'gemini',
    keys: ['AIza-up'],
    models: ['gemini-3-pro-preview', 'gemini-2.5-flash', 'gemini-2.0-flash'],
    base_url: ge.url,
  });
  secret = await gw.createKey();
});

afterAll(async () => {
  await gw?.close();
  await oa?.close();
  await ge?.close();
});

async function lastLog(): Promise<LogRow> {
  return (await gw.call<LogRow[]>('GET', '/v1/logs?limit=1'))[0]!;
}

const lastBody = (sim: OpenAISim | GeminiSim): Json =>
  JSON.parse(sim.calls.at(-1)!.body.toString('utf8')) as Json;

/** The signed thinking of a recorded Claude stream (fixtures/anthropic/messages-stream-thinking). */
function recordedThinking(): { thinking: string; signature: string } {
  let thinking = '';
  let signature = '';
  for (const e of readChunksJsonl('anthropic/messages-stream-thinking.chunks.jsonl') as Json[]) {
    const d = e.delta as Json | undefined;
    if (d?.type === 'thinking_delta') thinking += String(d.thinking);
    if (d?.type === 'signature_delta') signature += String(d.signature);
  }
  return { thinking, signature };
}

describe('no foreign fields reach OpenAI', () => {
  it('Anthropic client: signed thinking from an earlier Claude turn is kept off an OpenAI channel', async () => {
    const client = new Anthropic({ apiKey: secret, baseURL: gw.url });
    const { thinking, signature } = recordedThinking();
    const msg = await client.messages.create({
      model: 'gpt-4o',
      max_tokens: 512,
      tools: [{ name: 'add', input_schema: { type: 'object', properties: { a: { type: 'number' } } } }],
      messages: [
        { role: 'user', content: 'What is 900 + 25?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking, signature },
            { type: 'tool_use', id: 'toolu_01', name: 'add', input: { a: 900 } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: '925' }] },
      ],
    });
    expect(msg.stop_reason).toBe('end_turn');
    const assistant = (lastBody(oa).messages as Json[])[1]!;
    expect(assistant).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'add', arguments: '{"a":900}' } }],
    });
    const row = await lastLog();
    expect(row.status).toBe(200);
    expect(row.dropped_fields).toEqual(
      expect.arrayContaining(['messages[].thinking_blocks', 'messages[].reasoning_content']),
    );
  });

  it("Gemini client: a Gemini 3 call's thought signature is kept off an OpenAI channel", async () => {
    const ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: gw.url } });
    const recorded = readFixtureJson<Json>('gemini/generate-content-tool-call.json');
    const turn = ((recorded.candidates as Json[])[0] as Json).content as Json;
    const res = await ai.models.generateContent({
      model: 'gpt-4o',
      contents: [
        { role: 'user', parts: [{ text: 'Weather in San Francisco?' }] },
        turn,
        { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { temp: 18 } } }] },
      ],
    });
    expect(res.candidates?.[0]?.finishReason).toBe('STOP');
    const call = ((lastBody(oa).messages as Json[])[1]!.tool_calls as Json[])[0]!;
    expect(call).toEqual({
      id: 'call_gemini_0',
      type: 'function',
      function: { name: 'weather', arguments: '{"location":"San Francisco"}' },
    });
    expect((await lastLog()).dropped_fields).toEqual(['messages[].tool_calls[].extra_content']);
  });
});

describe('reasoning effort across protocols', () => {
  it('Gemini client: thinkingLevel reaches an OpenAI channel as reasoning_effort', async () => {
    const ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: gw.url } });
    await ai.models.generateContent({
      model: 'gpt-4o',
      contents: 'hi',
      config: { thinkingConfig: { thinkingLevel: ThinkingLevel.LOW, includeThoughts: true } },
    });
    expect(lastBody(oa).reasoning_effort).toBe('low');
    expect((await lastLog()).dropped_fields).toEqual([]);
  });

  it.each([
    ['gemini-3-pro-preview', 'minimal', { thinkingLevel: 'low', includeThoughts: true }, []],
    ['gemini-2.5-flash', 'minimal', { thinkingBudget: 512, includeThoughts: true }, []],
    ['gemini-2.0-flash', 'high', undefined, ['reasoning_effort']],
  ])(
    'OpenAI client: reasoning_effort to %s is the thinkingConfig it takes',
    async (model, effort, config, dropped) => {
      const client = new OpenAI({ apiKey: secret, baseURL: `${gw.url}/v1` });
      const res = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'hi' }],
        reasoning_effort: effort as 'minimal',
      });
      expect(res.choices[0]?.message.content).toBeTruthy();
      expect((lastBody(ge).generationConfig as Json | undefined)?.thinkingConfig).toEqual(config);
      expect((await lastLog()).dropped_fields).toEqual(dropped);
    },
  );
});

describe('what the client protocol accepts is carried, mapped or named', () => {
  const body = {
    contents: [{ role: 'user', parts: [{ text: 'describe', videoMetadata: { startOffset: '2s' } }] }],
    safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
    labels: { team: 'search' },
    generationConfig: { mediaResolution: 'MEDIA_RESOLUTION_LOW' },
  };
  const post = (model: string): Promise<Response> =>
    fetch(`${gw.url}/v1beta/models/${model}:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': secret },
      body: JSON.stringify(body),
    });

  it('Gemini passthrough: the bytes go as sent, and the log row names nothing dropped', async () => {
    const res = await post('gemini-2.5-flash');
    expect(res.status).toBe(200);
    expect(ge.calls.at(-1)!.body.toString('utf8')).toBe(JSON.stringify(body));
    expect((await lastLog()).dropped_fields).toEqual([]);
  });

  it('the same request converted for an OpenAI channel names what OpenAI cannot take', async () => {
    const res = await post('gpt-4o');
    expect(res.status).toBe(200);
    expect(lastBody(oa).messages).toEqual([{ role: 'user', content: 'describe' }]);
    expect([...(await lastLog()).dropped_fields].sort()).toEqual([
      'contents[].parts[].videoMetadata',
      'generationConfig.mediaResolution',
      'labels',
      'safetySettings',
    ]);
  });

  it('OpenAI client: legacy function calling through a Gemini channel, answered in its shape', async () => {
    const client = new OpenAI({ apiKey: secret, baseURL: `${gw.url}/v1` });
    const functions = [
      {
        name: 'get_weather',
        parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
      },
    ];
    const ask = { role: 'user' as const, content: 'Weather in Paris?' };
    const first = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [ask],
      functions,
    });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('function_call');
    expect(choice.message.function_call).toEqual({
      name: 'get_weather',
      arguments: '{"location":"San Francisco"}',
    });
    expect(choice.message.tool_calls).toBeUndefined();
    const second = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      functions,
      messages: [
        ask,
        { role: 'assistant', content: null, function_call: choice.message.function_call! },
        { role: 'function', name: 'get_weather', content: '{"temp":21}' },
      ],
    });
    expect(second.choices[0]?.finish_reason).toBe('stop');
    const sent = lastBody(ge);
    expect((sent.contents as Json[]).slice(1)).toEqual([
      {
        role: 'model',
        parts: [{ functionCall: { name: 'get_weather', args: { location: 'San Francisco' } } }],
      },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
    ]);
    expect((await lastLog()).dropped_fields).toEqual([]);
  });
});
