/**
 * The OpenAI-compatible stream normaliser over recorded streams (OpenAI tool call with usage,
 * Qwen's repeated empty ids and trailing empty delta, an OpenAI-compatible gateway numbering tool
 * calls from 1, Azure's empty first chunk): the chunks it emits must aggregate into exactly the
 * tool calls and text the upstream meant, with usage kept aside; and its failure cases.
 */
import { describe, expect, it } from 'vitest';
import { createOpenAIStreamConverter } from '../../src/daemon/providers/openai/stream.js';
import type { OpenAIChatChunk } from '../../src/daemon/providers/openai/types.js';
import type { ChatStreamConverter, SseEvent, UpstreamTarget } from '../../src/daemon/providers/types.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import { cassetteResponseBodies, readChunksJsonl, readFixtureText } from '../support/fixtures.js';
import { upstreamTarget } from '../support/upstream-target.js';

const target: UpstreamTarget = upstreamTarget(
  { name: 'c', type: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1', timeoutMs: 1000 },
  'sk-test',
  'upstream-model',
);

const sse = (data: string, event?: string): SseEvent => ({ kind: 'sse', event, data });

function sseEvents(raw: string): SseEvent[] {
  const d = new SseDecoder();
  return [...d.push(Buffer.from(raw)), ...d.end()];
}

function run(events: SseEvent[]): { chunks: OpenAIChatChunk[]; conv: ChatStreamConverter } {
  const conv = createOpenAIStreamConverter(target, { dropped: [] });
  const chunks: OpenAIChatChunk[] = [];
  for (const e of events) chunks.push(...conv.push(e));
  chunks.push(...conv.end());
  return { chunks, conv };
}

interface Aggregate {
  text: string;
  reasoning: string;
  calls: { index: number; id: string; name: string; args: string }[];
  finish: string[];
  roles: number;
}

/** Folds chunks the way a strict client does: a tool call starts only with an id. */
function aggregate(chunks: OpenAIChatChunk[]): Aggregate {
  const agg: Aggregate = { text: '', reasoning: '', calls: [], finish: [], roles: 0 };
  for (const chunk of chunks) {
    expect(chunk.object).toBe('chat.completion.chunk');
    expect(chunk.usage).toBeUndefined();
    expect(chunk.choices.length).toBeGreaterThan(0);
    for (const choice of chunk.choices) {
      const d = choice.delta;
      if (d.role !== undefined) agg.roles++;
      agg.text += d.content ?? '';
      agg.reasoning += d.reasoning_content ?? '';
      for (const tc of d.tool_calls ?? []) {
        if (tc.id !== undefined) {
          expect(tc.id).not.toBe('');
          expect(tc.index).toBe(agg.calls.length);
          agg.calls.push({
            index: tc.index,
            id: tc.id,
            name: tc.function?.name ?? '',
            args: tc.function?.arguments ?? '',
          });
        } else {
          const call = agg.calls[tc.index];
          expect(call, `continuation for unknown index ${tc.index}`).toBeDefined();
          if (call) call.args += tc.function?.arguments ?? '';
        }
      }
      if (choice.finish_reason !== null) agg.finish.push(choice.finish_reason);
    }
  }
  return agg;
}

describe('createOpenAIStreamConverter on recorded streams', () => {
  it('OpenAI tool call with include_usage', () => {
    const [toolTurn, textTurn] = cassetteResponseBodies(
      'openai/chat-stream-tool-call-include-usage.cassette.yaml',
    );
    const { chunks, conv } = run(sseEvents(toolTurn ?? ''));
    const agg = aggregate(chunks);
    expect(agg.calls).toEqual([
      { index: 0, id: 'call_ZR5UUuTt3pf61kjwAJIYdVMj', name: 'get_capital', args: '{"country":"UK"}' },
    ]);
    expect(agg.finish).toEqual(['tool_calls']);
    expect(conv.usage()).toMatchObject({ inputTokens: 53, outputTokens: 15 });
    expect(
      chunks.every(
        (c) => c.id === 'chatcmpl-Dx0XpqH8w09uBXwq1zFGYdETjtnEl' && c.model === 'gpt-4o-mini-2024-07-18',
      ),
    ).toBe(true);

    const text = run(sseEvents(textTurn ?? ''));
    const aggText = aggregate(text.chunks);
    expect(aggText).toMatchObject({
      text: 'The capital of the UK is London.',
      calls: [],
      finish: ['stop'],
      roles: 1,
    });
    expect(text.conv.usage()).toMatchObject({ inputTokens: 78, outputTokens: 9 });
  });

  it('Qwen: repeated empty ids and the trailing empty delta do not start new calls', () => {
    const events = (readChunksJsonl('qwen/chat-stream-tool-call.chunks.jsonl') as object[]).map((c) =>
      sse(JSON.stringify(c)),
    );
    const { chunks, conv } = run([...events, sse('[DONE]')]);
    const agg = aggregate(chunks);
    expect(agg.calls).toEqual([
      {
        index: 0,
        id: 'call_eee11723464a4b9eb8cee71d',
        name: 'weather',
        args: '{"location": "San Francisco"}',
      },
    ]);
    expect(agg.finish).toEqual(['tool_calls']);
    expect(conv.usage()).toEqual({
      inputTokens: 295,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 22,
      reasoningTokens: 0,
    });
    // six upstream chunks: the trailing empty-arguments delta and the usage chunk emit nothing
    expect(chunks).toHaveLength(4);
  });

  it('OpenAI-compatible gateway: tool indexes from 1 are renumbered from 0', () => {
    const { chunks, conv } = run(sseEvents(readFixtureText('openai-compatible/stream-tool-call-index1.sse')));
    const agg = aggregate(chunks);
    expect(agg.text).toBe('Reading it.');
    expect(agg.calls).toEqual([
      { index: 0, id: 'toolu_sanitized', name: 'read_file', args: '{"path": "a.txt"}' },
    ]);
    expect(agg.finish).toEqual(['tool_calls']);
    expect(conv.usage()).toBeNull();
  });

  it('Azure: the empty-choices first chunk is skipped and the usage chunk read', () => {
    const events = (readChunksJsonl('azure/chat-stream.chunks.jsonl') as object[]).map((c) =>
      sse(JSON.stringify(c)),
    );
    const { chunks, conv } = run([...events, sse('[DONE]')]);
    const agg = aggregate(chunks);
    expect(agg).toMatchObject({ text: 'Capital of Denmark.', finish: ['stop'], roles: 1 });
    expect(chunks[0]?.id).toBe('chatcmpl-CYPS1lijGoK8gd9lYzY3r9Sx50nbt');
    expect(chunks[0]?.model).toBe('gpt-5-nano-2025-08-07');
    expect(conv.usage()).toMatchObject({ inputTokens: 15, outputTokens: 78, reasoningTokens: 64 });
  });
});

const chunk = (delta: object, finish: string | null = null, extra: object = {}): SseEvent =>
  sse(
    JSON.stringify({
      id: 'x',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [{ index: 0, delta, finish_reason: finish }],
      ...extra,
    }),
  );

describe('createOpenAIStreamConverter edge cases', () => {
  it('synthesizes ids for empty first ids and keeps parallel calls apart', () => {
    const { chunks } = run([
      chunk({
        role: 'assistant',
        tool_calls: [{ index: 0, id: '', type: 'function', function: { name: 'a', arguments: '' } }],
      }),
      chunk({
        tool_calls: [{ index: 1, id: '', type: 'function', function: { name: 'b', arguments: '{}' } }],
      }),
      chunk({ tool_calls: [{ index: 0, id: '', function: { arguments: '{"x":1}' } }] }),
      chunk({}, 'tool_calls'),
      sse('[DONE]'),
    ]);
    const agg = aggregate(chunks);
    expect(agg.calls.map((c) => [c.index, c.name, c.args])).toEqual([
      [0, 'a', '{"x":1}'],
      [1, 'b', '{}'],
    ]);
    for (const c of agg.calls) expect(c.id).toMatch(/^call_[\w-]{8,}$/);
    expect(agg.calls[0]?.id).not.toBe(agg.calls[1]?.id);
  });

  it('maps reasoning spellings and a "stop" after tool calls', () => {
    const { chunks } = run([
      chunk({ role: 'assistant', reasoning: 'think ' }),
      chunk({ reasoning_content: 'more' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{}' } }] }),
      chunk({}, 'stop'),
    ]);
    const agg = aggregate(chunks);
    expect(agg.reasoning).toBe('think more');
    expect(agg.finish).toEqual(['tool_calls']);
  });

  it('ignores events after [DONE], comments-only data and non-SSE events', () => {
    const conv = createOpenAIStreamConverter(target, { dropped: [] });
    expect(conv.push(sse(''))).toEqual([]);
    expect(conv.push({ kind: 'eventstream', headers: {}, payload: Buffer.alloc(0) })).toEqual([]);
    expect(conv.push(chunk({ content: 'hi' }))).toHaveLength(1);
    expect(conv.push(sse('[DONE]'))).toEqual([]);
    expect(conv.push(chunk({ content: 'late' }))).toEqual([]);
    expect(conv.push(sse('not json after done'))).toEqual([]);
    expect(conv.end()).toEqual([]);
  });

  it('throws UpstreamStreamError on an error payload mid-stream', () => {
    const conv = createOpenAIStreamConverter(target, { dropped: [] });
    conv.push(chunk({ content: 'partial' }));
    const payload = JSON.stringify({
      error: { message: 'The server had an error', type: 'server_error', code: null },
    });
    const thrown = (() => {
      try {
        conv.push(sse(payload));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(UpstreamStreamError);
    expect((thrown as UpstreamStreamError).failure).toMatchObject({
      status: 502,
      message: 'upstream stream error: The server had an error',
    });
    expect(() => createOpenAIStreamConverter(target, { dropped: [] }).push(sse('{"x":1}', 'error'))).toThrow(
      UpstreamStreamError,
    );
    const coded = JSON.stringify({ error: { message: 'slow down', code: 429 } });
    let status: number | undefined;
    try {
      createOpenAIStreamConverter(target, { dropped: [] }).push(sse(coded));
    } catch (e) {
      status = e instanceof UpstreamStreamError ? e.failure.status : undefined;
    }
    expect(status).toBe(429);
  });

  it('throws a clear UpstreamStreamError on unparseable data', () => {
    const conv = createOpenAIStreamConverter(target, { dropped: [] });
    expect(() => conv.push(sse('<html>502 Bad Gateway</html>'))).toThrow(
      /unparseable stream event: "<html>502 Bad Gateway<\/html>"/,
    );
    expect(() => conv.push(sse('[1,2]'))).toThrow(UpstreamStreamError);
  });

  it('throws at end() when the stream stopped before finishing', () => {
    const conv = createOpenAIStreamConverter(target, { dropped: [] });
    conv.push(chunk({ role: 'assistant', content: 'half' }));
    expect(() => conv.end()).toThrow(/ended before the response was complete/);
    const finished = createOpenAIStreamConverter(target, { dropped: [] });
    finished.push(chunk({}, 'stop'));
    expect(finished.end()).toEqual([]);
  });

  it('fills id and model when the upstream leaves them empty', () => {
    const { chunks } = run([
      sse(
        JSON.stringify({
          id: '',
          model: '',
          created: 0,
          choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }],
        }),
      ),
      sse(JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'weird_reason' }] })),
    ]);
    expect(chunks[0]?.id).toMatch(/^chatcmpl-[\w-]{10,}$/);
    expect(chunks[1]?.id).toBe(chunks[0]?.id);
    expect(chunks[0]?.model).toBe('upstream-model');
    expect(chunks[0]?.created).toBeGreaterThan(1_700_000_000);
    expect(chunks[1]?.choices[0]?.finish_reason).toBe('stop');
  });
});
