/**
 * The Anthropic adapter over every recorded Anthropic fixture: the OpenAI completion or chunks it
 * produces are checked field by field (text, tool call ids/names/arguments, reasoning, finish
 * reason, usage), and the passthrough usage readers must agree with the converted usage.
 */
import { describe, expect, it } from 'vitest';
import { anthropicAdapter } from '../../src/daemon/providers/anthropic/index.js';
import type { SseEvent, UpstreamTarget, Usage } from '../../src/daemon/providers/types.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import type { OpenAIChatChunk } from '../../src/daemon/providers/openai/types.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import { cassetteResponseBodies, readChunksJsonl, readFixtureJson } from '../support/fixtures.js';
import { upstreamTarget } from '../support/upstream-target.js';

const target: UpstreamTarget = upstreamTarget(
  { name: 'claude', type: 'anthropic', baseUrl: 'https://api.anthropic.com', timeoutMs: 60_000 },
  'sk-ant-test',
  'claude-sonnet-4-5',
);

function usage(input: number, output: number, cached = 0, write = 0): Usage {
  return {
    inputTokens: input,
    cachedTokens: cached,
    cacheWriteTokens: write,
    outputTokens: output,
    reasoningTokens: 0,
  };
}

function eventsFromChunks(rel: string): SseEvent[] {
  return readChunksJsonl(rel).map((c) => ({
    kind: 'sse',
    event: (c as { type: string }).type,
    data: JSON.stringify(c),
  }));
}

function eventsFromRawCassette(rel: string): SseEvent[] {
  const body = cassetteResponseBodies(rel)[0] ?? '';
  const dec = new SseDecoder();
  return [...dec.push(Buffer.from(body, 'utf8')), ...dec.end()].filter(
    (e): e is SseEvent => e.kind === 'sse',
  );
}

interface Collected {
  chunks: OpenAIChatChunk[];
  content: string;
  reasoning: string;
  tools: { id: string; name: string; args: string }[];
  finish: string | null;
  usageChunk: OpenAIChatChunk | undefined;
  usage: Usage | null;
  passthroughUsage: Usage | null;
}

function run(events: SseEvent[]): Collected {
  const conv = anthropicAdapter.chatStream(target, { dropped: [] });
  const chunks: OpenAIChatChunk[] = [];
  let passthroughUsage: Usage | null = null;
  for (const ev of events) {
    chunks.push(...conv.push(ev));
    passthroughUsage = anthropicAdapter.usageFromEvent?.(ev, passthroughUsage) ?? null;
  }
  chunks.push(...conv.end());
  const out: Collected = {
    chunks,
    content: '',
    reasoning: '',
    tools: [],
    finish: null,
    usageChunk: chunks.find((c) => c.choices.length === 0 && c.usage),
    usage: conv.usage(),
    passthroughUsage,
  };
  for (const c of chunks) {
    const choice = c.choices[0];
    if (!choice) continue;
    out.content += choice.delta.content ?? '';
    out.reasoning += choice.delta.reasoning_content ?? '';
    if (choice.finish_reason) out.finish = choice.finish_reason;
    for (const tc of choice.delta.tool_calls ?? []) {
      const slot = (out.tools[tc.index] ??= { id: '', name: '', args: '' });
      slot.id += tc.id ?? '';
      slot.name += tc.function?.name ?? '';
      slot.args += tc.function?.arguments ?? '';
    }
  }
  return out;
}

describe('anthropic adapter: non-stream fixtures', () => {
  it('messages-nonstream-text.json -> text completion with usage', () => {
    const body = readFixtureJson('anthropic/messages-nonstream-text.json');
    const { completion, usage: u } = anthropicAdapter.chatResponse(body, target, { dropped: [] });
    expect(completion.id).toBe('msg_01VdEjxAP5ahtHKrrRdNBteQ');
    expect(completion.model).toBe('claude-sonnet-4-5-20250929');
    expect(completion.choices[0]?.message).toEqual({
      role: 'assistant',
      content:
        "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?",
    });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(u).toEqual(usage(12, 29));
    expect(completion.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 29, total_tokens: 41 });
    expect(anthropicAdapter.usageFromBody?.(body)).toEqual(usage(12, 29));
  });

  it('messages-nonstream-tool-use.json -> tool_calls with JSON arguments', () => {
    const body = readFixtureJson('anthropic/messages-nonstream-tool-use.json');
    const { completion, usage: u } = anthropicAdapter.chatResponse(body, target, { dropped: [] });
    const msg = completion.choices[0]?.message;
    expect(msg?.content).toBeNull();
    expect(msg?.tool_calls).toEqual([
      {
        id: 'toolu_01PQjhxo3eirCdKNvCJrKc8f',
        type: 'function',
        function: { name: 'weather', arguments: '{"location":"San Francisco"}' },
      },
    ]);
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(u).toEqual(usage(843, 28));
  });

  it('normalizes cache reads and writes into prompt tokens', () => {
    const body = {
      id: 'msg_x',
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 's' },
        { type: 'text', text: 'ok' },
      ],
      stop_reason: 'max_tokens',
      stop_sequence: null,
      usage: {
        input_tokens: 10,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 50,
        output_tokens: 7,
      },
    };
    const { completion, usage: u } = anthropicAdapter.chatResponse(body, target, { dropped: [] });
    expect(u).toEqual(usage(160, 7, 100, 50));
    expect(completion.usage).toMatchObject({
      prompt_tokens: 160,
      prompt_tokens_details: { cached_tokens: 100 },
    });
    expect(completion.choices[0]?.message.reasoning_content).toBe('hmm');
    expect(completion.choices[0]?.finish_reason).toBe('length');
  });
});

describe('anthropic adapter: stream fixtures', () => {
  it('raw SSE cassette (padding spaces, ping) -> "2", stop, usage 20/5', () => {
    const r = run(eventsFromRawCassette('anthropic/messages-stream-text-raw-sse.cassette.yaml'));
    expect(r.chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(r.chunks[0]?.id).toBe('msg_018E1hg8GoVTGEKQY3ovMcSJ');
    expect(r.chunks[0]?.model).toBe('claude-sonnet-4-5-20250929');
    expect(r.content).toBe('2');
    expect(r.finish).toBe('stop');
    expect(r.usage).toEqual(usage(20, 5));
    expect(r.passthroughUsage).toEqual(usage(20, 5));
    expect(r.usageChunk?.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 });
  });

  it('tool-use chunks -> one tool call, arguments joined, pings ignored', () => {
    const r = run(eventsFromChunks('anthropic/messages-stream-tool-use.chunks.jsonl'));
    expect(r.tools).toEqual([
      { id: 'toolu_019Zvehfe1XQWweT1pm7okyt', name: 'weather', args: '{"location": "San Francisco"}' },
    ]);
    expect(r.content).toBe('');
    expect(r.finish).toBe('tool_calls');
    expect(r.usage).toEqual(usage(843, 28));
    expect(r.passthroughUsage).toEqual(usage(843, 28));
    const first = r.chunks.find((c) => c.choices[0]?.delta.tool_calls);
    expect(first?.choices[0]?.delta.tool_calls?.[0]).toMatchObject({ index: 0, type: 'function' });
  });

  it('text then a no-argument tool -> content, then tool index 0 with "{}"', () => {
    const r = run(eventsFromChunks('anthropic/messages-stream-text-then-tool-no-args.chunks.jsonl'));
    expect(r.content).toBe("I'll update the issue list for you.");
    expect(r.tools).toEqual([{ id: 'toolu_01QE1WLsSVp5hy5Q3GmGTmjP', name: 'updateIssueList', args: '{}' }]);
    expect(r.finish).toBe('tool_calls');
    expect(r.usage).toEqual(usage(565, 48));
  });

  it('thinking chunks -> reasoning_content then content; signature dropped', () => {
    const r = run(eventsFromChunks('anthropic/messages-stream-thinking.chunks.jsonl'));
    expect(r.reasoning).toBe('The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185');
    expect(r.content).toBe('925 ÷ 5 = 185');
    expect(r.finish).toBe('stop');
    expect(r.usage).toEqual(usage(69, 53));
    expect(JSON.stringify(r.chunks)).not.toContain('EvQBCkYICxgC');
  });

  it('takes the last input_tokens and cache values seen (message_delta may revise them)', () => {
    const start = {
      type: 'message_start',
      message: {
        id: 'msg_1',
        model: 'c',
        usage: { input_tokens: 43, cache_read_input_tokens: 5, output_tokens: 1 },
      },
    };
    const delta = {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn' },
      usage: { input_tokens: 61, output_tokens: 9 },
    };
    const events: SseEvent[] = [start, delta, { type: 'message_stop' }].map((d) => ({
      kind: 'sse',
      event: d.type,
      data: JSON.stringify(d),
    }));
    const r = run(events);
    expect(r.usage).toEqual(usage(66, 9, 5));
    expect(r.passthroughUsage).toEqual(usage(66, 9, 5));
  });

  it('event: error after HTTP 200 throws a retryable UpstreamStreamError', () => {
    const conv = anthropicAdapter.chatStream(target, { dropped: [] });
    conv.push({ kind: 'sse', event: 'ping', data: '{"type": "ping"}' });
    const data = '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}';
    let caught: unknown;
    try {
      conv.push({ kind: 'sse', event: 'error', data });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UpstreamStreamError);
    expect((caught as UpstreamStreamError).failure).toMatchObject({ action: 'retry', status: 529 });
  });

  it('an unreadable event fails the attempt as retryable', () => {
    const conv = anthropicAdapter.chatStream(target, { dropped: [] });
    expect(() => conv.push({ kind: 'sse', event: 'message_start', data: '{"type":"message_st' })).toThrow(
      UpstreamStreamError,
    );
  });

  it('a stream cut before message_delta/message_stop fails at end()', () => {
    const events = eventsFromChunks('anthropic/messages-stream-tool-use.chunks.jsonl').slice(0, 4);
    const conv = anthropicAdapter.chatStream(target, { dropped: [] });
    for (const ev of events) conv.push(ev);
    expect(() => conv.end()).toThrow(UpstreamStreamError);
  });
});

describe('anthropic adapter: requests', () => {
  it('builds /v1/messages with x-api-key and anthropic-version', () => {
    expect(anthropicAdapter.defaultBaseUrl('anthropic')).toBe('https://api.anthropic.com');
    expect(anthropicAdapter.passthrough).toBe('anthropic');
    expect(anthropicAdapter.streamFraming).toBe('sse');
    const req = anthropicAdapter.chatRequest(
      { model: 'alias', messages: [{ role: 'user', content: 'hi' }], stream: true },
      target,
      { dropped: [] },
    );
    expect(req.method).toBe('POST');
    expect(req.url).toBe('https://api.anthropic.com/v1/messages');
    expect(req.headers).toMatchObject({
      'x-api-key': 'sk-ant-test',
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
    });
    expect(JSON.parse(String(req.body))).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      stream: true,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    });
  });

  it('passthrough forwards the bytes to the given path', () => {
    const bytes = Buffer.from('{"model":"x"}');
    const req = anthropicAdapter.passthroughRequest?.(
      '/v1/messages/count_tokens',
      bytes,
      target,
      'application/json',
    );
    expect(req?.url).toBe('https://api.anthropic.com/v1/messages/count_tokens');
    expect(req?.body).toBe(bytes);
    expect(req?.headers).toMatchObject({ 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' });
  });
});
