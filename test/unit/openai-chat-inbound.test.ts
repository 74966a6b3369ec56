/**
 * OpenAI chat on both sides of the gateway. Inbound: validateChat refuses only what OpenAI
 * refuses (with OpenAI's words), canonicalChat maps legacy function calling and allowed_tools for
 * converting channels and names custom tools it drops, and the legacy codec answers a `functions`
 * client with `function_call`. Outbound: fields other protocols' conversions put on assistant
 * messages are removed for OpenAI-protocol channels (thinking_blocks for all of them; on strict
 * APIs also reasoning_content and a tool call's extra_content) and named once.
 */
import { describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { validateChat } from '../../src/daemon/gateway/intake/validate.js';
import { canonicalChat } from '../../src/daemon/inbound/openai/chat.js';
import { legacyFunctionsCodec, usesLegacyFunctions } from '../../src/daemon/inbound/openai/legacy.js';
import { buildChatBody } from '../../src/daemon/providers/openai/request.js';
import type {
  OpenAIChatChunk,
  OpenAIChatCompletion,
  OpenAIChatRequest,
} from '../../src/daemon/providers/openai/types.js';
import type { ChannelType } from '../../src/shared/control-api.js';
import { upstreamTarget } from '../support/upstream-target.js';

type Json = Record<string, unknown>;

function refusal(body: Json): BcError {
  try {
    validateChat(body);
  } catch (err) {
    if (err instanceof BcError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('validateChat', () => {
  it('accepts what OpenAI accepts: every role, new part types, new fields, custom tools', () => {
    const body = {
      model: 'gpt-5',
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'be brief' }] },
        { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }] },
        { role: 'assistant', content: null, audio: { id: 'audio_1' }, refusal: null },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] },
        { role: 'function', name: 'f', content: '{}' },
        { role: 'user', content: [{ type: 'a_part_type_from_next_year', x: 1 }] },
      ],
      reasoning_effort: 'xhigh',
      verbosity: 'low',
      modalities: ['text', 'audio'],
      audio: { voice: 'alloy', format: 'wav' },
      prediction: { type: 'content', content: 'x' },
      web_search_options: {},
      service_tier: 'flex',
      store: true,
      metadata: { a: 'b' },
      prompt_cache_key: 'k',
      safety_identifier: 's',
      logit_bias: { '50256': -100 },
      logprobs: true,
      top_logprobs: 2,
      n: 2,
      parallel_tool_calls: false,
      tools: [{ type: 'custom', custom: { name: 'grep' } }],
      functions: [{ name: 'f' }],
      function_call: 'auto',
      an_argument_from_next_year: true,
    };
    expect(validateChat(body)).toBe('gpt-5');
  });

  it.each([
    [{ tools: [{ type: 'function' }] }, 'tools[0].function'],
    [{ tools: [{ type: 'function', function: { description: 'x' } }] }, 'tools[0].function.name'],
    [
      {
        messages: [
          { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f' } }] },
        ],
      },
      'messages[0].tool_calls[0].function.arguments',
    ],
    [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id'],
  ])('refuses what OpenAI refuses as a missing parameter: %j', (extra, param) => {
    const err = refusal({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });
    expect(err.param).toBe(param);
    expect(err.message).toBe(`Missing required parameter: '${param}'.`);
  });
});

describe('canonicalChat', () => {
  it('returns a request that needs nothing as it is', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: [] };
    expect(canonicalChat(body, [])).toBe(body);
  });

  it('legacy function calling becomes tools, tool calls and tool results', () => {
    const dropped: string[] = [];
    const out = canonicalChat(
      {
        model: 'm',
        functions: [{ name: 'weather', parameters: { type: 'object', properties: {} } }],
        function_call: { name: 'weather' },
        messages: [
          { role: 'user', content: 'Paris?' },
          {
            role: 'assistant',
            content: null,
            function_call: { name: 'weather', arguments: '{"c":"Paris"}' },
          },
          { role: 'function', name: 'weather', content: '21C' },
          { role: 'function', name: 'nobody_called_me', content: '?' },
        ],
      },
      dropped,
    );
    expect(out.tools).toEqual([
      { type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: {} } } },
    ]);
    expect(out.tool_choice).toEqual({ type: 'function', function: { name: 'weather' } });
    expect(out.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_legacy_0',
            type: 'function',
            function: { name: 'weather', arguments: '{"c":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_legacy_0', content: '21C' },
    ]);
    expect(out).not.toHaveProperty('functions');
    expect(out).not.toHaveProperty('function_call');
    expect(dropped).toEqual(['messages[3]']);
  });

  it('allowed_tools narrows the tools; custom tools are named, their calls kept as function calls', () => {
    const fn = (name: string): Json => ({ type: 'function', function: { name } });
    const dropped: string[] = [];
    const out = canonicalChat(
      {
        model: 'm',
        tools: [fn('a'), fn('b'), { type: 'custom', custom: { name: 'patch' } }],
        tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [fn('b')] } },
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            tool_calls: [{ id: 'c1', type: 'custom', custom: { name: 'patch', input: '*** diff' } }],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'ok' },
        ],
      },
      dropped,
    );
    expect(out.tools).toEqual([fn('b')]);
    expect(out.tool_choice).toBe('required');
    expect(out.messages[1]).toEqual({
      role: 'assistant',
      tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'patch', arguments: '{"input":"*** diff"}' } },
      ],
    });
    expect(dropped).toEqual(['tools[2]']);
  });
});

describe('the legacy codec', () => {
  const codec = legacyFunctionsCodec(false);

  it('is used for functions without tools only', () => {
    expect(usesLegacyFunctions({ functions: [{ name: 'f' }] })).toBe(true);
    expect(usesLegacyFunctions({ functions: [{ name: 'f' }], tools: [] })).toBe(false);
    expect(usesLegacyFunctions({ tools: [] })).toBe(false);
  });

  it('answers the first tool call as function_call, finish reason function_call', () => {
    const completion: OpenAIChatCompletion = {
      id: 'x',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
        },
      ],
    };
    const out = codec.fromOpenAI(completion, null, 'm') as OpenAIChatCompletion;
    expect(out.choices[0]).toEqual({
      index: 0,
      finish_reason: 'function_call',
      message: { role: 'assistant', content: null, function_call: { name: 'f', arguments: '{}' } },
    });
  });

  it('streams function_call deltas', () => {
    const enc = codec.streamEncoder('m');
    const chunk = (
      delta: OpenAIChatChunk['choices'][0]['delta'],
      finish: string | null = null,
    ): OpenAIChatChunk =>
      ({
        id: 'x',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta, finish_reason: finish }],
      }) as OpenAIChatChunk;
    const frames = [
      ...enc.push(
        chunk({
          tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: '' } }],
        }),
      ),
      ...enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] })),
      ...enc.push(chunk({}, 'tool_calls')),
      ...enc.end(null),
    ];
    const payloads = frames.map((f) => f.slice(6).trim());
    expect(payloads.at(-1)).toBe('[DONE]');
    const choices = payloads.slice(0, 3).map((p) => (JSON.parse(p) as OpenAIChatChunk).choices[0]);
    expect(choices.map((c) => c?.delta)).toEqual([
      { function_call: { name: 'f', arguments: '' } },
      { function_call: { arguments: '{}' } },
      {},
    ]);
    expect(choices[2]?.finish_reason).toBe('function_call');
  });
});

describe('buildChatBody: foreign fields on assistant messages', () => {
  const history = {
    model: 'm',
    messages: [
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: null,
        reasoning_content: 'thought',
        thinking_blocks: [{ type: 'thinking', thinking: 'thought', signature: 'sig' }],
        tool_calls: [
          {
            id: 'c',
            type: 'function',
            function: { name: 'f', arguments: '{}' },
            extra_content: { google: { thought_signature: 'SIG' } },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'c', content: 'ok' },
    ],
  } as unknown as OpenAIChatRequest;

  function build(type: ChannelType): { assistant: Json; dropped: string[] } {
    const ctx = { dropped: [] as string[] };
    const target = upstreamTarget({ name: 'c', type, baseUrl: 'http://x/v1', timeoutMs: 1000 }, 'k', 'up');
    const body = buildChatBody(history, target, ctx);
    return { assistant: body.messages[1] as unknown as Json, dropped: ctx.dropped };
  }

  it('OpenAI: all three removed and named', () => {
    const { assistant, dropped } = build('openai');
    expect(assistant).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }],
    });
    expect(dropped.sort()).toEqual([
      'messages[].reasoning_content',
      'messages[].thinking_blocks',
      'messages[].tool_calls[].extra_content',
    ]);
  });

  it.each(['deepseek', 'openai-compatible', 'qwen'] as const)(
    '%s: thinking_blocks removed; reasoning_content and extra_content kept for servers that read them',
    (type) => {
      const { assistant, dropped } = build(type);
      expect(assistant).not.toHaveProperty('thinking_blocks');
      expect(assistant.reasoning_content).toBe('thought');
      expect((assistant.tool_calls as Json[])[0]).toHaveProperty('extra_content');
      expect(dropped).toEqual(['messages[].thinking_blocks']);
    },
  );
});
