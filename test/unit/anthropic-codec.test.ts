/**
 * The Anthropic inbound codec: request validation and conversion to the canonical OpenAI shape,
 * Message and stream encoding, error shapes, and round trips through the Anthropic adapter
 * (Anthropic -> OpenAI -> Anthropic must give back what went in).
 */
import { describe, expect, it } from 'vitest';
import { anthropicCodec, countTokensToOpenAI } from '../../src/daemon/inbound/anthropic/index.js';
import { anthropicAdapter } from '../../src/daemon/providers/anthropic/index.js';
import { toAnthropicRequest } from '../../src/daemon/providers/anthropic/request.js';
import type { OpenAIChatChunk, OpenAIChatCompletion } from '../../src/daemon/providers/openai/types.js';
import type { SseEvent, UpstreamTarget } from '../../src/daemon/providers/types.js';
import { BcError } from '../../src/shared/errors.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import { readChunksJsonl, readFixtureJson } from '../support/fixtures.js';
import { upstreamTarget } from '../support/upstream-target.js';

type Json = Record<string, unknown>;
const base = { model: 'claude-sonnet-4-5', max_tokens: 512, messages: [{ role: 'user', content: 'hi' }] };

function toOpenAI(body: unknown, dropped: string[] = []) {
  return anthropicCodec.toOpenAI(body, { dropped });
}

function thrown(fn: () => unknown): BcError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BcError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('anthropic codec: validation', () => {
  const cases: [string, unknown, string][] = [
    ['model missing', { ...base, model: undefined }, 'model'],
    ['model not a string', { ...base, model: 3 }, 'model'],
    ['max_tokens missing', { ...base, max_tokens: undefined }, 'max_tokens'],
    ['max_tokens a string', { ...base, max_tokens: '10' }, 'max_tokens'],
    ['max_tokens zero', { ...base, max_tokens: 0 }, 'max_tokens'],
    ['messages missing', { ...base, messages: undefined }, 'messages'],
    ['messages an object', { ...base, messages: {} }, 'messages'],
    ['bad role', { ...base, messages: [{ role: 'tool', content: 'x' }] }, 'messages.0.role'],
    ['bad content', { ...base, messages: [{ role: 'user', content: 5 }] }, 'messages.0.content'],
    ['not an object', [1, 2], 'body'],
  ];
  it.each(cases)('%s -> 400 naming %s', (_name, body, param) => {
    const err = thrown(() => toOpenAI(body));
    expect(err.code).toBe('INVALID_REQUEST');
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.message.startsWith(`${param}: `)).toBe(true);
  });

  it('count_tokens bodies need no max_tokens', () => {
    const req = countTokensToOpenAI({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, []);
    expect(req.messages).toEqual([{ role: 'user', content: 'x' }]);
  });
});

describe('anthropic codec: toOpenAI', () => {
  it('converts system, content blocks, tool use and results, tools, choice, thinking, stops, metadata', () => {
    const dropped: string[] = [];
    const req = toOpenAI(
      {
        model: 'claude-x',
        max_tokens: 20000,
        stream: true,
        system: [
          { type: 'text', text: 'You are Claude Code.' },
          { type: 'text', text: 'Be careful.', cache_control: { type: 'ephemeral' } },
        ],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this image?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'AAAA' } },
              { type: 'image', source: { type: 'url', url: 'https://x.test/a.png' } },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'let me look', signature: 'sig1' },
              { type: 'text', text: 'Let me check.' },
              { type: 'tool_use', id: 'toolu_1', name: 'read', input: { path: 'a.txt' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'file body' }] },
              { type: 'text', text: 'go on' },
            ],
          },
        ],
        tools: [
          { name: 'read', description: 'Read a file', input_schema: { type: 'object', properties: {} } },
          { type: 'web_search_20250305', name: 'web_search' },
        ],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        thinking: { type: 'enabled', budget_tokens: 10000 },
        stop_sequences: ['STOP'],
        temperature: 1,
        top_k: 5,
        metadata: { user_id: 'user-7' },
      },
      dropped,
    );
    expect(req.model).toBe('claude-x');
    expect(req.max_tokens).toBe(20000);
    expect(req.stream).toBe(true);
    expect(req.stream_options).toEqual({ include_usage: true });
    expect(req.messages[0]).toEqual({ role: 'system', content: 'You are Claude Code.\nBe careful.' });
    expect(req.messages[1]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this image?' },
        { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } },
        { type: 'image_url', image_url: { url: 'https://x.test/a.png' } },
      ],
    });
    expect(req.messages[2]).toMatchObject({
      role: 'assistant',
      content: 'Let me check.',
      reasoning_content: 'let me look',
      tool_calls: [
        { id: 'toolu_1', type: 'function', function: { name: 'read', arguments: '{"path":"a.txt"}' } },
      ],
    });
    expect(req.messages[3]).toEqual({ role: 'tool', tool_call_id: 'toolu_1', content: 'file body' });
    expect(req.messages[4]).toEqual({ role: 'user', content: 'go on' });
    expect(req.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'read',
          description: 'Read a file',
          parameters: { type: 'object', properties: {} },
        },
      },
    ]);
    expect(req.tool_choice).toBe('required');
    expect(req.parallel_tool_calls).toBe(false);
    expect(req.reasoning_effort).toBe('medium');
    expect(req.stop).toEqual(['STOP']);
    expect(req.temperature).toBe(1);
    expect(req.user).toBe('user-7');
    expect(dropped.sort()).toEqual(['tools.web_search', 'top_k']);
  });

  it('maps each tool_choice and thinking budget', () => {
    const tools = [{ name: 't', input_schema: { type: 'object' } }];
    const choice = (tc: unknown) => toOpenAI({ ...base, tools, tool_choice: tc }).tool_choice;
    expect(choice({ type: 'auto' })).toBe('auto');
    expect(choice({ type: 'none' })).toBe('none');
    expect(choice({ type: 'tool', name: 't' })).toEqual({ type: 'function', function: { name: 't' } });
    const effort = (budget: number) =>
      toOpenAI({ ...base, thinking: { type: 'enabled', budget_tokens: budget } }).reasoning_effort;
    expect([1024, 2048, 4000, 8192, 31999].map(effort)).toEqual(['minimal', 'low', 'low', 'medium', 'high']);
    expect(toOpenAI({ ...base, thinking: { type: 'disabled' } }).reasoning_effort).toBeUndefined();
  });

  it('round trip: Anthropic request -> OpenAI -> Anthropic keeps the conversation', () => {
    const original = {
      model: 'claude-x',
      max_tokens: 1000,
      system: [{ type: 'text', text: 'sys' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'q' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'calling' },
            { type: 'tool_use', id: 'toolu_9', name: 'f', input: { a: 1 } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_9', content: 'done' },
            { type: 'text', text: 'next' },
          ],
        },
      ],
      tools: [
        {
          name: 'f',
          description: 'F',
          input_schema: { type: 'object', properties: { a: { type: 'number' } } },
        },
      ],
      tool_choice: { type: 'auto' },
      stop_sequences: ['X'],
    };
    const back = toAnthropicRequest(toOpenAI(original), 'claude-x', []);
    expect(back).toEqual(original);
  });
});

const target: UpstreamTarget = upstreamTarget(
  { name: 'c', type: 'anthropic', baseUrl: 'http://x', timeoutMs: 1 },
  's',
  'claude-up',
);

describe('anthropic codec: fromOpenAI', () => {
  it('round trip: recorded Message -> OpenAI completion -> Message', () => {
    for (const rel of [
      'anthropic/messages-nonstream-text.json',
      'anthropic/messages-nonstream-tool-use.json',
    ]) {
      const original = readFixtureJson<Json>(rel);
      const { completion, usage } = anthropicAdapter.chatResponse(original, target, { dropped: [] });
      const back = anthropicCodec.fromOpenAI(completion, usage, 'claude-alias') as Json;
      expect(back.id).toBe(original.id);
      expect(back.model).toBe('claude-alias');
      expect(back.content).toEqual(original.content);
      expect(back.stop_reason).toBe(original.stop_reason);
      expect(back.usage).toEqual({
        input_tokens: (original.usage as Json).input_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: (original.usage as Json).output_tokens,
      });
    }
  });

  it('puts thinking first, parses tool input, splits cached input back out', () => {
    const completion: OpenAIChatCompletion = {
      id: 'chatcmpl-abc123',
      object: 'chat.completion',
      created: 1,
      model: 'gpt',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Sure.',
            reasoning_content: 'thinking...',
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"x":[1,2]}' } },
            ],
          },
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 100,
        completion_tokens: 20,
        total_tokens: 120,
        prompt_tokens_details: { cached_tokens: 60 },
      },
    };
    const msg = anthropicCodec.fromOpenAI(completion, null, 'claude-alias') as Json;
    expect(msg).toMatchObject({
      id: 'msg_chatcmplabc123',
      type: 'message',
      role: 'assistant',
      stop_sequence: null,
    });
    expect(msg.content).toEqual([
      { type: 'thinking', thinking: 'thinking...', signature: '' },
      { type: 'text', text: 'Sure.' },
      { type: 'tool_use', id: 'call_1', name: 'f', input: { x: [1, 2] } },
    ]);
    // a tool call finishing with `stop` (Gemini does that) is still a tool_use turn
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.usage).toEqual({
      input_tokens: 40,
      cache_read_input_tokens: 60,
      cache_creation_input_tokens: 0,
      output_tokens: 20,
    });
  });

  it('maps finish reasons', () => {
    const reasonOf = (finish: OpenAIChatCompletion['choices'][number]['finish_reason']) => {
      const c: OpenAIChatCompletion = {
        id: 'x',
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [{ index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: finish }],
      };
      return (anthropicCodec.fromOpenAI(c, null, 'm') as Json).stop_reason;
    };
    expect(
      ['stop', 'length', 'tool_calls', 'content_filter', null].map((r) => reasonOf(r as 'stop')),
    ).toEqual(['end_turn', 'max_tokens', 'tool_use', 'refusal', 'end_turn']);
  });
});

function decode(frames: string[]): { event: string | undefined; data: Json }[] {
  const dec = new SseDecoder();
  const events = [...dec.push(Buffer.from(frames.join(''))), ...dec.end()] as SseEvent[];
  return events.map((e) => ({ event: e.event, data: JSON.parse(e.data) as Json }));
}

function adapterChunks(rel: string): OpenAIChatChunk[] {
  const conv = anthropicAdapter.chatStream(target, { dropped: [] });
  const out: OpenAIChatChunk[] = [];
  for (const c of readChunksJsonl(rel)) {
    out.push(...conv.push({ kind: 'sse', event: (c as Json).type as string, data: JSON.stringify(c) }));
  }
  return [...out, ...conv.end()];
}

describe('anthropic codec: stream encoder', () => {
  it('round trip of the text-then-tool stream gives the same block sequence', () => {
    const rel = 'anthropic/messages-stream-text-then-tool-no-args.chunks.jsonl';
    const conv = anthropicAdapter.chatStream(target, { dropped: [] });
    const enc = anthropicCodec.streamEncoder('claude-alias');
    const frames: string[] = [];
    for (const c of readChunksJsonl(rel)) {
      for (const chunk of conv.push({
        kind: 'sse',
        event: (c as Json).type as string,
        data: JSON.stringify(c),
      })) {
        frames.push(...enc.push(chunk));
      }
    }
    frames.push(...enc.end(conv.usage()));
    const events = decode(frames);
    for (const e of events) expect(e.event).toBe(e.data.type);
    expect(events.map((e) => e.data.type).filter((t) => t !== 'ping')).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const starts = events.filter((e) => e.data.type === 'content_block_start').map((e) => e.data);
    expect(starts).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_start',
        index: 1,
        content_block: {
          type: 'tool_use',
          id: 'toolu_01QE1WLsSVp5hy5Q3GmGTmjP',
          name: 'updateIssueList',
          input: {},
        },
      },
    ]);
    const last = events.find((e) => e.data.type === 'message_delta')?.data;
    expect(last).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: {
        input_tokens: 565,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 48,
      },
    });
  });

  it('switches block on a change of kind: thinking -> text', () => {
    const enc = anthropicCodec.streamEncoder('m');
    const frames = adapterChunks('anthropic/messages-stream-thinking.chunks.jsonl').flatMap((c) =>
      enc.push(c),
    );
    frames.push(...enc.end(null));
    const events = decode(frames).map((e) => e.data);
    const kinds = events
      .filter((e) => e.type === 'content_block_start')
      .map((e) => [e.index, (e.content_block as Json).type]);
    expect(kinds).toEqual([
      [0, 'thinking'],
      [1, 'text'],
    ]);
    const thinking = events
      .filter((e) => e.type === 'content_block_delta' && e.index === 0)
      .map((e) => (e.delta as Json).thinking)
      .join('');
    expect(thinking).toBe('The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185');
  });

  it("message_start states the gateway's prompt count until the upstream reports usage", () => {
    const chunk = (delta: Json, finish: string | null = null, usage?: Json): OpenAIChatChunk =>
      ({
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, delta, finish_reason: finish }],
        ...(usage ? { usage } : {}),
      }) as unknown as OpenAIChatChunk;
    const usageOf = (frames: string[], type: string): Json => {
      const e = decode(frames).find((x) => x.data.type === type)!.data;
      return (type === 'message_start' ? (e.message as Json).usage : e.usage) as Json;
    };
    // An OpenAI-protocol upstream reports usage only in its last chunk.
    const enc = anthropicCodec.streamEncoder('m', 42);
    const frames = [chunk({ role: 'assistant', content: 'Hi' }), chunk({}, 'stop')].flatMap((c) =>
      enc.push(c),
    );
    const final = {
      inputTokens: 40,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 2,
      reasoningTokens: 0,
    };
    frames.push(...enc.end(final));
    expect(usageOf(frames, 'message_start')).toMatchObject({ input_tokens: 42, output_tokens: 0 });
    expect(usageOf(frames, 'message_delta')).toMatchObject({ input_tokens: 40, output_tokens: 2 });
    // Usage the upstream already sent wins over the gateway's count; no count at all says 0.
    const early = anthropicCodec.streamEncoder('m', 42);
    const withUsage = early.push(
      chunk({ content: 'Hi' }, null, { prompt_tokens: 7, completion_tokens: 1, total_tokens: 8 }),
    );
    expect(usageOf(withUsage, 'message_start')).toMatchObject({ input_tokens: 7 });
    const uncounted = anthropicCodec.streamEncoder('m').push(chunk({ content: 'Hi' }));
    expect(usageOf(uncounted, 'message_start')).toMatchObject({ input_tokens: 0 });
  });

  it('error() emits an Anthropic event: error frame', () => {
    const enc = anthropicCodec.streamEncoder('m');
    const frames = enc.error({
      status: 502,
      code: 'upstream_error',
      type: 'api_error',
      message: 'all channels failed',
    });
    expect(frames).toEqual([
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"all channels failed"}}\n\n',
    ]);
  });
});

describe('anthropic codec: errorBody', () => {
  const cases: [number, string, string][] = [
    [401, 'invalid_api_key', 'authentication_error'],
    [403, 'key_disabled', 'permission_error'],
    [403, 'insufficient_quota', 'permission_error'],
    [404, 'model_not_found', 'not_found_error'],
    [429, 'rate_limit_exceeded', 'rate_limit_error'],
    [400, 'invalid_request', 'invalid_request_error'],
    [413, 'request_too_large', 'invalid_request_error'],
    [500, 'internal_error', 'api_error'],
    [502, 'upstream_error', 'api_error'],
    [529, 'upstream_error', 'overloaded_error'],
  ];
  it.each(cases)('%i %s -> %s', (status, code, type) => {
    const out = anthropicCodec.errorBody({ status, code, type: 'x', message: 'why' });
    expect(out).toEqual({ status, body: { type: 'error', error: { type, message: 'why' } } });
  });
});
