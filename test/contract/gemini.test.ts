/**
 * The Gemini adapter against recorded generateContent traffic (fixtures/gemini): non-stream text
 * with thinking and a function call, the raw `alt=sse` cassette decoded by the real SSE decoder,
 * the function-call stream, and the recorded 429. Checks text, reasoning, tool calls (ids made up,
 * thought signatures kept), finish reasons, usage in OpenAI semantics and the retry delay, plus
 * what the passthrough path reads (usage from bodies and events).
 */
import { describe, expect, it } from 'vitest';
import { geminiAdapter } from '../../src/daemon/providers/gemini/index.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import type { SseEvent, UpstreamTarget, Usage } from '../../src/daemon/providers/types.js';
import type { OpenAIChatChunk } from '../../src/daemon/providers/openai/types.js';
import {
  cassetteResponseBodies,
  readChunksJsonl,
  readFixtureJson,
  readFixtureText,
} from '../support/fixtures.js';
import { upstreamTarget } from '../support/upstream-target.js';

const target: UpstreamTarget = upstreamTarget(
  {
    id: 7,
    name: 'gemini',
    type: 'gemini',
    baseUrl: 'https://generativelanguage.googleapis.com',
    timeoutMs: 60_000,
  },
  'AIza-test-key',
  'gemini-3-pro-preview',
);

function sse(data: unknown): SseEvent {
  return { kind: 'sse', event: undefined, data: typeof data === 'string' ? data : JSON.stringify(data) };
}

function rawSseEvents(): SseEvent[] {
  const body = cassetteResponseBodies('gemini/stream-sse-text.cassette.yaml')[0] ?? '';
  const dec = new SseDecoder();
  // Feed it in uneven pieces, as TCP would.
  const bytes = Buffer.from(body, 'utf8');
  const events: SseEvent[] = [];
  for (let i = 0; i < bytes.length; i += 37) events.push(...dec.push(bytes.subarray(i, i + 37)));
  events.push(...dec.end());
  return events;
}

function run(events: SseEvent[]): { chunks: OpenAIChatChunk[]; usage: Usage | null } {
  const conv = geminiAdapter.chatStream(target, { dropped: [] });
  const chunks = events.flatMap((e) => conv.push(e));
  chunks.push(...conv.end());
  return { chunks, usage: conv.usage() };
}

describe('gemini adapter: non-stream fixtures', () => {
  it('text with thinking: content, finish stop, usage with thoughts counted as output', () => {
    const body = readFixtureJson('gemini/generate-content-text-thinking.json');
    const { completion, usage } = geminiAdapter.chatResponse(body, target, { dropped: [] });
    const choice = completion.choices[0];
    expect(choice?.message.content).toBe(
      "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.",
    );
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.message.tool_calls).toBeUndefined();
    expect(completion.model).toBe('gemini-3-pro-preview');
    expect(completion.id).toBe('chatcmpl-Un6LacrVMcjUxs0PmJfWoQc');
    expect(usage).toEqual({
      inputTokens: 9,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 272,
      reasoningTokens: 244,
    });
    // prompt + completion equals Gemini's totalTokenCount (281)
    expect(completion.usage?.total_tokens).toBe(281);
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(244);
  });

  it('function call: a tool call with a made-up id, parsed args and the thought signature; STOP -> tool_calls', () => {
    const body = readFixtureJson('gemini/generate-content-tool-call.json');
    const { completion, usage } = geminiAdapter.chatResponse(body, target, { dropped: [] });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(call?.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(call?.function.name).toBe('weather');
    expect(JSON.parse(call?.function.arguments ?? '')).toEqual({ location: 'San Francisco' });
    expect((call as unknown as { extra_content: unknown }).extra_content).toEqual({
      google: { thought_signature: expect.stringMatching(/^EskgCsYgAb4/) as unknown },
    });
    expect(usage).toEqual({
      inputTokens: 29,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 908,
      reasoningTokens: 893,
    });
  });

  it('two calls get two distinct ids', () => {
    const part = { functionCall: { name: 'f', args: {} } };
    const body = { candidates: [{ content: { role: 'model', parts: [part, part] }, finishReason: 'STOP' }] };
    const calls = geminiAdapter.chatResponse(body, target, { dropped: [] }).completion.choices[0]?.message
      .tool_calls;
    expect(calls).toHaveLength(2);
    expect(calls?.[0]?.id).not.toBe(calls?.[1]?.id);
  });

  it('a blocked prompt (no candidates) is an empty content_filter answer', () => {
    const body = {
      promptFeedback: { blockReason: 'SAFETY' },
      usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 },
    };
    const { completion, usage } = geminiAdapter.chatResponse(body, target, { dropped: [] });
    expect(completion.choices[0]?.finish_reason).toBe('content_filter');
    expect(usage?.inputTokens).toBe(5);
  });

  it('a 200 body that is not a GenerateContentResponse is an upstream failure', () => {
    expect(() => geminiAdapter.chatResponse({ html: '<p>proxy</p>' }, target, { dropped: [] })).toThrow(
      UpstreamStreamError,
    );
    expect(() => geminiAdapter.chatResponse('<html>', target, { dropped: [] })).toThrow(UpstreamStreamError);
  });

  it('passthrough reads usage from the body', () => {
    expect(
      geminiAdapter.usageFromBody?.(readFixtureJson('gemini/generate-content-tool-call.json')),
    ).toMatchObject({
      inputTokens: 29,
      outputTokens: 908,
      reasoningTokens: 893,
    });
    expect(geminiAdapter.usageFromBody?.({ candidates: [] })).toBeNull();
  });
});

describe('gemini adapter: stream fixtures', () => {
  it('the raw alt=sse cassette: role first, the text in order, finish stop, the last usageMetadata wins', () => {
    const events = rawSseEvents();
    expect(events).toHaveLength(3);
    const { chunks, usage } = run(events);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('The capital of France is Paris.\n');
    const finishes = chunks.map((c) => c.choices[0]?.finish_reason).filter((f) => f !== null);
    expect(finishes).toEqual(['stop']);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    // the last chunk revises promptTokenCount from 15 to 13
    expect(usage).toEqual({
      inputTokens: 13,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 8,
      reasoningTokens: 0,
    });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]?.id).toBe('chatcmpl-w1peaMz6INOvnvgPgYfPiQY');
    expect(chunks[0]?.model).toBe('gemini-2.0-flash-exp');
  });

  it('passthrough usage over the same events takes the last usageMetadata', () => {
    let usage: Usage | null = null;
    const seen: (number | undefined)[] = [];
    for (const e of rawSseEvents()) {
      usage = geminiAdapter.usageFromEvent?.(e, usage) ?? null;
      seen.push(usage?.inputTokens);
    }
    expect(seen).toEqual([15, 15, 13]);
    expect(usage?.outputTokens).toBe(8);
  });

  it('the function-call stream: one complete tool-call delta, then finish tool_calls', () => {
    const { chunks, usage } = run(readChunksJsonl('gemini/stream-tool-call.chunks.jsonl').map(sse));
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas).toHaveLength(1);
    const call = toolDeltas[0];
    expect(call?.index).toBe(0);
    expect(call?.id).toMatch(/^call_/);
    expect(call?.type).toBe('function');
    expect(call?.function?.name).toBe('weather');
    expect(JSON.parse(call?.function?.arguments ?? '')).toEqual({ location: 'San Francisco' });
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('');
    expect(usage).toEqual({
      inputTokens: 29,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 60,
      reasoningTokens: 45,
    });
  });

  it('thought parts stream as reasoning_content', () => {
    const chunk = (parts: unknown[], finishReason?: string) => ({
      candidates: [{ content: { role: 'model', parts }, ...(finishReason ? { finishReason } : {}) }],
      usageMetadata: {
        promptTokenCount: 4,
        candidatesTokenCount: 2,
        thoughtsTokenCount: 3,
        totalTokenCount: 9,
      },
    });
    const { chunks, usage } = run([
      sse(chunk([{ text: 'Let me think.', thought: true }])),
      sse(chunk([{ text: 'Hi' }], 'STOP')),
    ]);
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')).toBe('Let me think.');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hi');
    expect(usage?.reasoningTokens).toBe(3);
    expect(usage?.outputTokens).toBe(5);
  });

  it('MAX_TOKENS -> length, SAFETY -> content_filter', () => {
    for (const [reason, expected] of [
      ['MAX_TOKENS', 'length'],
      ['SAFETY', 'content_filter'],
      ['RECITATION', 'content_filter'],
    ] as const) {
      const { chunks } = run([
        sse({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: reason }] }),
      ]);
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe(expected);
    }
  });

  it('an error frame after HTTP 200 throws UpstreamStreamError with the frame status', () => {
    const conv = geminiAdapter.chatStream(target, { dropped: [] });
    conv.push(sse(readChunksJsonl('gemini/stream-tool-call.chunks.jsonl')[0]));
    let thrown: unknown;
    try {
      conv.push(sse({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UpstreamStreamError);
    expect((thrown as UpstreamStreamError).failure).toMatchObject({ status: 503, action: 'retry' });
  });

  it('a stream that ends without finishReason is reported as cut off; garbage is an error', () => {
    const conv = geminiAdapter.chatStream(target, { dropped: [] });
    conv.push(sse({ candidates: [{ content: { parts: [{ text: 'Hel' }] } }] }));
    expect(() => conv.end()).toThrow(UpstreamStreamError);
    const conv2 = geminiAdapter.chatStream(target, { dropped: [] });
    expect(() => conv2.push(sse('{"candidates": [ nope'))).toThrow(UpstreamStreamError);
  });
});

describe('gemini adapter: recorded errors', () => {
  it('429 RESOURCE_EXHAUSTED: retry after RetryInfo.retryDelay (34.4s)', () => {
    const body = readFixtureText('gemini/error-429-resource-exhausted.json');
    const failure = geminiAdapter.classifyError(429, {}, body);
    expect(failure.action).toBe('retry');
    expect(failure.retryAfterMs).toBe(34_400);
    expect(failure.status).toBe(429);
    expect(failure.message).toContain('RESOURCE_EXHAUSTED');
  });
});
