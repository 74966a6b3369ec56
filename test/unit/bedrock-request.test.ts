/**
 * OpenAI chat -> Bedrock Converse request conversion (PROTOCOLS.md 7.6), checked against the
 * request bodies recorded from real clients (pydantic-ai cassettes) and rule by rule.
 */
import { describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { toConverseRequest } from '../../src/daemon/providers/bedrock/request.js';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';
import { readCassetteBodies, readFixtureJson } from '../support/fixtures.js';

const CAPITAL_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_capital',
    description: 'Get the capital of a country.',
    parameters: {
      additionalProperties: false,
      properties: { country: { description: 'The country name.', type: 'string' } },
      required: ['country'],
      type: 'object',
    },
  },
};

function convert(req: Partial<OpenAIChatRequest>, model = 'us.amazon.nova-micro-v1:0') {
  const dropped: string[] = [];
  const out = toConverseRequest({ model, messages: [], ...req }, model, { dropped });
  return { out: JSON.parse(JSON.stringify(out)) as Record<string, unknown>, dropped };
}

describe('Converse request from recorded client traffic', () => {
  const recorded = readCassetteBodies('bedrock/converse-tool-use-and-tool-result.cassette.yaml')
    .filter((b) => b.side === 'request')
    .map((b) => JSON.parse(b.text) as Record<string, unknown>);

  it('first turn: system, user text, temperature, tools with toolChoice auto', () => {
    expect(recorded).toHaveLength(2);
    const { out, dropped } = convert({
      messages: [
        { role: 'system', content: 'You are a helpful chatbot.' },
        { role: 'user', content: 'What is the capital of France?' },
      ],
      temperature: 0,
      tools: [CAPITAL_TOOL],
      tool_choice: 'auto',
    });
    expect(out).toEqual(recorded[0]);
    expect(dropped).toEqual([]);
  });

  it('second turn: assistant text + toolUse, tool result as a user toolResult', () => {
    const expected = structuredClone(recorded[1]) as {
      messages: { content: { toolResult?: { status?: string } }[] }[];
    };
    // OpenAI tool messages carry no error flag, so the status the recording sends cannot be reproduced.
    for (const m of expected.messages) for (const b of m.content) delete b.toolResult?.status;
    const assistantText = (expected.messages[1]?.content[0] as unknown as { text: string }).text;
    const { out } = convert({
      messages: [
        { role: 'system', content: 'You are a helpful chatbot.' },
        { role: 'user', content: 'What is the capital of France?' },
        {
          role: 'assistant',
          content: assistantText,
          tool_calls: [
            {
              id: 'tooluse_Ze_bgl9CSqu8aJv7XD-_Dw',
              type: 'function',
              function: { name: 'get_capital', arguments: '{"country":"France"}' },
            },
          ],
        },
        {
          role: 'tool',
          tool_call_id: 'tooluse_Ze_bgl9CSqu8aJv7XD-_Dw',
          content: 'The country is not supported.\n\nFix the errors and try again.',
        },
      ],
      temperature: 0,
      tools: [CAPITAL_TOOL],
      tool_choice: 'auto',
    });
    expect(out).toEqual(expected);
  });

  it('converse-stream-tool-use.request.json: two tools, no tool_choice, topP', () => {
    const expected = readFixtureJson<{
      toolConfig: {
        tools: {
          toolSpec: { name: string; description: string; inputSchema: { json: Record<string, unknown> } };
        }[];
      };
    }>('bedrock/converse-stream-tool-use.request.json');
    const { out } = convert({
      messages: [
        { role: 'system', content: 'You are a helpful chatbot.' },
        {
          role: 'user',
          content: [{ type: 'text', text: 'What is the temperature of the capital of France?' }],
        },
      ],
      top_p: 0.5,
      stream: true,
      tools: expected.toolConfig.tools.map((t) => ({
        type: 'function' as const,
        function: {
          name: t.toolSpec.name,
          description: t.toolSpec.description,
          parameters: t.toolSpec.inputSchema.json,
        },
      })),
    });
    expect(out).toEqual(expected);
  });
});

describe('Converse request conversion rules', () => {
  it('merges consecutive same-role turns; tool results and a user follow-up become one user turn', () => {
    const { out } = convert({
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            { id: 't1', type: 'function', function: { name: 'f', arguments: '{"q":1}' } },
            { id: 't2', type: 'function', function: { name: 'f', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 't1', content: 'r1' },
        { role: 'tool', tool_call_id: 't2', content: [{ type: 'text', text: 'r2' }] },
        { role: 'user', content: 'next' },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
    });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ text: 'a' }, { text: 'b' }] },
      {
        role: 'assistant',
        content: [
          { toolUse: { toolUseId: 't1', name: 'f', input: { q: 1 } } },
          { toolUse: { toolUseId: 't2', name: 'f', input: {} } },
        ],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 't1', content: [{ text: 'r1' }] } },
          { toolResult: { toolUseId: 't2', content: [{ text: 'r2' }] } },
          { text: 'next' },
        ],
      },
    ]);
    expect(out.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object', properties: {} } } } }],
    });
  });

  it('images from data URLs become byte blocks; remote URLs are refused with a 400', () => {
    const { out } = convert({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/AAAA' } },
          ],
        },
      ],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [{ text: 'what is this' }, { image: { format: 'jpeg', source: { bytes: '/9j/AAAA' } } }],
      },
    ]);
    let err: unknown;
    try {
      convert({
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BcError);
    expect((err as BcError).code).toBe('INVALID_REQUEST');
  });

  it.each([
    ['required', { any: {} }],
    ['auto', { auto: {} }],
    [{ type: 'function', function: { name: 'get_capital' } }, { tool: { name: 'get_capital' } }],
  ] as const)('tool_choice %j -> %j', (choice, expected) => {
    const { out } = convert({
      messages: [{ role: 'user', content: 'x' }],
      tools: [CAPITAL_TOOL],
      tool_choice: choice,
    });
    expect((out.toolConfig as { toolChoice: unknown }).toolChoice).toEqual(expected);
  });

  it('tool_choice none drops toolConfig, unless the history uses tools', () => {
    expect(
      convert({ messages: [{ role: 'user', content: 'x' }], tools: [CAPITAL_TOOL], tool_choice: 'none' }).out
        .toolConfig,
    ).toBeUndefined();
    const { out, dropped } = convert({
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          tool_calls: [{ id: 't', type: 'function', function: { name: 'get_capital', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 't', content: 'Paris' },
      ],
      tools: [CAPITAL_TOOL],
      tool_choice: 'none',
    });
    expect(out.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'get_capital',
            description: CAPITAL_TOOL.function.description,
            inputSchema: { json: CAPITAL_TOOL.function.parameters },
          },
        },
      ],
    });
    expect(dropped).toContain('tool_choice');
  });

  it('inferenceConfig from max_completion_tokens (over max_tokens), temperature, top_p, stop', () => {
    const { out } = convert({
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 10,
      max_completion_tokens: 20,
      temperature: 0.3,
      top_p: 0.9,
      stop: 'END',
    });
    expect(out.inferenceConfig).toEqual({
      maxTokens: 20,
      temperature: 0.3,
      topP: 0.9,
      stopSequences: ['END'],
    });
    expect(convert({ messages: [{ role: 'user', content: 'x' }] }).out.inferenceConfig).toBeUndefined();
  });

  it('reasoning_effort becomes Claude thinking (temperature dropped) and is dropped for other models', () => {
    const claude = convert(
      {
        messages: [{ role: 'user', content: 'x' }],
        reasoning_effort: 'medium',
        max_tokens: 1000,
        temperature: 0.5,
      },
      'us.anthropic.claude-3-7-sonnet-20250219-v1:0',
    );
    expect(claude.out.additionalModelRequestFields).toEqual({
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
    expect(claude.out.inferenceConfig).toEqual({ maxTokens: 3048 });
    expect(claude.dropped).toEqual(['temperature']);
    const nova = convert({ messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'high' });
    expect(nova.out.additionalModelRequestFields).toBeUndefined();
    expect(nova.dropped).toEqual(['reasoning_effort']);
  });

  it('lists what Converse cannot carry; top_k goes to additionalModelRequestFields', () => {
    const { out, dropped } = convert({
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'sys' }] },
        { role: 'user', content: 'x' },
      ],
      seed: 1,
      presence_penalty: 0.1,
      frequency_penalty: null,
      n: 2,
      response_format: { type: 'json_object' },
      top_k: 5,
    });
    expect(dropped.sort()).toEqual(['n', 'presence_penalty', 'response_format', 'seed']);
    expect(out.additionalModelRequestFields).toEqual({ top_k: 5 });
    expect(out.system).toEqual([{ text: 'sys' }]);
  });
});
