/**
 * The Gemini adapter's answer reading with whole expected values: a GenerateContentResponse as a
 * completion (text, thought summaries, function calls with and without Gemini ids and thought
 * signatures, a blocked prompt, model and id defaults, a body that is not a response) and the
 * streamed form chunk by chunk (the opening role chunk, deltas, tool-call numbering, finish after
 * calls, a blocked prompt, usage from the last chunk, and the exact failures).
 */
import { describe, expect, it } from 'vitest';
import { fromGeminiResponse } from '../../src/daemon/providers/gemini/response.js';
import { createGeminiStreamConverter } from '../../src/daemon/providers/gemini/stream.js';
import type { OpenAIChatChunk } from '../../src/daemon/providers/openai/types.js';
import type { SseEvent, UpstreamTarget } from '../../src/daemon/providers/types.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import { readChunksJsonl } from '../support/fixtures.js';
import { upstreamTarget } from '../support/upstream-target.js';

const target: UpstreamTarget = upstreamTarget(
  { name: 'g', type: 'gemini', baseUrl: 'https://g.example', timeoutMs: 1000 },
  'key',
  'gemini-2.5-flash',
);

const usageMeta = {
  promptTokenCount: 10,
  candidatesTokenCount: 4,
  thoughtsTokenCount: 3,
  cachedContentTokenCount: 2,
};

describe('gemini response', () => {
  it('text, thoughts and calls: exact message, finish and usage', () => {
    const { completion, usage } = fromGeminiResponse(
      {
        responseId: 'resp-1',
        modelVersion: 'gemini-2.5-flash-001',
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { text: 'plan. ', thought: true },
                { text: 'Hello ' },
                { text: 'world' },
                { functionCall: { id: 'fc-1', name: 'get', args: { a: 1 } }, thoughtSignature: 'sig-1' },
                { functionCall: { name: 'put' } },
                { inlineData: { mimeType: 'image/png', data: 'AA' } },
              ],
            },
            finishReason: 'STOP',
          },
        ],
        usageMetadata: usageMeta,
      },
      target,
    );
    expect(completion.id).toBe('chatcmpl-resp-1');
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gemini-2.5-flash-001');
    const generated = completion.choices[0]!.message.tool_calls![1]!.id;
    expect(generated).toMatch(/^call_[0-9a-f]{24}$/);
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Hello world',
          reasoning_content: 'plan. ',
          tool_calls: [
            {
              id: 'fc-1',
              type: 'function',
              function: { name: 'get', arguments: '{"a":1}' },
              extra_content: { google: { thought_signature: 'sig-1' } },
            },
            { id: generated, type: 'function', function: { name: 'put', arguments: '{}' } },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ]);
    expect(usage).toEqual({
      inputTokens: 10,
      cachedTokens: 2,
      cacheWriteTokens: 0,
      outputTokens: 7,
      reasoningTokens: 3,
    });
    expect(completion.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 7, total_tokens: 17 });
  });

  it('only calls: content is null; only text: no tool_calls or reasoning; no usage: none', () => {
    const calls = fromGeminiResponse(
      { candidates: [{ content: { parts: [{ functionCall: { id: 'x', name: 'f', args: {} } }] } }] },
      target,
    ).completion;
    expect(calls.choices[0]!.message).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'x', type: 'function', function: { name: 'f', arguments: '{}' } }],
    });
    expect(calls.choices[0]!.finish_reason).toBe('tool_calls');
    const text = fromGeminiResponse(
      { candidates: [{ content: { parts: [{ text: 'hi' }] }, finishReason: 'MAX_TOKENS' }] },
      target,
    );
    expect(text.completion.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: 'hi' },
      finish_reason: 'length',
    });
    expect(text.usage).toBeNull();
    expect(text.completion).not.toHaveProperty('usage');
    expect(text.completion.model).toBe('gemini-2.5-flash');
    expect(text.completion.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    const now = Math.floor(Date.now() / 1000);
    expect(Math.abs(text.completion.created - now)).toBeLessThanOrEqual(1);
  });

  it('a prompt blocked before any candidate is an empty content_filter answer', () => {
    const { completion } = fromGeminiResponse({ promptFeedback: { blockReason: 'SAFETY' } }, target);
    expect(completion.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'content_filter' },
    ]);
    const unblocked = fromGeminiResponse({ promptFeedback: {} }, target).completion;
    expect(unblocked.choices[0]!.finish_reason).toBe('stop');
  });

  it('a body that is no GenerateContentResponse is a 502 to retry', () => {
    for (const body of [null, 'html', [], { error: 'x' }, { candidates: 'x' }]) {
      let err: unknown;
      try {
        fromGeminiResponse(body, target);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UpstreamStreamError);
      expect((err as UpstreamStreamError).failure).toEqual({
        status: 502,
        action: 'retry',
        message: 'gemini answered 200 with a body that is not a GenerateContentResponse',
      });
    }
  });
});

const sse = (data: unknown): SseEvent => ({
  kind: 'sse',
  event: undefined,
  data: typeof data === 'string' ? data : JSON.stringify(data),
});

function run(events: SseEvent[]): {
  chunks: OpenAIChatChunk[];
  conv: ReturnType<typeof createGeminiStreamConverter>;
} {
  const conv = createGeminiStreamConverter(target);
  const chunks = events.flatMap((e) => conv.push(e));
  return { chunks, conv };
}

const cand = (parts: unknown[], finishReason?: string) => ({
  candidates: [{ content: { role: 'model', parts }, ...(finishReason ? { finishReason } : {}) }],
});

describe('gemini stream', () => {
  it('opens with the role chunk, then one delta per part, then the finish, all with one id', () => {
    const { chunks, conv } = run([
      sse({
        responseId: 'r1',
        modelVersion: 'gemini-x',
        ...cand([{ text: 'think', thought: true }, { text: '' }]),
        usageMetadata: { promptTokenCount: 5 },
      }),
      sse({ responseId: 'r2', ...cand([{ text: 'Hi' }]) }),
      sse({ ...cand([], 'STOP'), usageMetadata: usageMeta }),
      sse({ ...cand([{ text: 'after' }], 'STOP') }),
    ]);
    const created = chunks[0]!.created;
    const frame = (delta: unknown, finish: string | null) => ({
      id: 'chatcmpl-r1',
      object: 'chat.completion.chunk',
      created,
      model: 'gemini-x',
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    expect(chunks).toEqual([
      frame({ role: 'assistant', content: '' }, null),
      frame({ reasoning_content: 'think' }, null),
      frame({ content: 'Hi' }, null),
      frame({}, 'stop'),
      frame({ content: 'after' }, null),
    ]);
    expect(conv.end()).toEqual([]);
    expect(conv.usage()).toEqual({
      inputTokens: 10,
      cachedTokens: 2,
      cacheWriteTokens: 0,
      outputTokens: 7,
      reasoningTokens: 3,
    });
  });

  it('function calls are numbered from 0 and a STOP after them is tool_calls', () => {
    const { chunks } = run([
      sse(cand([{ functionCall: { id: 'a', name: 'f', args: { x: 1 } }, thoughtSignature: 's' }])),
      sse(cand([{ functionCall: { id: 'b', name: 'g' } }], 'STOP')),
    ]);
    expect(chunks.map((c) => c.choices[0])).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
      {
        index: 0,
        delta: {
          tool_calls: [
            {
              index: 0,
              id: 'a',
              type: 'function',
              function: { name: 'f', arguments: '{"x":1}' },
              extra_content: { google: { thought_signature: 's' } },
            },
          ],
        },
        finish_reason: null,
      },
      {
        index: 0,
        delta: {
          tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } }],
        },
        finish_reason: null,
      },
      { index: 0, delta: {}, finish_reason: 'tool_calls' },
    ]);
  });

  it('a blocked prompt ends the stream with content_filter; usage stays from the last chunk that had it', () => {
    const { chunks, conv } = run([
      sse({ usageMetadata: { promptTokenCount: 3 } }),
      sse({ promptFeedback: { blockReason: 'OTHER' } }),
    ]);
    expect(chunks.map((c) => c.choices[0]!.finish_reason)).toEqual([null, 'content_filter']);
    expect(chunks[0]!.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(chunks[0]!.model).toBe('gemini-2.5-flash');
    expect(conv.end()).toEqual([]);
    expect(conv.usage()).toEqual({
      inputTokens: 3,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 0,
      reasoningTokens: 0,
    });
  });

  it('blank data and non-SSE events say nothing; a chunk without parts or finish says nothing', () => {
    const { chunks, conv } = run([
      sse('  '),
      { kind: 'comment' } as unknown as SseEvent,
      sse({}),
      sse(cand([])),
    ]);
    expect(chunks).toEqual([]);
    expect(conv.usage()).toBeNull();
  });

  it('failures: cut off before a finishReason, not JSON, an error payload with its status', () => {
    const cut = run([sse(cand([{ text: 'a' }]))]).conv;
    expect(() => cut.end()).toThrow(
      expect.objectContaining({
        failure: {
          status: 502,
          action: 'retry',
          message: 'gemini: stream ended before a finishReason (answer cut off)',
        },
      }),
    );
    expect(() => run([sse('{nope')])).toThrow(
      expect.objectContaining({
        failure: { status: 502, action: 'retry', message: 'gemini: malformed stream event (not JSON)' },
      }),
    );
    const err = (() => {
      try {
        run([sse({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'quota' } })]);
      } catch (e) {
        return e as UpstreamStreamError;
      }
      throw new Error('expected a failure');
    })();
    expect(err).toBeInstanceOf(UpstreamStreamError);
    expect(err.failure.status).toBe(429);
    expect(err.failure.message).toContain('quota');
  });

  it('the recorded tool-call stream: one call with its signature, then tool_calls and the usage', () => {
    const recorded = readChunksJsonl('gemini/stream-tool-call.chunks.jsonl') as {
      candidates: { content: { parts: { thoughtSignature?: string }[] } }[];
      responseId: string;
    }[];
    const sig = recorded[0]!.candidates[0]!.content.parts[0]!.thoughtSignature!;
    const { chunks, conv } = run(recorded.map((c) => sse(c)));
    const id = chunks[1]!.choices[0]!.delta.tool_calls![0]!.id!;
    expect(id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(chunks.map((c) => c.choices[0]!.delta)).toEqual([
      { role: 'assistant', content: '' },
      {
        tool_calls: [
          {
            index: 0,
            id,
            type: 'function',
            function: { name: 'weather', arguments: '{"location":"San Francisco"}' },
            extra_content: { google: { thought_signature: sig } },
          },
        ],
      },
      {},
    ]);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)!.model).toBe('gemini-3-pro-preview');
    expect(conv.end()).toEqual([]);
    expect(conv.usage()).toEqual({
      inputTokens: 29,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 60,
      reasoningTokens: 45,
    });
  });
});
