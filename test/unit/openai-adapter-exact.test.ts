/**
 * The OpenAI-family adapter's request building, answer repair and stream normalising with whole
 * expected values: URLs, headers and bodies per channel type (output-limit field, stream options,
 * foreign fields, a long user), passthrough methods, the repairs made to a completion that lacks
 * fields, embeddings usage, and stream chunks (finish reasons, ids, created, model, roles, tool
 * call continuations) and the exact stream failures with their statuses.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  buildChatBody,
  chatOutputField,
  chatRequest,
  embeddingsRequest,
  passthroughRequest,
  stripForeignFields,
  stripVersionPrefix,
  upstreamUrl,
} from '../../src/daemon/providers/openai/request.js';
import { chatResponse, embeddingsResponse } from '../../src/daemon/providers/openai/response.js';
import { createOpenAIStreamConverter } from '../../src/daemon/providers/openai/stream.js';
import type {
  OpenAIChatChunk,
  OpenAIChatRequest,
  OpenAIMessage,
} from '../../src/daemon/providers/openai/types.js';
import type { SseEvent, UpstreamTarget } from '../../src/daemon/providers/types.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import type { ChannelType } from '../../src/shared/control-api.js';
import { upstreamTarget } from '../support/upstream-target.js';

function target(
  type: ChannelType = 'openai',
  baseUrl = 'https://up.example/v1/',
  settings = {},
): UpstreamTarget {
  return upstreamTarget({ name: 'c', type, baseUrl, timeoutMs: 1000, settings }, 'sk-x', 'real-model');
}

const req = (extra: Partial<OpenAIChatRequest> = {}): OpenAIChatRequest => ({
  model: 'alias',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

describe('openai request', () => {
  it('the output-limit field per type', () => {
    expect(chatOutputField('openai')).toBe('max_completion_tokens');
    expect(chatOutputField('azure')).toBe('max_completion_tokens');
    expect(chatOutputField('groq')).toBe('max_tokens');
    expect(chatOutputField('openai-compatible')).toBe('max_tokens');
  });

  it('strips only a whole /v1 segment and joins base and path with one slash', () => {
    expect(stripVersionPrefix('/v1')).toBe('');
    expect(stripVersionPrefix('/v1/models')).toBe('/models');
    expect(stripVersionPrefix('/v1?x=1')).toBe('?x=1');
    expect(stripVersionPrefix('/v10/models')).toBe('/v10/models');
    expect(stripVersionPrefix('/models')).toBe('/models');
    expect(upstreamUrl(target('openai', 'https://h/v1///'), 'models')).toBe('https://h/v1/models');
    expect(upstreamUrl(target('openai', 'https://h/v1'), '/models')).toBe('https://h/v1/models');
  });

  it('a non-stream OpenAI request: exact URL, headers and body', () => {
    const t = target('openai', 'https://up.example/v1/', { headers: { 'OpenAI-Project': 'p1', Bad: 3 } });
    const up = chatRequest(req({ max_tokens: 10, stream_options: { include_usage: true } }), t, {
      dropped: [],
    });
    expect(up).toEqual({
      method: 'POST',
      url: 'https://up.example/v1/chat/completions',
      headers: {
        'openai-project': 'p1',
        authorization: 'Bearer sk-x',
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({
        model: 'real-model',
        messages: [{ role: 'user', content: 'hi' }],
        max_completion_tokens: 10,
      }),
    });
  });

  it('a stream asks for usage and keeps other stream options; the accept header says SSE', () => {
    const up = chatRequest(
      req({ stream: true, stream_options: { include_obfuscation: false } as never, max_tokens: 5 }),
      target('groq'),
      { dropped: [] },
    );
    expect(up.headers.accept).toBe('text/event-stream');
    expect(JSON.parse(up.body as string)).toEqual({
      model: 'real-model',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_obfuscation: false, include_usage: true },
      max_tokens: 5,
    });
  });

  it('max_completion_tokens already set wins over max_tokens, which stays', () => {
    const body = buildChatBody(req({ max_tokens: 10, max_completion_tokens: 20 }), target(), { dropped: [] });
    expect(body.max_completion_tokens).toBe(20);
    expect(body.max_tokens).toBe(10);
  });

  it('a user over 64 characters is sent as its SHA-256; 64 characters go as they are', () => {
    const long = 'u'.repeat(65);
    const exact = 'v'.repeat(64);
    expect(buildChatBody(req({ user: long }), target(), { dropped: [] }).user).toBe(
      createHash('sha256').update(long).digest('hex'),
    );
    expect(buildChatBody(req({ user: exact }), target(), { dropped: [] }).user).toBe(exact);
  });

  it('foreign fields: thinking_blocks always go; reasoning_content and extra_content only for strict APIs', () => {
    const history = [
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: null,
        reasoning_content: 'r',
        thinking_blocks: [{ type: 'thinking', thinking: 'r', signature: 's' }],
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'f', arguments: '{}' },
            extra_content: { google: {} },
          },
        ],
      },
      { role: 'assistant', content: 'plain' },
      { role: 'assistant', content: 'reasoned', reasoning_content: 'only' },
    ] as unknown as OpenAIMessage[];
    const lax = { dropped: ['messages[].thinking_blocks'] };
    expect(stripForeignFields(history, lax, false)).toEqual([
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: null,
        reasoning_content: 'r',
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'f', arguments: '{}' },
            extra_content: { google: {} },
          },
        ],
      },
      { role: 'assistant', content: 'plain' },
      { role: 'assistant', content: 'reasoned', reasoning_content: 'only' },
    ]);
    expect(lax.dropped).toEqual(['messages[].thinking_blocks']);
    const strict = { dropped: [] as string[] };
    expect(stripForeignFields(history, strict, true)).toEqual([
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'assistant', content: 'plain' },
      { role: 'assistant', content: 'reasoned' },
    ]);
    expect(strict.dropped).toEqual([
      'messages[].thinking_blocks',
      'messages[].reasoning_content',
      'messages[].tool_calls[].extra_content',
    ]);
    const clean = { dropped: [] as string[] };
    stripForeignFields([{ role: 'assistant', content: 'x' }], clean, true);
    expect(clean.dropped).toEqual([]);
  });

  it('passthrough: GET only for an empty body to /models, the content type kept otherwise', () => {
    const t = target('openai', 'https://h/v1');
    expect(passthroughRequest('/v1/models', Buffer.alloc(0), t, 'application/json')).toEqual({
      method: 'GET',
      url: 'https://h/v1/models',
      headers: { authorization: 'Bearer sk-x' },
      body: undefined,
    });
    expect(passthroughRequest('/v1/models/gpt-4o', Buffer.alloc(0), t, '').method).toBe('GET');
    expect(passthroughRequest('/v1/models?limit=1', Buffer.alloc(0), t, '').method).toBe('GET');
    expect(passthroughRequest('/v1/modelsx', Buffer.alloc(0), t, '').method).toBe('POST');
    const body = Buffer.from('{}');
    expect(passthroughRequest('/v1/models', body, t, 'application/json')).toEqual({
      method: 'POST',
      url: 'https://h/v1/models',
      headers: { authorization: 'Bearer sk-x', 'content-type': 'application/json' },
      body,
    });
    expect(passthroughRequest('/v1/files', body, t, '').headers).toEqual({ authorization: 'Bearer sk-x' });
  });

  it('embeddings: the upstream model in the body, JSON, Bearer', () => {
    expect(
      embeddingsRequest({ model: 'alias', input: 'x' }, target('openai', 'https://h/v1'), { dropped: [] }),
    ).toEqual({
      method: 'POST',
      url: 'https://h/v1/embeddings',
      headers: { authorization: 'Bearer sk-x', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'real-model', input: 'x' }),
    });
  });
});

describe('openai response', () => {
  it('repairs a bare completion: role, content, tool call id and type, finish, id, created, model, object', () => {
    const before = Math.floor(Date.now() / 1000);
    const { completion, usage } = chatResponse(
      {
        choices: [
          {
            index: 0,
            message: { tool_calls: [{ id: '', function: { name: 'f', arguments: '{}' } }, 'junk'] },
          },
        ],
      },
      target(),
    );
    const c = completion as unknown as Record<string, unknown>;
    expect(usage).toBeNull();
    expect(c.object).toBe('chat.completion');
    expect(c.model).toBe('real-model');
    expect(c.id).toMatch(/^chatcmpl-[A-Za-z0-9_-]{16}$/);
    expect(c.created).toBeGreaterThanOrEqual(before);
    expect(c.created).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBeNull();
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls![0]!;
    expect(call.id).toMatch(/^call_[A-Za-z0-9_-]{16}$/);
    expect(call.type).toBe('function');
    expect(choice.message.tool_calls![1]).toBe('junk');
  });

  it('keeps what the completion has', () => {
    const body = {
      id: 'chatcmpl-1',
      object: 'x',
      created: 7,
      model: 'm-2024',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          message: {
            role: 'assistant',
            content: 'hi',
            tool_calls: [{ id: 'call_1', type: 'function', function: {} }],
          },
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2 },
    };
    const { completion, usage } = chatResponse(structuredClone(body), target());
    expect(completion).toEqual({ ...body, object: 'chat.completion' });
    expect(usage).toEqual({
      inputTokens: 3,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 2,
      reasoningTokens: 0,
    });
    const emptyModel = chatResponse(
      { ...structuredClone(body), id: '', model: '', created: '1' },
      target(),
    ).completion;
    expect(emptyModel.model).toBe('real-model');
    expect(emptyModel.id).not.toBe('');
    expect(typeof emptyModel.created).toBe('number');
  });

  it('a body that is not a completion is a 502 to retry', () => {
    for (const body of [
      null,
      [],
      { choices: 'x' },
      { choices: [null] },
      { choices: [{ message: 'x' }] },
      { x: 1 },
    ]) {
      let err: unknown;
      try {
        chatResponse(body, target());
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UpstreamStreamError);
      expect((err as UpstreamStreamError).failure.status).toBe(502);
      expect((err as UpstreamStreamError).failure.action).toBe('retry');
      expect((err as Error).message).toBe('upstream answered 200 with a body that is not a chat completion');
    }
  });

  it('embeddings usage: prompt_tokens, else total_tokens, else none', () => {
    const zero = { cachedTokens: 0, cacheWriteTokens: 0, outputTokens: 0, reasoningTokens: 0 };
    const body = { data: [], usage: { prompt_tokens: 4, total_tokens: 9 } };
    expect(embeddingsResponse(body)).toEqual({ response: body, usage: { inputTokens: 4, ...zero } });
    expect(embeddingsResponse({ usage: { total_tokens: 9 } }).usage).toEqual({ inputTokens: 9, ...zero });
    expect(embeddingsResponse({ usage: { prompt_tokens: '4' } }).usage).toBeNull();
    expect(embeddingsResponse({ data: [] })).toEqual({ response: { data: [] }, usage: null });
    expect(embeddingsResponse(null).usage).toBeNull();
  });
});

const sse = (data: unknown, event?: string): SseEvent => ({
  kind: 'sse',
  event,
  data: typeof data === 'string' ? data : JSON.stringify(data),
});

function stream(events: SseEvent[]): OpenAIChatChunk[] {
  const conv = createOpenAIStreamConverter(target(), { dropped: [] });
  return events.flatMap((e) => conv.push(e));
}

function failure(events: SseEvent[]): UpstreamStreamError {
  const conv = createOpenAIStreamConverter(target(), { dropped: [] });
  try {
    for (const e of events) conv.push(e);
    conv.end();
  } catch (e) {
    if (e instanceof UpstreamStreamError) return e;
    throw e;
  }
  throw new Error('expected a stream failure');
}

const choice = (delta: unknown, finish: string | null = null, index = 0) => ({
  index,
  delta,
  finish_reason: finish,
});

describe('openai stream', () => {
  it('chunks carry the upstream id, created and latest model, exactly', () => {
    const chunks = stream([
      sse({
        id: 'chatcmpl-up',
        created: 1700000000,
        model: 'm-1',
        choices: [choice({ role: 'assistant', content: '' })],
      }),
      sse({ id: 'other', created: 1800000000, model: 'm-2', choices: [choice({ content: 'Hi' })] }),
      sse({ id: 'other', model: '', choices: [choice({}, 'eos')] }),
    ]);
    expect(chunks).toEqual([
      {
        id: 'chatcmpl-up',
        object: 'chat.completion.chunk',
        created: 1700000000,
        model: 'm-1',
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      },
      {
        id: 'chatcmpl-up',
        object: 'chat.completion.chunk',
        created: 1700000000,
        model: 'm-2',
        choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }],
      },
      {
        id: 'chatcmpl-up',
        object: 'chat.completion.chunk',
        created: 1700000000,
        model: 'm-2',
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      },
    ]);
  });

  it('without an upstream id or a positive created, makes its own and keeps them', () => {
    const before = Math.floor(Date.now() / 1000);
    const chunks = stream([
      sse({ id: '', created: 0, choices: [choice({ content: 'a' })] }),
      sse({ id: 'late', created: 5, choices: [choice({ content: 'b' })] }),
    ]);
    expect(chunks[0]!.id).toMatch(/^chatcmpl-[A-Za-z0-9_-]{16}$/);
    expect(chunks[1]!.id).toBe(chunks[0]!.id);
    expect(chunks[0]!.created).toBeGreaterThanOrEqual(before);
    expect(chunks[1]!.created).toBe(5);
    expect(chunks[0]!.model).toBe('real-model');
  });

  it('maps every finish reason; an unknown one is stop', () => {
    const finish = (reason: string) =>
      stream([sse({ id: 'x', choices: [choice({}, reason)] })])[0]!.choices[0]!.finish_reason;
    const cases: [string, string][] = [
      ['stop', 'stop'],
      ['length', 'length'],
      ['tool_calls', 'tool_calls'],
      ['content_filter', 'content_filter'],
      ['function_call', 'function_call'],
      ['eos', 'stop'],
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['max_tokens', 'length'],
      ['tool_use', 'tool_calls'],
      ['something_new', 'stop'],
    ];
    expect(cases.map(([r]) => finish(r))).toEqual(cases.map(([, m]) => m));
  });

  it('an empty delta without finish says nothing; empty strings are not deltas; refusal and reasoning pass', () => {
    const chunks = stream([
      sse({ id: 'x', choices: [choice({ content: '', reasoning_content: '', refusal: '' })] }),
      sse({ id: 'x', choices: [choice({ reasoning: 'vllm' })] }),
      sse({ id: 'x', choices: [choice({ reasoning_content: 'rc', reasoning: 'ignored' })] }),
      sse({ id: 'x', choices: [choice({ refusal: 'no' })] }),
      sse({ id: 'x', choices: [choice({ role: 'user', content: 'c' })] }),
      sse({ id: 'x', choices: [choice({ tool_calls: [] })] }),
      sse({ id: 'x', choices: ['junk'] }),
    ]);
    expect(chunks.map((c) => c.choices[0]!.delta)).toEqual([
      { reasoning_content: 'vllm' },
      { reasoning_content: 'rc' },
      { refusal: 'no' },
      { content: 'c' },
    ]);
  });

  it('tool calls: a continuation without arguments says nothing; missing name and index are filled', () => {
    const chunks = stream([
      sse({ id: 'x', choices: [choice({ tool_calls: [{ id: 'call_a', function: {} }] })] }),
      sse({ id: 'x', choices: [choice({ tool_calls: [{ index: 0, function: { arguments: '' } }] })] }),
      sse({ id: 'x', choices: [choice({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] })] }),
      sse({ id: 'x', choices: [choice({}, 'stop')] }),
    ]);
    expect(chunks.map((c) => c.choices[0])).toEqual([
      {
        index: 0,
        delta: {
          tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: '', arguments: '' } }],
        },
        finish_reason: null,
      },
      { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{}' } }] }, finish_reason: null },
      { index: 0, delta: {}, finish_reason: 'tool_calls' },
    ]);
  });

  it('each choice keeps its own tool calls', () => {
    const chunks = stream([
      sse({
        id: 'x',
        choices: [
          choice({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '' } }] }, null, 0),
          choice({ tool_calls: [{ index: 0, id: 'b', function: { name: 'g', arguments: '' } }] }, null, 1),
        ],
      }),
      sse({ id: 'x', choices: [choice({}, 'stop', 1), { delta: { content: 'z' } }] }),
    ]);
    expect(
      chunks[0]!.choices.map((c) => [c.index, c.delta.tool_calls![0]!.index, c.delta.tool_calls![0]!.id]),
    ).toEqual([
      [0, 0, 'a'],
      [1, 0, 'b'],
    ]);
    expect(chunks[1]!.choices).toEqual([
      { index: 1, delta: {}, finish_reason: 'tool_calls' },
      { index: 0, delta: { content: 'z' }, finish_reason: null },
    ]);
  });

  it('usage is kept from the last chunk that has it; [DONE] ends, blank data is skipped', () => {
    const conv = createOpenAIStreamConverter(target(), { dropped: [] });
    expect(conv.push(sse('  '))).toEqual([]);
    expect(conv.push({ kind: 'comment' } as unknown as SseEvent)).toEqual([]);
    conv.push(sse({ id: 'x', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } }));
    conv.push(sse({ id: 'x', choices: [], usage: null }));
    expect(conv.usage()).toEqual({
      inputTokens: 1,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 1,
      reasoningTokens: 0,
    });
    expect(conv.push(sse('[DONE]'))).toEqual([]);
    expect(conv.push(sse({ id: 'x', choices: [choice({ content: 'late' })] }))).toEqual([]);
    expect(conv.end()).toEqual([]);
  });

  it('a stream that ends after a finish reason but without [DONE] is complete', () => {
    const conv = createOpenAIStreamConverter(target(), { dropped: [] });
    conv.push(sse({ id: 'x', choices: [choice({ content: 'a' }, 'length')] }));
    expect(conv.end()).toEqual([]);
  });

  it('failures: exact messages and statuses', () => {
    const cut = failure([sse({ id: 'x', choices: [choice({ content: 'a' })] })]);
    expect([cut.failure.status, cut.failure.action, cut.message]).toEqual([
      502,
      'retry',
      'upstream stream ended before the response was complete',
    ]);
    const long = 'x'.repeat(81);
    expect(failure([sse(long)]).message).toBe(
      `upstream sent an unparseable stream event: "${'x'.repeat(80)}…"`,
    );
    expect(failure([sse('x'.repeat(80))]).message).toBe(
      `upstream sent an unparseable stream event: "${'x'.repeat(80)}"`,
    );
    expect(failure([sse('[1]')]).message).toBe('upstream sent a stream event that is not a JSON object');
    const limited = failure([sse({ error: { message: 'slow down', code: 429 } })]);
    expect([limited.failure.status, limited.message]).toEqual([429, 'upstream stream error: slow down']);
    expect(failure([sse({ error: { message: 'bad', code: '400' } })]).failure.status).toBe(400);
    expect(failure([sse({ error: { message: 'x', code: 600 } })]).failure.status).toBe(502);
    expect(failure([sse({ error: { message: 'x', code: 399 } })]).failure.status).toBe(502);
    expect(failure([sse({ error: { message: 'x', code: 599 } })]).failure.status).toBe(599);
    expect(failure([sse({ error: { message: 'x', code: 'rate_limit' } })]).failure.status).toBe(502);
    expect(failure([sse({ error: 'plain' })]).failure.status).toBe(502);
    const named = failure([sse({ message: 'overloaded' }, 'error')]);
    expect([named.failure.status, named.message]).toEqual([502, 'upstream stream error: overloaded']);
  });
});
