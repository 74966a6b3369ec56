/**
 * The Bedrock Converse conversions with whole expected values: the request (user parts it cannot
 * carry, image formats, assistant arguments that are not an object or not JSON, stop lists,
 * thinking and the sampling it removes, tools the history used but the request did not declare,
 * tool_choice none with and without tool history), the Converse response read back (calls without
 * ids, names or input, reasoning, finish reasons) and the event stream message by message.
 */
import { describe, expect, it } from 'vitest';
import { toConverseRequest } from '../../src/daemon/providers/bedrock/request.js';
import { finishReason, toChatCompletion } from '../../src/daemon/providers/bedrock/response.js';
import { converseStreamConverter } from '../../src/daemon/providers/bedrock/stream.js';
import type { OpenAIChatRequest, OpenAIMessage } from '../../src/daemon/providers/openai/types.js';
import type { EventStreamMessage } from '../../src/daemon/providers/types.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import { BcError } from '../../src/shared/errors.js';

const NOVA = 'us.amazon.nova-micro-v1:0';
const CLAUDE = 'us.anthropic.claude-3-7-sonnet-20250219-v1:0';

function convert(req: Partial<OpenAIChatRequest>, model = NOVA) {
  const dropped: string[] = [];
  const out = toConverseRequest({ model, messages: [{ role: 'user', content: 'q' }], ...req }, model, {
    dropped,
  });
  return { out, dropped };
}

function refusal(req: Partial<OpenAIChatRequest>): string {
  try {
    convert(req);
  } catch (e) {
    if (e instanceof BcError) {
      expect(e.code).toBe('INVALID_REQUEST');
      return e.message;
    }
    throw e;
  }
  throw new Error('expected a refusal');
}

const call = (id: string, name: string, args: string) => ({
  id,
  type: 'function' as const,
  function: { name, arguments: args },
});

describe('bedrock request', () => {
  it('user parts: text and data-URL images carried, empty text skipped, other parts named', () => {
    const { out, dropped } = convert({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'data:IMAGE/JPG;base64,/9j/' } },
            { type: 'image_url', image_url: { url: 'data:image/webp;base64,' } },
            { type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } },
          ],
        },
        { role: 'user', content: '' },
      ] as OpenAIMessage[],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { text: 'look' },
          { image: { format: 'jpeg', source: { bytes: '/9j/' } } },
          { image: { format: 'webp', source: { bytes: '' } } },
        ],
      },
    ]);
    expect(dropped).toEqual(['messages.content.input_audio']);
  });

  it('images it cannot carry and arguments that are not JSON are refused with what to send', () => {
    const image = (url: string) =>
      refusal({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] });
    expect(image('https://x.test/a.png')).toBe(
      'Bedrock accepts images only as base64 data URLs of PNG, JPEG, GIF or WebP',
    );
    expect(image('data:image/tiff;base64,AA')).toBe(
      'Bedrock accepts images only as base64 data URLs of PNG, JPEG, GIF or WebP',
    );
    expect(
      refusal({
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: null, tool_calls: [call('t1', 'f', '{broken')] },
        ],
      }),
    ).toBe('assistant tool_calls arguments must be a JSON object');
  });

  it('assistant turns: blank text left out, arguments that are not an object wrapped, empty ones {}', () => {
    const { out } = convert({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [{ type: 'text', text: ' ' }] as never,
          tool_calls: [call('t1', 'f', '[1,2]'), call('t2', 'g', '  '), call('t3', 'h', '"s"')],
        },
        { role: 'tool', tool_call_id: 't1', content: [{ type: 'text', text: 'r1' }] as never },
        { role: 'tool', tool_call_id: 't2', content: 'r2' },
      ],
    });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ text: 'q' }] },
      {
        role: 'assistant',
        content: [
          { toolUse: { toolUseId: 't1', name: 'f', input: { value: [1, 2] } } },
          { toolUse: { toolUseId: 't2', name: 'g', input: {} } },
          { toolUse: { toolUseId: 't3', name: 'h', input: { value: 's' } } },
        ],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 't1', content: [{ text: 'r1' }] } },
          { toolResult: { toolUseId: 't2', content: [{ text: 'r2' }] } },
        ],
      },
    ]);
    expect(out.toolConfig).toEqual({
      tools: ['f', 'g', 'h'].map((name) => ({
        toolSpec: { name, inputSchema: { json: { type: 'object', properties: {} } } },
      })),
    });
  });

  it('a tool the history used is declared once, next to the declared ones; tool_choice none with history is dropped', () => {
    const history: OpenAIMessage[] = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, tool_calls: [call('t1', 'f', '{}'), call('t2', 'g', '{}')] },
      { role: 'tool', tool_call_id: 't1', content: 'r' },
      { role: 'tool', tool_call_id: 't2', content: 'r' },
    ];
    const tools: OpenAIChatRequest['tools'] = [
      {
        type: 'function',
        function: { name: 'f', description: 'd', parameters: { type: 'object', required: [] } },
      },
    ];
    const { out, dropped } = convert({ messages: history, tools, tool_choice: 'none' });
    expect(out.toolConfig).toEqual({
      tools: [
        {
          toolSpec: { name: 'f', description: 'd', inputSchema: { json: { type: 'object', required: [] } } },
        },
        { toolSpec: { name: 'g', inputSchema: { json: { type: 'object', properties: {} } } } },
      ],
    });
    expect(dropped).toEqual(['tool_choice']);
    const fresh = convert({ tools, tool_choice: 'none' });
    expect(fresh.out).not.toHaveProperty('toolConfig');
    expect(fresh.dropped).toEqual([]);
    expect(convert({ tools, tool_choice: 'required' }).out.toolConfig?.toolChoice).toEqual({ any: {} });
    expect(convert({ tools, tool_choice: 'auto' }).out.toolConfig?.toolChoice).toEqual({ auto: {} });
    expect(
      convert({ tools, tool_choice: { type: 'function', function: { name: 'f' } } }).out.toolConfig
        ?.toolChoice,
    ).toEqual({ tool: { name: 'f' } });
    expect(convert({ tools }).out.toolConfig).toEqual({
      tools: [
        {
          toolSpec: { name: 'f', description: 'd', inputSchema: { json: { type: 'object', required: [] } } },
        },
      ],
    });
  });

  it('inference config: max_completion_tokens over max_tokens, stop string or non-empty list', () => {
    expect(
      convert({ max_tokens: 5, max_completion_tokens: 7, temperature: 0.1, top_p: 0.2, stop: 'X' }).out
        .inferenceConfig,
    ).toEqual({
      maxTokens: 7,
      temperature: 0.1,
      topP: 0.2,
      stopSequences: ['X'],
    });
    expect(convert({ stop: ['A', 'B'] }).out.inferenceConfig).toEqual({ stopSequences: ['A', 'B'] });
    expect(convert({ stop: [] }).out).not.toHaveProperty('inferenceConfig');
  });

  it('thinking on Claude: a fixed budget above max_tokens, sampling removed and named; top_k as an extra field', () => {
    const { out, dropped } = convert(
      {
        reasoning_effort: 'medium',
        max_tokens: 100,
        temperature: 0.5,
        top_p: 0.9,
        top_k: 4,
      },
      CLAUDE,
    );
    expect(out.inferenceConfig).toEqual({ maxTokens: 2148 });
    expect(out.additionalModelRequestFields).toEqual({
      top_k: 4,
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
    expect(dropped).toEqual(['temperature', 'top_p']);
    expect(convert({ reasoning_effort: 'high' }, CLAUDE).out.inferenceConfig).toEqual({ maxTokens: 8192 });
  });

  it('no thinking for other models or after a tool turn; the unsupported fields are named', () => {
    expect(convert({ reasoning_effort: 'low' }).dropped).toEqual(['reasoning_effort']);
    const afterTool = convert(
      {
        reasoning_effort: 'low',
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: null, tool_calls: [call('t1', 'f', '{}')] },
          { role: 'tool', tool_call_id: 't1', content: 'r' },
        ],
      },
      CLAUDE,
    );
    expect(afterTool.out).not.toHaveProperty('additionalModelRequestFields');
    expect(afterTool.dropped).toEqual(['reasoning_effort']);
    const { dropped } = convert({
      seed: 1,
      presence_penalty: 0,
      logprobs: false,
      n: 2,
      response_format: { type: 'json_object' },
      parallel_tool_calls: false,
    });
    expect(dropped).toEqual(['seed', 'presence_penalty', 'n', 'response_format', 'parallel_tool_calls']);
    expect(convert({ n: 1, response_format: { type: 'text' }, parallel_tool_calls: true }).dropped).toEqual(
      [],
    );
  });
});

describe('bedrock response', () => {
  it('text, reasoning and calls without ids, names or input: exact message and usage', () => {
    const { completion, usage } = toChatCompletion(
      {
        output: {
          message: {
            role: 'assistant',
            content: [
              { reasoningContent: { reasoningText: { text: 'hmm', signature: 's' } } },
              { text: 'A' },
              { text: 'B' },
              { toolUse: { toolUseId: 'tu1', name: 'f', input: { a: 1 } } },
              { toolUse: {} },
            ],
          },
        },
        stopReason: 'tool_use',
        usage: { inputTokens: 5, outputTokens: 3, cacheReadInputTokens: 2, cacheWriteInputTokens: 1 },
      },
      'm',
    );
    expect(completion.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(completion.model).toBe('m');
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'AB',
          reasoning_content: 'hmm',
          tool_calls: [
            { id: 'tu1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
            { id: 'call_1', type: 'function', function: { name: '', arguments: '{}' } },
          ],
        },
        finish_reason: 'tool_calls',
      },
    ]);
    expect(usage).toEqual({
      inputTokens: 8,
      cachedTokens: 2,
      cacheWriteTokens: 1,
      outputTokens: 3,
      reasoningTokens: 0,
    });
  });

  it('an empty body is an empty answer; finish reasons map, unknown ones are stop', () => {
    const { completion, usage } = toChatCompletion(null, 'm');
    expect(completion.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: '' },
      finish_reason: 'stop',
    });
    expect(usage).toBeNull();
    expect(completion).not.toHaveProperty('usage');
    const reasons = [
      'end_turn',
      'stop_sequence',
      'max_tokens',
      'model_context_window_exceeded',
      'tool_use',
      'guardrail_intervened',
      'content_filtered',
      'new_one',
    ];
    expect(reasons.map((r) => finishReason(r))).toEqual([
      'stop',
      'stop',
      'length',
      'length',
      'tool_calls',
      'content_filter',
      'content_filter',
      'stop',
    ]);
    expect(finishReason(undefined)).toBe('stop');
  });
});

const msg = (
  eventType: string,
  payload: unknown,
  headers: Record<string, string> = {},
): EventStreamMessage => ({
  kind: 'eventstream',
  headers: { ':message-type': 'event', ':event-type': eventType, ...headers },
  payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
});

describe('bedrock usage', () => {
  it('counts that are not positive finite numbers read as 0; a usage that is not an object is none', () => {
    const { usage } = toChatCompletion(
      {
        usage: {
          inputTokens: Number.NaN,
          outputTokens: -3,
          cacheReadInputTokens: '4',
          cacheWriteInputTokens: 0,
        },
      },
      'm',
    );
    expect(usage).toEqual({
      inputTokens: 0,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 0,
      reasoningTokens: 0,
    });
    expect(toChatCompletion({ usage: { inputTokens: 2.7, outputTokens: Infinity } }, 'm').usage).toEqual({
      inputTokens: 2,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 0,
      reasoningTokens: 0,
    });
    expect(toChatCompletion({ usage: 5 }, 'm').usage).toBeNull();
    expect(toChatCompletion({ usage: null }, 'm').usage).toBeNull();
  });

  it('a message without content and reasoning without text add nothing', () => {
    const { completion } = toChatCompletion(
      { output: { message: { role: 'assistant' } }, stopReason: 'end_turn' },
      'm',
    );
    expect(completion.choices[0]!.message).toEqual({ role: 'assistant', content: '' });
    const noText = toChatCompletion(
      {
        output: { message: { content: [{ reasoningContent: { redactedContent: 'AAA' } }, { text: 'ok' }] } },
      },
      'm',
    ).completion;
    expect(noText.choices[0]!.message).toEqual({ role: 'assistant', content: 'ok' });
  });
});

describe('bedrock stream', () => {
  it('messages in order: role, text, reasoning, tool start and input, finish; usage from metadata', () => {
    const conv = converseStreamConverter('m');
    const chunks = [
      msg('messageStart', { role: 'assistant' }),
      msg('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'why' } } }),
      msg('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { signature: 's' } } }),
      msg('contentBlockDelta', { contentBlockIndex: 1, delta: { text: '' } }),
      msg('contentBlockDelta', { contentBlockIndex: 1, delta: { text: 'Hi' } }),
      msg('contentBlockStart', { contentBlockIndex: 5, start: { toolUse: { toolUseId: 'tu', name: 'f' } } }),
      msg('contentBlockDelta', { contentBlockIndex: 5, delta: { toolUse: { input: '{"a":' } } }),
      msg('contentBlockStart', { contentBlockIndex: 7, start: { toolUse: {} } }),
      msg('contentBlockStart', { contentBlockIndex: 8, start: {} }),
      msg('contentBlockDelta', { contentBlockIndex: 9 }),
      msg('contentBlockStop', { contentBlockIndex: 5 }),
      msg('messageStop', { stopReason: 'tool_use' }),
      msg('metadata', { usage: { inputTokens: 4, outputTokens: 2 } }),
      msg('metadata', {}),
      msg('somethingNew', ''),
    ].flatMap((e) => conv.push(e));
    const base = {
      id: chunks[0]!.id,
      object: 'chat.completion.chunk',
      created: chunks[0]!.created,
      model: 'm',
    };
    expect(chunks[0]!.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    const frame = (delta: unknown, finish: string | null = null) => ({
      ...base,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    expect(chunks).toEqual([
      frame({ role: 'assistant', content: '' }),
      frame({ reasoning_content: 'why' }),
      frame({ content: 'Hi' }),
      frame({
        tool_calls: [{ index: 0, id: 'tu', type: 'function', function: { name: 'f', arguments: '' } }],
      }),
      frame({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }),
      frame({
        tool_calls: [{ index: 1, id: 'call_1', type: 'function', function: { name: '', arguments: '' } }],
      }),
      frame({}, 'tool_calls'),
    ]);
    expect(conv.usage()).toEqual({
      inputTokens: 4,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      outputTokens: 2,
      reasoningTokens: 0,
    });
    expect(conv.end()).toEqual([]);
  });

  it('a tool delta without a block index shares one call; SSE events are ignored', () => {
    const conv = converseStreamConverter('m');
    expect(conv.push({ kind: 'sse', event: undefined, data: '{}' })).toEqual([]);
    const a = conv.push(msg('contentBlockDelta', { delta: { toolUse: { input: '{' } } }));
    const b = conv.push(msg('contentBlockDelta', { delta: { toolUse: { input: '}' } } }));
    expect([a[0]!.choices[0]!.delta, b[0]!.choices[0]!.delta]).toEqual([
      { tool_calls: [{ index: 0, function: { arguments: '{' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '}' } }] },
    ]);
    expect(conv.push(msg('messageStop', ''))[0]!.choices[0]!.finish_reason).toBe('stop');
  });

  it('exceptions and unreadable payloads are stream failures with their status', () => {
    const fail = (e: EventStreamMessage) => {
      try {
        converseStreamConverter('m').push(e);
      } catch (x) {
        if (x instanceof UpstreamStreamError) return x.failure;
        throw x;
      }
      throw new Error('expected a failure');
    };
    const throttled = fail(
      msg('x', '{"message":"Too many tokens"}', {
        ':message-type': 'exception',
        ':exception-type': 'throttlingException',
      }),
    );
    expect([throttled.status, throttled.message]).toEqual([
      429,
      'bedrock stream throttlingException: Too many tokens',
    ]);
    const coded = fail(
      msg('x', '', {
        ':message-type': 'error',
        ':error-code': 'ValidationException',
        ':error-message': 'bad',
      }),
    );
    expect([coded.status, coded.message]).toEqual([400, 'bedrock stream ValidationException: bad']);
    const unknown = fail(msg('x', '', { ':message-type': 'exception' }));
    expect([unknown.status, unknown.message]).toEqual([500, 'bedrock stream UnknownException: no message']);
    expect(fail(msg('messageStart', '{not json'))).toEqual({
      status: 502,
      action: 'retry',
      message: 'bedrock stream: event payload is not JSON',
    });
  });
});
