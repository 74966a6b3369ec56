/**
 * The Anthropic adapter's conversions with whole expected values: the request (structured output
 * through the forced json tool, when it and thinking must give way to a forced tool choice,
 * sampling under thinking, signed and redacted thinking blocks sent back, broken tool arguments),
 * the Message read back (the json tool unwrapped into content, no id) and the stream event by
 * event (blocks of each kind, the json tool's input as content, a tool without arguments, the
 * finish and usage chunks, error and unknown events, a cut-off stream).
 */
import { describe, expect, it } from 'vitest';
import { toAnthropicRequest } from '../../src/daemon/providers/anthropic/request.js';
import { messageToCompletion, parseMessage } from '../../src/daemon/providers/anthropic/response.js';
import { AnthropicStreamConverter } from '../../src/daemon/providers/anthropic/stream.js';
import type {
  OpenAIChatChunk,
  OpenAIChatRequest,
  OpenAIMessage,
} from '../../src/daemon/providers/openai/types.js';
import type { SseEvent } from '../../src/daemon/providers/types.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import { BcError } from '../../src/shared/errors.js';

const q: OpenAIMessage[] = [{ role: 'user', content: 'q' }];
const tools: OpenAIChatRequest['tools'] = [
  { type: 'function', function: { name: 'f', parameters: { type: 'object' } } },
];

function convert(extra: Partial<OpenAIChatRequest>, model = 'claude-sonnet-4-5') {
  const dropped: string[] = [];
  const out = toAnthropicRequest({ model: 'alias', messages: q, ...extra }, model, dropped);
  return { out, dropped };
}

const JSON_TOOL = {
  name: 'json_tool_call',
  description: 'Respond with a JSON object in the requested format.',
};

describe('anthropic request', () => {
  // Anthropic refuses an empty text block ("text content blocks must be non-empty"): empty parts go
  it('leaves out empty text parts of system, user and assistant messages', () => {
    const { out } = convert({
      messages: [
        {
          role: 'system',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'be brief' },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'q' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'a' },
          ],
        },
        { role: 'user', content: 'again' },
      ],
    });
    expect(out.system).toEqual([{ type: 'text', text: 'be brief' }]);
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'q' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'a' }] },
      { role: 'user', content: [{ type: 'text', text: 'again' }] },
    ]);
  });

  it('json_object and json_schema go through the forced json tool', () => {
    expect(convert({ response_format: { type: 'json_object' } })).toEqual({
      out: {
        model: 'claude-sonnet-4-5',
        max_tokens: 4096,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }],
        tools: [{ ...JSON_TOOL, input_schema: { type: 'object' } }],
        tool_choice: { type: 'tool', name: 'json_tool_call' },
      },
      dropped: [],
    });
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const withSchema = convert({
      tools,
      response_format: { type: 'json_schema', json_schema: { name: 'n', schema } },
    }).out;
    expect(withSchema.tools).toEqual([
      { name: 'f', input_schema: { type: 'object' } },
      { ...JSON_TOOL, input_schema: schema },
    ]);
    expect(withSchema.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
    const noSchema = convert({ response_format: { type: 'json_schema', json_schema: { name: 'n' } } }).out;
    expect(noSchema.tools).toEqual([{ ...JSON_TOOL, input_schema: { type: 'object' } }]);
    expect(convert({ response_format: { type: 'text' } }).out).not.toHaveProperty('tools');
  });

  it('a forced tool choice keeps its tool and drops response_format; auto does not', () => {
    const forced = convert({ tools, tool_choice: 'required', response_format: { type: 'json_object' } });
    expect(forced.out.tools).toEqual([{ name: 'f', input_schema: { type: 'object' } }]);
    expect(forced.out.tool_choice).toEqual({ type: 'any' });
    expect(forced.dropped).toEqual(['response_format']);
    const auto = convert({ tools, tool_choice: 'auto', response_format: { type: 'json_object' } });
    expect(auto.out.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
    expect(auto.dropped).toEqual([]);
  });

  it('thinking gives way to a forced tool choice, but not to auto or none', () => {
    const forced = convert({
      tools,
      tool_choice: { type: 'function', function: { name: 'f' } },
      reasoning_effort: 'low',
    });
    expect(forced.out).not.toHaveProperty('thinking');
    expect(forced.dropped).toEqual(['reasoning_effort']);
    const required = convert({ tools, tool_choice: 'required', reasoning_effort: 'low' });
    expect(required.dropped).toEqual(['reasoning_effort']);
    for (const choice of ['auto', 'none'] as const) {
      const r = convert({ tools, tool_choice: choice, reasoning_effort: 'low' });
      expect(r.out.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
      expect(r.dropped).toEqual([]);
    }
  });

  it('with thinking: temperature 1 is simply left out, others and top_k dropped, top_p kept from 0.95', () => {
    const one = convert({ reasoning_effort: 'medium', temperature: 1, top_p: 0.95, max_tokens: 100 });
    expect(one.out).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 8292,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }],
      top_p: 0.95,
      thinking: { type: 'enabled', budget_tokens: 8192 },
    });
    expect(one.dropped).toEqual([]);
    const other = convert({
      reasoning_effort: 'high',
      temperature: 0.3,
      top_p: 0.9,
      top_k: 5,
    });
    expect(other.out).not.toHaveProperty('temperature');
    expect(other.out).not.toHaveProperty('top_p');
    expect(other.out).not.toHaveProperty('top_k');
    expect(other.dropped).toEqual(['temperature', 'top_k', 'top_p']);
    const big = convert({ reasoning_effort: 'low', max_tokens: 2049 }).out;
    expect(big.max_tokens).toBe(2049);
    const equal = convert({ reasoning_effort: 'low', max_tokens: 2048 }).out;
    expect(equal.max_tokens).toBe(4096);
  });

  it('without thinking, sampling is carried: temperature clamped to 0..1, top_k kept', () => {
    const { out, dropped } = convert({
      temperature: 1.5,
      top_p: 0.5,
      top_k: 3,
    });
    expect([out.temperature, out.top_p, out.top_k]).toEqual([1, 0.5, 3]);
    expect(dropped).toEqual([]);
    expect(convert({ temperature: -1 }).out.temperature).toBe(0);
  });

  it('signed and redacted thinking blocks go back; unsigned or malformed ones do not; broken arguments are named', () => {
    const history = [
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: 'a',
        thinking_blocks: [
          { type: 'thinking', thinking: 't', signature: 'sig' },
          { type: 'thinking', thinking: 'unsigned' },
          { type: 'redacted_thinking', data: 'ENC' },
          { type: 'redacted_thinking' },
          'junk',
        ],
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{not json' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'r' },
    ] as unknown as OpenAIMessage[];
    const { out, dropped } = convert({ messages: history });
    expect(out.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 't', signature: 'sig' },
        { type: 'redacted_thinking', data: 'ENC' },
        { type: 'text', text: 'a' },
        { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
      ],
    });
    expect(dropped).toEqual(['messages.tool_calls.function.arguments']);
  });

  it('a file part that is not a PDF data URL is dropped by its type', () => {
    const { out, dropped } = convert({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'see' },
            { type: 'file', file: { file_data: 'data:text/plain;base64,AA' } },
            { type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } },
          ],
        },
      ] as unknown as OpenAIMessage[],
    });
    expect(out.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'see' }] }]);
    expect(dropped).toEqual(['messages.content.file', 'messages.content.input_audio']);
  });
});

describe('anthropic response', () => {
  it('the json tool answer is content with finish stop; no id is an empty id', () => {
    const { completion } = messageToCompletion(
      parseMessage({
        type: 'message',
        model: 'claude-x',
        content: [{ type: 'tool_use', id: 'toolu_j', name: 'json_tool_call', input: { a: 1 } }],
        stop_reason: 'tool_use',
      }),
      'fallback',
    );
    expect(completion.id).toBe('');
    expect(completion.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: '{"a":1}' }, finish_reason: 'stop' },
    ]);
    const empty = messageToCompletion(
      parseMessage({
        content: [{ type: 'tool_use', id: 't', name: 'json_tool_call' }],
        stop_reason: 'tool_use',
      }),
      'fallback',
    ).completion;
    expect(empty.choices[0]!.message.content).toBe('{}');
    expect(empty.model).toBe('fallback');
  });

  it('the json tool next to a real tool call: the call wins the finish reason', () => {
    const { completion } = messageToCompletion(
      parseMessage({
        id: 'msg_1',
        content: [
          { type: 'tool_use', id: 'toolu_j', name: 'json_tool_call', input: {} },
          { type: 'tool_use', id: 'toolu_f', name: 'f', input: { x: 2 } },
        ],
        stop_reason: 'tool_use',
      }),
      'fallback',
    );
    expect(completion.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: '{}',
        tool_calls: [{ id: 'toolu_f', type: 'function', function: { name: 'f', arguments: '{"x":2}' } }],
      },
      finish_reason: 'tool_calls',
    });
  });

  it('an empty answer is empty text; blocks that are not text, thinking or tool_use add nothing', () => {
    const before = Math.floor(Date.now() / 1000);
    const { completion } = messageToCompletion(
      parseMessage({
        id: 'msg_2',
        content: [
          { type: 'redacted_thinking', data: 'ENC', name: 'json_tool_call' },
          { type: 'server_tool_use', id: 'srv_1', name: 'web_search', input: { q: 'x' } },
          { type: 'web_search_tool_result', tool_use_id: 'srv_1', content: [] },
        ],
        stop_reason: 'max_tokens',
      }),
      'fallback',
    );
    expect(completion.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'length' },
    ]);
    expect(completion.created).toBeGreaterThanOrEqual(before);
    expect(completion.created).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('a body that is not a Message is an upstream error', () => {
    for (const body of [null, [], { content: 'x' }, 'text']) {
      let err: unknown;
      try {
        parseMessage(body);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BcError);
      expect((err as BcError).code).toBe('UPSTREAM_ERROR');
      expect((err as BcError).message).toBe('anthropic: response is not a Message object');
    }
  });
});

const ev = (event: string | undefined, data: unknown): SseEvent => ({
  kind: 'sse',
  event,
  data: typeof data === 'string' ? data : JSON.stringify(data),
});

function stream(events: SseEvent[]): { chunks: OpenAIChatChunk[]; conv: AnthropicStreamConverter } {
  const conv = new AnthropicStreamConverter('fallback-model');
  return { chunks: events.flatMap((e) => conv.push(e)), conv };
}

const start = ev('message_start', {
  type: 'message_start',
  message: { id: 'msg_1', model: 'claude-x', usage: { input_tokens: 10, output_tokens: 1 } },
});

describe('anthropic stream', () => {
  it('text and thinking blocks with initial text, deltas of the wrong kind ignored, exact chunks', () => {
    const { chunks } = stream([
      start,
      ev('ping', { type: 'ping' }),
      ev(undefined, {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'thinking', thinking: 'pre' },
      }),
      ev(undefined, {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'thinking_delta', thinking: 'more' },
      }),
      ev(undefined, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'wrong' } }),
      ev(undefined, {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'signature_delta', signature: 's' },
      }),
      ev(undefined, { type: 'content_block_start', index: 1, content_block: { type: 'text', text: 'Hi' } }),
      ev(undefined, { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: '' } }),
      ev(undefined, {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'thinking_delta', thinking: 'x' },
      }),
      ev(undefined, { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: ' there' } }),
      ev(undefined, {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '{}' },
      }),
      ev(undefined, {
        type: 'content_block_delta',
        index: 9,
        delta: { type: 'text_delta', text: 'nowhere' },
      }),
      ev(undefined, {
        type: 'content_block_start',
        index: 2,
        content_block: { type: 'server_tool_use', id: 's' },
      }),
      ev(undefined, {
        type: 'content_block_delta',
        index: 2,
        delta: { type: 'input_json_delta', partial_json: '{"q":1}' },
      }),
      ev(undefined, { type: 'content_block_start', index: 3, content_block: 'junk' }),
      ev(undefined, { type: 'something_new' }),
    ]);
    const created = chunks[0]!.created;
    const frame = (delta: unknown) => ({
      id: 'msg_1',
      object: 'chat.completion.chunk',
      created,
      model: 'claude-x',
      choices: [{ index: 0, delta, finish_reason: null }],
    });
    expect(chunks).toEqual([
      frame({ role: 'assistant', content: '' }),
      frame({ reasoning_content: 'pre' }),
      frame({ reasoning_content: 'more' }),
      frame({ content: 'Hi' }),
      frame({ content: ' there' }),
    ]);
  });

  it('empty initial text says nothing; the json tool streams its input as content and finishes stop', () => {
    const { chunks, conv } = stream([
      start,
      ev('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: '' },
      }),
      ev('content_block_start', {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 'toolu_j', name: 'json_tool_call', input: {} },
      }),
      ev('content_block_delta', {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '' },
      }),
      ev('content_block_delta', {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '{"a":' },
      }),
      ev('content_block_delta', {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'input_json_delta', partial_json: '1}' },
      }),
      ev('content_block_stop', { type: 'content_block_stop', index: 1 }),
      ev('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use' },
        usage: { output_tokens: 5 },
      }),
      ev('message_stop', { type: 'message_stop' }),
    ]);
    expect(chunks.map((c) => [c.choices[0]?.delta, c.choices[0]?.finish_reason])).toEqual([
      [{ role: 'assistant', content: '' }, null],
      [{ content: '{"a":' }, null],
      [{ content: '1}' }, null],
      [{}, 'stop'],
      [undefined, undefined],
    ]);
    expect(chunks.at(-1)).toEqual({
      id: 'msg_1',
      object: 'chat.completion.chunk',
      created: chunks[0]!.created,
      model: 'claude-x',
      choices: [],
      usage: expect.objectContaining({ prompt_tokens: 10, completion_tokens: 5 }) as unknown,
    });
    expect(conv.end()).toEqual([]);
  });

  it('a tool call: name and id from the start, arguments as deltas; one without arguments gets {}', () => {
    const { chunks } = stream([
      start,
      ev('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'f' },
      }),
      ev('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"x":1}' },
      }),
      ev('content_block_stop', { type: 'content_block_stop', index: 0 }),
      ev('content_block_start', {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use' },
      }),
      ev('content_block_stop', { type: 'content_block_stop', index: 1 }),
      ev('content_block_stop', { type: 'content_block_stop', index: 1 }),
      ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' } }),
      ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' } }),
    ]);
    expect(chunks.map((c) => [c.choices[0]?.delta, c.choices[0]?.finish_reason])).toEqual([
      [{ role: 'assistant', content: '' }, null],
      [
        {
          tool_calls: [{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '' } }],
        },
        null,
      ],
      [{ tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] }, null],
      [{ tool_calls: [{ index: 1, id: '', type: 'function', function: { name: '', arguments: '' } }] }, null],
      [{ tool_calls: [{ index: 1, function: { arguments: '{}' } }] }, null],
      [{}, 'tool_calls'],
      [undefined, undefined],
    ]);
  });

  it('empty data and non-SSE events say nothing; a message_delta without a stop reason only counts usage', () => {
    const { chunks, conv } = stream([
      ev('message_start', ''),
      { kind: 'comment' } as unknown as SseEvent,
      ev('message_start', { type: 'message_start', message: 'x' }),
      ev('message_delta', { type: 'message_delta', usage: { output_tokens: 3 } }),
    ]);
    expect(chunks).toEqual([
      {
        id: '',
        object: 'chat.completion.chunk',
        created: chunks[0]!.created,
        model: 'fallback-model',
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      },
    ]);
    expect(conv.usage()).toMatchObject({ outputTokens: 3 });
    expect(() => conv.end()).toThrow('anthropic: stream ended before message_stop');
  });

  it('an error event, named or only typed, is an UpstreamStreamError', () => {
    const body = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    for (const e of [ev('error', body), ev(undefined, body)]) {
      let err: unknown;
      try {
        stream([start, e]);
      } catch (x) {
        err = x;
      }
      expect(err).toBeInstanceOf(UpstreamStreamError);
      expect((err as UpstreamStreamError).message).toContain('Overloaded');
    }
  });
});
