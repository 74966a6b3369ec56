/**
 * The Gemini inbound codec, answers: canonical completions and stream chunks -> Gemini responses
 * and `alt=sse` frames, errors in Gemini's shape, and a Gemini answer carried through the adapter
 * (to OpenAI) and the codec (back to Gemini) unchanged.
 */
import { describe, expect, it } from 'vitest';
import { geminiCodec } from '../../src/daemon/inbound/gemini/index.js';
import { geminiAdapter } from '../../src/daemon/providers/gemini/index.js';
import type { OpenAIChatChunk, OpenAIChatCompletion } from '../../src/daemon/providers/openai/types.js';
import type { UpstreamTarget } from '../../src/daemon/providers/types.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import { upstreamTarget } from '../support/upstream-target.js';

const target: UpstreamTarget = upstreamTarget(
  { name: 'g', type: 'gemini', baseUrl: 'http://x', timeoutMs: 1 },
  's',
  'gemini-2.5-flash',
);

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
