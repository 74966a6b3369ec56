/**
 * The simulators refuse what OpenAI and Gemini refuse in a request's conversation, so a
 * converter's mistake reaches a test as the real 400 would: driven by the official clients, each
 * case is a request the real API answers with that status, message and param (OpenAI) or status
 * and message (Gemini), and the request fixed is accepted. What the real APIs accept (every
 * role, part kind, snake_case spellings, system instructions with a role) is accepted here too.
 */
import OpenAI from 'openai';
import { ApiError, GoogleGenAI, type GenerateContentParameters } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startGeminiSim, type GeminiSim } from '../support/sim/gemini-sim.js';

type Json = Record<string, unknown>;
type Messages = OpenAI.Chat.ChatCompletionMessageParam[];

let oa: OpenAISim;
let ge: GeminiSim;
let openai: OpenAI;
let genai: GoogleGenAI;

beforeAll(async () => {
  [oa, ge] = await Promise.all([startOpenAISim(), startGeminiSim()]);
  openai = new OpenAI({ apiKey: 'sk-sim', baseURL: oa.url, maxRetries: 0 });
  genai = new GoogleGenAI({ apiKey: 'AIza-sim', httpOptions: { baseUrl: ge.url } });
});

afterAll(async () => {
  await oa?.close();
  await ge?.close();
});

const call = { id: 'call_1', type: 'function' as const, function: { name: 'f', arguments: '{}' } };
const ask = { role: 'user' as const, content: 'hi' };

async function openaiRefusal(messages: unknown[], extra: Json = {}): Promise<Json> {
  try {
    await openai.chat.completions.create({ model: 'gpt-4o', messages: messages as Messages, ...extra });
  } catch (err) {
    if (err instanceof OpenAI.BadRequestError) return err.error as Json;
    throw err;
  }
  throw new Error('accepted');
}

describe('OpenAI simulator: chat requests OpenAI refuses', () => {
  it.each([
    [
      'a tool message without a call before it',
      [ask, { role: 'tool', tool_call_id: 'call_1', content: 'x' }],
      "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
      'messages.[1].role',
    ],
    [
      'a tool message answering another id',
      [
        ask,
        { role: 'assistant', tool_calls: [call] },
        { role: 'tool', tool_call_id: 'call_2', content: 'x' },
      ],
      "Invalid parameter: 'tool_call_id' of 'call_2' not found in 'tool_calls' of previous message.",
      'messages.[2].tool_call_id',
    ],
    [
      'a call left unanswered',
      [ask, { role: 'assistant', tool_calls: [call] }, ask],
      "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_1",
      'messages.[1].role',
    ],
    [
      'an unknown role',
      [{ role: 'human', content: 'hi' }],
      "Invalid value: 'human'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
      'messages[0].role',
    ],
    [
      "another provider's reasoning_content",
      [ask, { role: 'assistant', content: 'x', reasoning_content: 'hmm' }, ask],
      "Unknown parameter: 'messages[1].reasoning_content'.",
      'messages[1].reasoning_content',
    ],
    [
      'a tool call carrying extra_content',
      [
        ask,
        { role: 'assistant', tool_calls: [{ ...call, extra_content: { google: {} } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'x' },
      ],
      "Unknown parameter: 'messages[1].tool_calls[0].extra_content'.",
      'messages[1].tool_calls[0].extra_content',
    ],
    [
      "a text part with Anthropic's cache_control",
      [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }],
      "Unknown parameter: 'messages[0].content[0].cache_control'.",
      'messages[0].content[0].cache_control',
    ],
  ])('%s', async (_name, messages, message, param) => {
    expect(await openaiRefusal(messages)).toMatchObject({ message, param, type: 'invalid_request_error' });
  });

  it('an argument OpenAI does not have', async () => {
    expect(await openaiRefusal([ask], { enable_thinking: true })).toMatchObject({
      message: "Unknown parameter: 'enable_thinking'.",
      param: 'enable_thinking',
      code: 'unknown_parameter',
    });
  });

  it('accepts what OpenAI accepts: answered parallel calls, every role and part type', async () => {
    const res = await openai.chat.completions.create({
      model: 'gpt-4o',
      reasoning_effort: 'minimal',
      verbosity: 'low',
      messages: [
        { role: 'developer', content: 'be brief', name: 'ops' },
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } }],
        },
        { role: 'assistant', content: null, tool_calls: [call, { ...call, id: 'call_2' }] },
        { role: 'tool', tool_call_id: 'call_2', content: 'b' },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'a' }] },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }], refusal: 'no' },
        {
          role: 'user',
          content: [
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE', filename: 'a.pdf' } },
          ],
        },
      ],
    });
    expect(res.choices[0]?.finish_reason).toBe('stop');
  });
});

async function geminiRefusal(
  params: Omit<GenerateContentParameters, 'model'>,
  model = 'gemini-2.5-flash',
): Promise<string> {
  try {
    await genai.models.generateContent({ model, ...params });
  } catch (err) {
    if (err instanceof ApiError) {
      expect(err.status).toBe(400);
      return ((JSON.parse(err.message) as Json).error as Json).message as string;
    }
    throw err;
  }
  throw new Error('accepted');
}

/** Bodies the SDK would clean up (it sends only the fields it knows) go as raw JSON. */
async function rawRefusal(body: Json): Promise<string> {
  const res = await fetch(`${ge.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-sim' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(400);
  return ((await res.json()) as { error: { message: string } }).error.message;
}

const user = (text: string): Json => ({ role: 'user', parts: [{ text }] });
const callTurn = { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] };
const answer = (name: string): Json => ({
  role: 'user',
  parts: [{ functionResponse: { name, response: {} } }],
});

describe('Gemini simulator: contents Gemini refuses', () => {
  it.each([
    [
      'an assistant role',
      [{ role: 'assistant', parts: [{ text: 'x' }] }],
      'Please use a valid role: user, model.',
    ],
    [
      'empty parts',
      [user('hi'), { role: 'model', parts: [] }],
      '* GenerateContentRequest.contents[1].parts: contents.parts must not be empty.',
    ],
    [
      'a part with no data',
      [{ role: 'user', parts: [{ thought: true }] }],
      "* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data' must have one initialized field",
    ],
    [
      'a function response with no call before it',
      [user('hi'), answer('f')],
      'Please ensure that function response turn comes immediately after a function call turn.',
    ],
    [
      'a function response to another function',
      [user('hi'), callTurn, answer('g')],
      'Please ensure that function response turn comes immediately after a function call turn.',
    ],
    [
      'fewer responses than calls',
      [user('hi'), { role: 'model', parts: [callTurn.parts[0], callTurn.parts[0]] }, answer('f')],
      'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
    ],
  ])('%s', async (_name, contents, message) => {
    expect(await geminiRefusal({ contents })).toBe(message);
  });

  it('a part field Gemini does not have', async () => {
    const contents = [{ role: 'user', parts: [{ text: 'hi', cache_control: { type: 'ephemeral' } }] }];
    expect(await rawRefusal({ contents })).toBe(
      'Invalid JSON payload received. Unknown name "cache_control" at \'contents[0].parts[0]\': Cannot find field.',
    );
  });

  it('tool schemas and thinking settings as Gemini checks them', async () => {
    const tool = (parameters: Json): GenerateContentParameters['config'] => ({
      tools: [{ functionDeclarations: [{ name: 'f', parameters }] }],
    });
    const parameters = { type: 'OBJECT', properties: { a: { type: 'STRING' } }, additionalProperties: false };
    expect(
      await rawRefusal({
        contents: [user('hi')],
        tools: [{ functionDeclarations: [{ name: 'f', parameters }] }],
      }),
    ).toBe(
      'Invalid JSON payload received. Unknown name "additionalProperties" at \'tools[0].function_declarations[0].parameters\': Cannot find field.',
    );
    expect(await geminiRefusal({ contents: 'hi', config: tool({ type: 'OBJECT', properties: {} }) })).toBe(
      '* GenerateContentRequest.tools[0].function_declarations[0].parameters.properties: should be non-empty for OBJECT type',
    );
    expect(
      await geminiRefusal({ contents: 'hi', config: { thinkingConfig: { thinkingLevel: 'LOW' as never } } }),
    ).toBe('Thinking level is not supported for this model.');
    expect(
      await geminiRefusal(
        { contents: 'hi', config: { thinkingConfig: { thinkingBudget: 1024 } } },
        'gemini-2.0-flash',
      ),
    ).toBe('thinking_config is not supported.');
  });

  it('accepts what Gemini accepts: answered calls, the function role, snake_case, a system role', async () => {
    const res = await fetch(`${ge.url}/v1beta/models/gemini-3-pro-preview:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIza-sim' },
      body: JSON.stringify({
        system_instruction: { role: 'system', parts: [{ text: 'be brief' }] },
        contents: [
          { role: 'user', parts: [{ text: 'look', video_metadata: { start_offset: '1s' } }] },
          { role: 'model', parts: [{ function_call: { name: 'f', args: {} }, thought_signature: 'SIG' }] },
          { role: 'function', parts: [{ function_response: { name: 'f', response: { ok: true } } }] },
        ],
        generation_config: { thinking_config: { thinking_level: 'HIGH', include_thoughts: true } },
        labels: { team: 'a' },
      }),
    });
    expect(res.status).toBe(200);
  });
});
