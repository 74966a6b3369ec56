/**
 * OpenAI chat request -> Anthropic Messages request (PROTOCOLS 7.1): system placement, role
 * merging, tool calls and results, tool_choice, images, stop, max_tokens, thinking, json mode,
 * and the list of fields that could not be carried.
 */
import { describe, expect, it } from 'vitest';
import { toAnthropicRequest } from '../../src/daemon/providers/anthropic/request.js';
import type { OpenAIChatRequest, OpenAIMessage } from '../../src/daemon/providers/openai/types.js';

function convert(req: Partial<OpenAIChatRequest>, dropped: string[] = []) {
  return toAnthropicRequest({ model: 'gpt-alias', messages: [], ...req }, 'claude-x', dropped);
}

const user = (content: string): OpenAIMessage => ({ role: 'user', content });

describe('toAnthropicRequest: messages', () => {
  it('moves every system and developer message to top-level system blocks', () => {
    const out = convert({
      messages: [
        { role: 'system', content: 'Be brief.' },
        user('hi'),
        { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
        { role: 'assistant', content: 'Salut' },
        user('again'),
      ],
    });
    expect(out.system).toEqual([
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: 'Use French.' },
    ]);
    expect(out.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(out.model).toBe('claude-x');
  });

  it('keeps cache_control on system and user text parts', () => {
    const part = { type: 'text', text: 'long context', cache_control: { type: 'ephemeral' } } as const;
    const out = convert({
      messages: [
        { role: 'system', content: [part] },
        { role: 'user', content: [part] },
      ],
    });
    expect(out.system?.[0]).toEqual({
      type: 'text',
      text: 'long context',
      cache_control: { type: 'ephemeral' },
    });
    expect(out.messages[0]?.content).toEqual([
      { type: 'text', text: 'long context', cache_control: { type: 'ephemeral' } },
    ]);
  });

  it('merges consecutive same-role messages and drops empty text', () => {
    const out = convert({
      messages: [user('a'), user(''), user('b'), { role: 'assistant', content: '' }, user('c')],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
          { type: 'text', text: 'c' },
        ],
      },
    ]);
  });

  it('assistant tool_calls -> tool_use with parsed input; tool messages -> one user turn of tool_result first', () => {
    const dropped: string[] = [];
    const out = convert(
      {
        messages: [
          user('weather?'),
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'weather', arguments: '{"city":"Paris"}' },
              },
              { id: 'call_2', type: 'function', function: { name: 'time', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
          { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '12:00' }] },
          user('thanks'),
        ],
      },
      dropped,
    );
    expect(out.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'time', input: {} },
      ],
    });
    expect(out.messages[2]).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' },
        { type: 'tool_result', tool_use_id: 'call_2', content: '12:00' },
        { type: 'text', text: 'thanks' },
      ],
    });
    expect(out.messages).toHaveLength(3);
    expect(dropped).toEqual([]);
  });

  it('images: data URL -> base64 source, https URL -> url source; pdf file -> document', () => {
    const out = convert({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'compare' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } },
          ],
        },
      ],
    });
    expect(out.messages[0]?.content).toEqual([
      { type: 'text', text: 'compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
    ]);
  });

  it('trims trailing whitespace of a final assistant prefill', () => {
    const out = convert({ messages: [user('q'), { role: 'assistant', content: 'The answer is ' }] });
    expect(out.messages[1]?.content).toEqual([{ type: 'text', text: 'The answer is' }]);
  });

  it('echoes signed thinking blocks before tool_use, never unsigned reasoning text', () => {
    const assistant = {
      role: 'assistant',
      content: null,
      reasoning_content: 'plain reasoning',
      thinking_blocks: [
        { type: 'thinking', thinking: 'signed', signature: 'sig' },
        { type: 'thinking', thinking: 'unsigned', signature: '' },
      ],
      tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
    } as OpenAIMessage;
    const out = convert({ messages: [user('q'), assistant] });
    expect(out.messages[1]?.content).toEqual([
      { type: 'thinking', thinking: 'signed', signature: 'sig' },
      { type: 'tool_use', id: 't1', name: 'f', input: {} },
    ]);
  });
});

describe('toAnthropicRequest: parameters', () => {
  const tools: OpenAIChatRequest['tools'] = [
    {
      type: 'function',
      function: { name: 'weather', description: 'Weather', parameters: { type: 'object' } },
    },
    { type: 'function', function: { name: 'noargs' } },
  ];

  it('maps tools and every tool_choice form', () => {
    const out = convert({ messages: [user('q')], tools });
    expect(out.tools).toEqual([
      { name: 'weather', description: 'Weather', input_schema: { type: 'object' } },
      { name: 'noargs', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(out.tool_choice).toBeUndefined();
    expect(convert({ tools, tool_choice: 'auto' }).tool_choice).toEqual({ type: 'auto' });
    expect(convert({ tools, tool_choice: 'required' }).tool_choice).toEqual({ type: 'any' });
    expect(convert({ tools, tool_choice: 'none' }).tool_choice).toEqual({ type: 'none' });
    expect(
      convert({ tools, tool_choice: { type: 'function', function: { name: 'weather' } } }).tool_choice,
    ).toEqual({
      type: 'tool',
      name: 'weather',
    });
    expect(convert({ tools, parallel_tool_calls: false }).tool_choice).toEqual({
      type: 'auto',
      disable_parallel_tool_use: true,
    });
    expect(convert({ tools, tool_choice: 'required', parallel_tool_calls: false }).tool_choice).toEqual({
      type: 'any',
      disable_parallel_tool_use: true,
    });
  });

  it('drops tool_choice when there are no tools', () => {
    const dropped: string[] = [];
    const out = convert({ tool_choice: 'required' }, dropped);
    expect(out.tool_choice).toBeUndefined();
    expect(dropped).toEqual(['tool_choice']);
  });

  it('stop -> stop_sequences without whitespace-only entries; sampling and user', () => {
    expect(convert({ stop: 'END' }).stop_sequences).toEqual(['END']);
    expect(convert({ stop: ['a', ' ', '\n', 'b'] }).stop_sequences).toEqual(['a', 'b']);
    expect(convert({ stop: null }).stop_sequences).toBeUndefined();
    const out = convert({ temperature: 1.7, top_p: 0.9, user: 'u-42' });
    expect(out.temperature).toBe(1);
    expect(out.top_p).toBe(0.9);
    expect(out.metadata).toEqual({ user_id: 'u-42' });
  });

  it('max_tokens: max_completion_tokens first, then max_tokens, else 4096', () => {
    expect(convert({}).max_tokens).toBe(4096);
    expect(convert({ max_tokens: 300 }).max_tokens).toBe(300);
    expect(convert({ max_tokens: 300, max_completion_tokens: 500 }).max_tokens).toBe(500);
  });

  it('reasoning_effort -> thinking with max_tokens above the budget and sampling cleared', () => {
    const dropped: string[] = [];
    const out = convert(
      { reasoning_effort: 'medium', max_tokens: 1000, temperature: 0.2, top_p: 0.5 },
      dropped,
    );
    expect(out.thinking).toEqual({ type: 'enabled', budget_tokens: 8192 });
    expect(out.max_tokens).toBe(9192);
    expect(out.temperature).toBeUndefined();
    expect(out.top_p).toBeUndefined();
    expect(dropped).toEqual(['temperature', 'top_p']);
    const big = convert({ reasoning_effort: 'low', max_tokens: 20000 });
    expect(big.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(big.max_tokens).toBe(20000);
  });

  it('skips thinking when the last assistant turn has tool_use without a signed thinking block', () => {
    const dropped: string[] = [];
    const out = convert(
      {
        reasoning_effort: 'high',
        messages: [
          user('q'),
          {
            role: 'assistant',
            tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 't', content: 'r' },
        ],
        tools,
      },
      dropped,
    );
    expect(out.thinking).toBeUndefined();
    expect(dropped).toEqual(['reasoning_effort']);
  });

  it('response_format json_schema -> forced json_tool_call with the schema', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    const out = convert({ response_format: { type: 'json_schema', json_schema: { name: 'r', schema } } });
    expect(out.tools).toEqual([expect.objectContaining({ name: 'json_tool_call', input_schema: schema })]);
    expect(out.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
    expect(convert({ response_format: { type: 'text' } }).tools).toBeUndefined();
  });

  it('names every field Anthropic cannot carry', () => {
    const dropped: string[] = [];
    convert(
      {
        n: 2,
        logprobs: true,
        top_logprobs: 3,
        seed: 7,
        presence_penalty: 0.1,
        frequency_penalty: 0.2,
        logit_bias: { '1': 2 },
        stream_options: { include_usage: true },
      },
      dropped,
    );
    expect(dropped.sort()).toEqual(
      ['frequency_penalty', 'logit_bias', 'logprobs', 'n', 'presence_penalty', 'seed', 'top_logprobs'].sort(),
    );
    const none: string[] = [];
    convert({ n: 1, logprobs: false, seed: null }, none);
    expect(none).toEqual([]);
  });
});
