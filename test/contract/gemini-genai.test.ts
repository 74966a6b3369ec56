/**
 * The official `@google/genai` client (v2) must accept what the Gemini inbound codec produces:
 * a tiny node:http server answers generateContent with `fromOpenAI` output and
 * streamGenerateContent with `streamEncoder` frames (written in small pieces), and errors with
 * `errorBody` and an in-stream `error()` frame. The client's own parsing decides: text, thoughts,
 * function calls with their arguments, finish reasons and usage must come out as sent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, GoogleGenAI } from '@google/genai';
import { geminiCodec } from '../../src/daemon/inbound/gemini/index.js';
import type { OpenAIChatChunk, OpenAIChatCompletion } from '../../src/daemon/providers/openai/types.js';
import type { Usage } from '../../src/daemon/providers/types.js';

const USAGE: Usage = {
  inputTokens: 12,
  cachedTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 20,
  reasoningTokens: 5,
};

const completion: OpenAIChatCompletion = {
  id: 'chatcmpl-genai',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o',
  choices: [
    {
      index: 0,
      finish_reason: 'tool_calls',
      message: {
        role: 'assistant',
        content: 'Looking it up.',
        tool_calls: [
          {
            id: 'call_7',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Lisbon","days":2}' },
          },
        ],
      },
    },
  ],
};

function chunk(
  delta: OpenAIChatChunk['choices'][number]['delta'],
  finish: OpenAIChatChunk['choices'][number]['finish_reason'] = null,
): OpenAIChatChunk {
  return {
    id: 'chatcmpl-s',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

function streamFrames(withTool: boolean, failAfter?: number): string[] {
  const enc = geminiCodec.streamEncoder('gemini-gateway');
  const chunks = [
    chunk({ role: 'assistant', content: '' }),
    chunk({ reasoning_content: 'Thinking.' }),
    chunk({ content: 'Olá, ' }),
    chunk({ content: 'mundo 🌍' }),
  ];
  if (withTool) {
    chunks.push(
      chunk({
        tool_calls: [
          { index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } },
        ],
      }),
    );
    chunks.push(chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Porto"}' } }] }));
  }
  chunks.push(chunk({}, withTool ? 'tool_calls' : 'stop'));
  const frames = chunks.flatMap((c) => enc.push(c));
  if (failAfter !== undefined) {
    return [
      ...frames.slice(0, failAfter),
      ...enc.error({ status: 503, code: 'upstream_error', type: 'api_error', message: 'upstream went away' }),
    ];
  }
  return [...frames, ...enc.end(USAGE)];
}

let server: http.Server;
let ai: GoogleGenAI;

async function writeSlowly(res: http.ServerResponse, frames: string[]): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const bytes = Buffer.from(frames.join(''));
  // 23-byte pieces split frames, JSON and the emoji across writes
  for (let i = 0; i < bytes.length; i += 23) {
    res.write(bytes.subarray(i, i + 23));
    await new Promise((r) => setImmediate(r));
  }
  res.end();
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      const scenario = req.headers['x-scenario'];
      if (scenario === 'auth') {
        const { status, body } = geminiCodec.errorBody({
          status: 401,
          code: 'invalid_api_key',
          type: 'invalid_request_error',
          message: 'bad key',
        });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      } else if (url.includes(':streamGenerateContent')) {
        void writeSlowly(res, streamFrames(scenario !== 'text', scenario === 'fail' ? 2 : undefined));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(geminiCodec.fromOpenAI(completion, USAGE, 'gemini-gateway')));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  ai = new GoogleGenAI({ apiKey: 'x', httpOptions: { baseUrl: `http://127.0.0.1:${port}` } });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function headers(scenario: string) {
  return { httpOptions: { headers: { 'x-scenario': scenario } } };
}

describe('@google/genai accepts the codec output', () => {
  it('generateContent: text, a function call with parsed args, finish reason and usage', async () => {
    const res = await ai.models.generateContent({ model: 'gemini-gateway', contents: 'Weather in Lisbon?' });
    const parts = res.candidates?.[0]?.content?.parts ?? [];
    expect(parts.find((p) => typeof p.text === 'string')?.text).toBe('Looking it up.');
    expect(res.functionCalls).toEqual([
      { id: 'call_7', name: 'get_weather', args: { city: 'Lisbon', days: 2 } },
    ]);
    expect(res.candidates?.[0]?.finishReason).toBe('STOP');
    expect(res.usageMetadata).toMatchObject({
      promptTokenCount: 12,
      candidatesTokenCount: 15,
      thoughtsTokenCount: 5,
      totalTokenCount: 32,
    });
    expect(res.modelVersion).toBe('gemini-gateway');
    expect(res.responseId).toBe('chatcmpl-genai');
  });

  it('generateContentStream: text pieces, thoughts, last chunk with finish and usage', async () => {
    let text = '';
    let thoughts = '';
    const finishes: (string | undefined)[] = [];
    let usage: unknown;
    for await (const c of await ai.models.generateContentStream({
      model: 'gemini-gateway',
      contents: 'hi',
      config: headers('text'),
    })) {
      for (const p of c.candidates?.[0]?.content?.parts ?? []) {
        if (p.thought === true) thoughts += p.text ?? '';
        else text += p.text ?? '';
      }
      finishes.push(c.candidates?.[0]?.finishReason);
      usage = c.usageMetadata ?? usage;
    }
    expect(text).toBe('Olá, mundo 🌍');
    expect(thoughts).toBe('Thinking.');
    expect(finishes.at(-1)).toBe('STOP');
    expect(finishes.slice(0, -1).every((f) => f === undefined)).toBe(true);
    expect(usage).toEqual({
      promptTokenCount: 12,
      candidatesTokenCount: 15,
      thoughtsTokenCount: 5,
      totalTokenCount: 32,
    });
  });

  it('generateContentStream with a tool call: the call arrives whole with its arguments', async () => {
    const calls: unknown[] = [];
    for await (const c of await ai.models.generateContentStream({
      model: 'gemini-gateway',
      contents: 'hi',
      config: headers('tool'),
    })) {
      calls.push(...(c.functionCalls ?? []));
    }
    expect(calls).toEqual([{ id: 'call_1', name: 'get_weather', args: { city: 'Porto' } }]);
  });

  it('an error before the body is an ApiError with the status; an error frame mid-stream throws too', async () => {
    const auth = ai.models.generateContent({
      model: 'gemini-gateway',
      contents: 'hi',
      config: headers('auth'),
    });
    await expect(auth).rejects.toBeInstanceOf(ApiError);
    await expect(auth).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining('UNAUTHENTICATED') as unknown,
    });
    let received = '';
    const consume = async () => {
      for await (const c of await ai.models.generateContentStream({
        model: 'gemini-gateway',
        contents: 'hi',
        config: headers('fail'),
      })) {
        received += c.candidates?.[0]?.content?.parts?.map((p) => p.text ?? '').join('') ?? '';
      }
    };
    await expect(consume()).rejects.toMatchObject({ status: 503 });
    expect(received).toBe('Thinking.Olá, ');
  });
});
