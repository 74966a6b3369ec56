/**
 * The Gemini inbound codec: a generateContent request (camelCase or snake_case) -> the canonical
 * OpenAI request with its validation errors, completions and stream chunks -> Gemini responses
 * and `alt=sse` frames, errors in Gemini's shape, and round trips through the Gemini adapter
 * (codec out, adapter back) that must give the same request and answer again.
 */
import { describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { geminiCodec } from '../../src/daemon/inbound/gemini/index.js';
import { geminiAdapter } from '../../src/daemon/providers/gemini/index.js';
import { toGeminiRequest } from '../../src/daemon/providers/gemini/request.js';
import type { OpenAIChatChunk, OpenAIChatCompletion } from '../../src/daemon/providers/openai/types.js';
import type { UpstreamTarget } from '../../src/daemon/providers/types.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';

const target: UpstreamTarget = {
  channel: {
    id: 1,
    name: 'g',
    type: 'gemini',
    baseUrl: 'http://x',
    region: null,
    apiVersion: null,
    timeoutMs: 1,
    settings: {},
  },
  secret: 's',
  upstreamModel: 'gemini-2.5-flash',
};

const conversation = {
  systemInstruction: { parts: [{ text: 'You are terse.' }] },
  contents: [
    {
      role: 'user',
      parts: [{ text: 'Weather in Paris?' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }],
    },
    {
      role: 'model',
      parts: [
        { text: 'Checking.', thought: true },
        { functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'SIG1' },
      ],
    },
    { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { temp: 21 } } }] },
  ],
  tools: [
    {
      functionDeclarations: [
        {
          name: 'weather',
          description: 'Current weather',
          parameters: {
            type: 'OBJECT',
            properties: { city: { type: 'STRING', nullable: true } },
            required: ['city'],
          },
        },
      ],
    },
  ],
  toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['weather'] } },
  generationConfig: { temperature: 0.3, topP: 0.8, maxOutputTokens: 256, stopSequences: ['END'], seed: 3 },
};

function chunk(
  delta: OpenAIChatChunk['choices'][number]['delta'],
  finish: OpenAIChatChunk['choices'][number]['finish_reason'] = null,
): OpenAIChatChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'up',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

function parseFrames(frames: string[]): Record<string, unknown>[] {
  const dec = new SseDecoder();
  const events = [...dec.push(Buffer.from(frames.join(''))), ...dec.end()];
  for (const f of frames) expect(f).toMatch(/^data: \{.*\}\r\n\r\n$/s);
  return events.map((e) => JSON.parse(e.kind === 'sse' ? e.data : '') as Record<string, unknown>);
}

describe('toOpenAI', () => {
  it('converts a tool conversation; model and stream come from the URL', () => {
    const dropped: string[] = [];
    const req = geminiCodec.toOpenAI(conversation, { model: 'gemini-pro', stream: true, dropped });
    expect(req.model).toBe('gemini-pro');
    expect(req.stream).toBe(true);
    expect(req.stream_options).toEqual({ include_usage: true });
    expect(req.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather in Paris?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        reasoning_content: 'Checking.',
        tool_calls: [
          {
            id: 'call_gemini_0',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Paris"}' },
            extra_content: { google: { thought_signature: 'SIG1' } },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_gemini_0', content: '{"temp":21}' },
    ]);
    expect(req.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'weather',
          description: 'Current weather',
          parameters: {
            type: 'object',
            properties: { city: { type: ['string', 'null'] } },
            required: ['city'],
          },
        },
      },
    ]);
    expect(req.tool_choice).toEqual({ type: 'function', function: { name: 'weather' } });
    expect(req).toMatchObject({ temperature: 0.3, top_p: 0.8, max_tokens: 256, stop: ['END'], seed: 3 });
    expect(dropped).toEqual([]);
  });

  it('accepts snake_case fields, names what it drops, maps thinking and JSON output', () => {
    const dropped: string[] = [];
    const req = geminiCodec.toOpenAI(
      {
        system_instruction: { parts: [{ text: 'sys' }] },
        contents: [
          { parts: [{ text: 'hi' }, { inline_data: { mime_type: 'application/pdf', data: 'JVBE' } }] },
        ],
        tools: [{ google_search: {} }],
        safety_settings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
        generation_config: {
          top_k: 40,
          response_mime_type: 'application/json',
          response_schema: { type: 'OBJECT', properties: { my_field: { type: 'INTEGER' } } },
          thinking_config: { thinking_budget: 4096, include_thoughts: true },
        },
      },
      { model: 'm', dropped },
    );
    expect(req.messages[0]).toEqual({ role: 'system', content: 'sys' });
    expect(req.messages[1]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'hi' },
        { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE', filename: 'file.pdf' } },
      ],
    });
    expect(req.response_format).toEqual({
      type: 'json_schema',
      json_schema: {
        name: 'response',
        schema: { type: 'object', properties: { my_field: { type: 'integer' } } },
      },
    });
    expect(req.reasoning_effort).toBe('medium');
    expect(req.stream).toBeUndefined();
    expect(dropped.sort()).toEqual(['generationConfig.topK', 'safetySettings', 'tools.googleSearch']);
  });

  it('matches results to calls by id first, then by name in order', () => {
    const req = geminiCodec.toOpenAI(
      {
        contents: [
          { role: 'user', parts: [{ text: 'go' }] },
          {
            role: 'model',
            parts: [
              { functionCall: { name: 'f', args: {} } },
              { functionCall: { name: 'f', args: { n: 2 } } },
              { functionCall: { id: 'x9', name: 'g' } },
            ],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { id: 'x9', name: 'g', response: { content: 'plain text' } } },
              { functionResponse: { name: 'f', response: { r: 1 } } },
              { functionResponse: { name: 'f', response: { r: 2 } } },
            ],
          },
        ],
      },
      { model: 'm', dropped: [] },
    );
    const results = req.messages.filter((m) => m.role === 'tool');
    expect(results).toEqual([
      { role: 'tool', tool_call_id: 'x9', content: 'plain text' },
      { role: 'tool', tool_call_id: 'call_gemini_0', content: '{"r":1}' },
      { role: 'tool', tool_call_id: 'call_gemini_1', content: '{"r":2}' },
    ]);
  });

  it.each([
    ['not an object', [1, 2], 'contents'],
    ['no contents', { generationConfig: {} }, 'contents'],
    ['empty contents', { contents: [] }, 'contents'],
    ['empty parts', { contents: [{ role: 'user', parts: [] }] }, 'contents[0].parts'],
    ['bad role', { contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }, 'contents[0].role'],
    ['text not a string', { contents: [{ parts: [{ text: 5 }] }] }, 'contents[0].parts[0].text'],
    [
      'nameless call',
      { contents: [{ role: 'model', parts: [{ functionCall: { args: {} } }] }] },
      'contents[0].parts[0].functionCall.name',
    ],
    ['tools not an array', { contents: [{ parts: [{ text: 'x' }] }], tools: {} }, 'tools'],
  ])('rejects %s naming the field', (_name, body, param) => {
    let err: unknown;
    try {
      geminiCodec.toOpenAI(body, { model: 'm', dropped: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BcError);
    expect((err as BcError).code).toBe('INVALID_REQUEST');
    expect((err as BcError).param).toBe(param);
    expect((err as BcError).message.startsWith(`${param}: `)).toBe(true);
  });
});

describe('fromOpenAI', () => {
  const completion: OpenAIChatCompletion = {
    id: 'chatcmpl-abc',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-x',
    choices: [
      {
        index: 0,
        finish_reason: 'tool_calls',
        message: {
          role: 'assistant',
          content: 'Let me check.',
          reasoning_content: 'thinking...',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
          ],
        },
      },
    ],
  };

  it('builds candidates, finish reason and usageMetadata in Gemini semantics', () => {
    const usage = {
      inputTokens: 10,
      cachedTokens: 4,
      cacheWriteTokens: 0,
      outputTokens: 30,
      reasoningTokens: 12,
    };
    const res = geminiCodec.fromOpenAI(completion, usage, 'gemini-pro');
    expect(res).toEqual({
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { text: 'thinking...', thought: true },
              { text: 'Let me check.' },
              { functionCall: { id: 'call_1', name: 'weather', args: { city: 'Rome' } } },
            ],
          },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: {
        promptTokenCount: 10,
        candidatesTokenCount: 18,
        thoughtsTokenCount: 12,
        cachedContentTokenCount: 4,
        totalTokenCount: 40,
      },
      modelVersion: 'gemini-pro',
      responseId: 'chatcmpl-abc',
    });
  });

  it.each([
    ['stop', 'STOP'],
    ['length', 'MAX_TOKENS'],
    ['content_filter', 'SAFETY'],
    [null, 'STOP'],
  ] as const)('finish %s -> %s; usage falls back to the completion', (finish, expected) => {
    const c: OpenAIChatCompletion = {
      ...completion,
      choices: [{ index: 0, finish_reason: finish, message: { role: 'assistant', content: 'x' } }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    };
    const res = geminiCodec.fromOpenAI(c, null, 'm') as {
      candidates: { finishReason: string }[];
      usageMetadata: unknown;
    };
    expect(res.candidates[0]?.finishReason).toBe(expected);
    expect(res.usageMetadata).toEqual({ promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 });
  });
});

describe('streamEncoder', () => {
  it('streams text at once and tool calls whole at the finish; the last frame has finishReason and usage', () => {
    const enc = geminiCodec.streamEncoder('gemini-pro');
    const frames = [
      ...enc.push(chunk({ role: 'assistant', content: '' })),
      ...enc.push(chunk({ reasoning_content: 'hmm' })),
      ...enc.push(chunk({ content: 'Hi ' })),
      ...enc.push(
        chunk({
          tool_calls: [
            { index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a"' } },
          ],
        }),
      ),
      ...enc.push(
        chunk({
          tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '' } }],
        }),
      ),
      ...enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] })),
      ...enc.push(chunk({}, 'tool_calls')),
      ...enc.push({
        ...chunk({}),
        choices: [],
        usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
      }),
      ...enc.end(null),
    ];
    const parsed = parseFrames(frames) as {
      candidates: { content: { parts: unknown[] }; finishReason?: string }[];
      usageMetadata?: unknown;
      modelVersion: string;
    }[];
    expect(parsed.map((p) => p.candidates[0]?.content.parts)).toEqual([
      [{ text: 'hmm', thought: true }],
      [{ text: 'Hi ' }],
      [
        { functionCall: { id: 'call_a', name: 'f', args: { a: 1 } } },
        { functionCall: { id: 'call_b', name: 'g', args: {} } },
      ],
      [{ text: '' }],
    ]);
    expect(parsed.map((p) => p.candidates[0]?.finishReason)).toEqual([
      undefined,
      undefined,
      undefined,
      'STOP',
    ]);
    expect(parsed.at(-1)?.usageMetadata).toEqual({
      promptTokenCount: 5,
      candidatesTokenCount: 7,
      totalTokenCount: 12,
    });
    expect(parsed.every((p) => p.modelVersion === 'gemini-pro')).toBe(true);
  });

  it('end(usage) prefers the relay usage; length -> MAX_TOKENS; error frames use Gemini status names', () => {
    const enc = geminiCodec.streamEncoder('m');
    enc.push(chunk({ content: 'x' }, 'length'));
    const [last] = parseFrames(
      enc.end({ inputTokens: 1, cachedTokens: 0, cacheWriteTokens: 0, outputTokens: 2, reasoningTokens: 0 }),
    );
    expect(last).toMatchObject({
      candidates: [{ finishReason: 'MAX_TOKENS' }],
      usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2 },
    });
    const [err] = parseFrames(
      enc.error({ status: 503, code: 'upstream_error', type: 'api_error', message: 'all channels failed' }),
    );
    expect(err).toEqual({ error: { code: 503, message: 'all channels failed', status: 'UNAVAILABLE' } });
  });
});

describe('errorBody', () => {
  it.each([
    [401, 'invalid_api_key', 'UNAUTHENTICATED'],
    [403, 'key_disabled', 'PERMISSION_DENIED'],
    [404, 'model_not_found', 'NOT_FOUND'],
    [429, 'rate_limit_exceeded', 'RESOURCE_EXHAUSTED'],
    [400, 'invalid_request', 'INVALID_ARGUMENT'],
    [413, 'request_too_large', 'INVALID_ARGUMENT'],
    [500, 'internal_error', 'INTERNAL'],
    [502, 'upstream_error', 'UNAVAILABLE'],
  ])('%i -> %s', (status, code, name) => {
    const out = geminiCodec.errorBody({ status, code, type: 't', message: 'msg' });
    expect(out).toEqual({ status, body: { error: { code: status, message: 'msg', status: name } } });
  });
});

describe('round trips through the Gemini adapter', () => {
  it('a Gemini request -> OpenAI -> Gemini again keeps contents, tools, config and signatures', () => {
    const openai = geminiCodec.toOpenAI(conversation, { model: 'm', dropped: [] });
    const back = toGeminiRequest(openai, { dropped: [] });
    expect(back.systemInstruction).toEqual(conversation.systemInstruction);
    expect(back.contents).toEqual([
      conversation.contents[0],
      // the thought summary is not sent back; the call keeps its signature
      {
        role: 'model',
        parts: [{ functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'SIG1' }],
      },
      conversation.contents[2],
    ]);
    expect(back.toolConfig).toEqual(conversation.toolConfig);
    expect(back.generationConfig).toEqual(conversation.generationConfig);
    expect(back.tools?.[0]?.functionDeclarations?.[0]).toEqual({
      name: 'weather',
      description: 'Current weather',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', nullable: true } },
        required: ['city'],
      },
    });
  });

  it('a Gemini answer -> OpenAI (adapter) -> Gemini (codec) keeps text, calls, signature and usage', () => {
    const upstream = {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { text: 'plan', thought: true },
              { text: 'Calling.' },
              { functionCall: { name: 'weather', args: { city: 'Oslo' } }, thoughtSignature: 'SIG2' },
            ],
          },
          finishReason: 'STOP',
        },
      ],
      usageMetadata: {
        promptTokenCount: 11,
        candidatesTokenCount: 6,
        thoughtsTokenCount: 4,
        cachedContentTokenCount: 2,
        totalTokenCount: 21,
      },
    };
    const { completion, usage } = geminiAdapter.chatResponse(upstream, target, { dropped: [] });
    const res = geminiCodec.fromOpenAI(completion, usage, 'gemini-2.5-flash') as typeof upstream;
    const parts = res.candidates[0]?.content.parts ?? [];
    expect(parts.slice(0, 2)).toEqual(upstream.candidates[0]?.content.parts.slice(0, 2));
    expect(parts[2]).toMatchObject({
      functionCall: { name: 'weather', args: { city: 'Oslo' } },
      thoughtSignature: 'SIG2',
    });
    expect(res.candidates[0]?.finishReason).toBe('STOP');
    expect(res.usageMetadata).toEqual(upstream.usageMetadata);
  });
});
