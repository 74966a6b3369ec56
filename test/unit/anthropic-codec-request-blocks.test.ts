/**
 * The Anthropic inbound request conversion, block by block, with whole expected messages: documents
 * (plain text, a PDF with and without a title, a source it cannot carry), images with and without
 * a media type, tool results (an error with no text, an image inside, no id), tool uses with
 * missing fields, signed and redacted thinking carried whole in `thinking_blocks`, mid-conversation
 * system text, every tool_choice, output_config (effort, a JSON schema format, unknown keys) and
 * the thinking budget boundaries. Each case names what it drops, exactly.
 */
import { describe, expect, it } from 'vitest';
import { anthropicCodec } from '../../src/daemon/inbound/anthropic/index.js';
import { reasoningEffort } from '../../src/daemon/inbound/anthropic/request.js';

type Json = Record<string, unknown>;
const base = { model: 'claude-sonnet-4-5', max_tokens: 512 };

function convert(body: Json): { req: ReturnType<typeof anthropicCodec.toOpenAI>; dropped: string[] } {
  const dropped: string[] = [];
  const req = anthropicCodec.toOpenAI({ ...base, ...body }, { dropped });
  return { req, dropped };
}

function userTurn(content: unknown[]): ReturnType<typeof convert> {
  return convert({ messages: [{ role: 'user', content }] });
}

describe('anthropic request: user content blocks', () => {
  it('turns documents into text and file parts, and drops a document it cannot carry', () => {
    const { req, dropped } = userTurn([
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words' } },
      {
        type: 'document',
        title: 'report.pdf',
        source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0' },
      },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi1' } },
      { type: 'document', source: { type: 'base64', media_type: 'image/png', data: 'iVBO' } },
      { type: 'document', source: { type: 'url', url: 'https://x.test/a.pdf' } },
      { type: 'document', source: 'not an object' },
      { type: 'document', source: { type: 'text', data: 7 } },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf' } },
    ]);
    expect(req.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'plain words' },
          {
            type: 'file',
            file: { filename: 'report.pdf', file_data: 'data:application/pdf;base64,JVBERi0' },
          },
          {
            type: 'file',
            file: { filename: 'document.pdf', file_data: 'data:application/pdf;base64,JVBERi1' },
          },
        ],
      },
    ]);
    expect(dropped).toEqual([
      'messages.content.document',
      'messages.content.document',
      'messages.content.document',
      'messages.content.document',
      'messages.content.document',
    ]);
  });

  it('images: a base64 image without a media type is PNG; sources it cannot read are dropped', () => {
    const { req, dropped } = userTurn([
      { type: 'image', source: { type: 'base64', data: 'AAAA' } },
      { type: 'image', source: { type: 'url', url: 'https://x.test/b.png' } },
      { type: 'image', source: { type: 'url' } },
      { type: 'image', source: { type: 'base64' } },
      { type: 'image', source: { type: 'file', file_id: 'file_1' } },
      { type: 'image' },
      { type: 'search_result', content: [] },
    ]);
    expect(req.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          { type: 'image_url', image_url: { url: 'https://x.test/b.png' } },
        ],
      },
    ]);
    expect(dropped).toEqual([
      'messages.content.image',
      'messages.content.image',
      'messages.content.image',
      'messages.content.image',
      'messages.content.search_result',
    ]);
  });

  it('a lone text block is plain string content; text then an image stays a part list', () => {
    expect(userTurn([{ type: 'text', text: 'only' }]).req.messages).toEqual([
      { role: 'user', content: 'only' },
    ]);
    expect(
      userTurn([
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ]).req.messages,
    ).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      },
    ]);
    const onlyImage = userTurn([{ type: 'image', source: { type: 'url', url: 'https://x.test/c.png' } }]);
    expect(onlyImage.req.messages).toEqual([
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x.test/c.png' } }] },
    ]);
  });

  it('tool results: an error with no text says "error", an image inside is dropped, text blocks join', () => {
    const { req, dropped } = userTurn([
      { type: 'tool_result', tool_use_id: 'toolu_1', is_error: true, content: [] },
      { type: 'tool_result', tool_use_id: 'toolu_2', is_error: true, content: 'it broke' },
      {
        type: 'tool_result',
        tool_use_id: 'toolu_3',
        content: [
          { type: 'text', text: 'first' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA' } },
          { type: 'text', text: '' },
          { type: 'text', text: 'second' },
        ],
      },
      { type: 'tool_result', content: 'no id' },
      { type: 'tool_result', tool_use_id: 'toolu_5' },
    ]);
    expect(req.messages).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: 'error' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'it broke' },
      { role: 'tool', tool_call_id: 'toolu_3', content: 'first\nsecond' },
      { role: 'tool', tool_call_id: '', content: 'no id' },
      { role: 'tool', tool_call_id: 'toolu_5', content: '' },
    ]);
    expect(dropped).toEqual(['tool_result.content.image']);
  });

  it('tool results go before the user text of the same turn', () => {
    const { req } = userTurn([
      { type: 'text', text: 'and then' },
      { type: 'tool_result', tool_use_id: 'toolu_1', content: 'done' },
    ]);
    expect(req.messages).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: 'done' },
      { role: 'user', content: 'and then' },
    ]);
  });
});

describe('anthropic request: assistant and system turns', () => {
  it('carries signed and redacted thinking whole; reasoning text only from thinking blocks', () => {
    const thinking = { type: 'thinking', thinking: 'step one', signature: 'sig-a' };
    const redacted = { type: 'redacted_thinking', data: 'ENCRYPTED' };
    const { req } = convert({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [
            thinking,
            redacted,
            { type: 'tool_use', input: { a: 1 } },
            { type: 'tool_use', id: 'toolu_9', name: 'n' },
          ],
        },
      ],
    });
    expect(req.messages[1]).toEqual({
      role: 'assistant',
      content: null,
      reasoning_content: 'step one',
      thinking_blocks: [thinking, redacted],
      tool_calls: [
        { id: '', type: 'function', function: { name: '', arguments: '{"a":1}' } },
        { id: 'toolu_9', type: 'function', function: { name: 'n', arguments: '{}' } },
      ],
    });
  });

  it('an assistant turn of plain text has neither reasoning nor thinking blocks nor tool calls', () => {
    const { req } = convert({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
        { role: 'assistant', content: 'plain' },
        { role: 'assistant', content: [{ type: 'redacted_thinking', data: 'X' }] },
      ],
    });
    expect(req.messages.slice(1)).toEqual([
      { role: 'assistant', content: 'ab' },
      { role: 'assistant', content: 'plain' },
      { role: 'assistant', content: null, thinking_blocks: [{ type: 'redacted_thinking', data: 'X' }] },
    ]);
  });

  it('system text: blocks join with newlines, empty system gives no message, other blocks are named', () => {
    expect(convert({ system: '', messages: [{ role: 'user', content: 'q' }] }).req.messages).toEqual([
      { role: 'user', content: 'q' },
    ]);
    expect(
      convert({ system: [{ type: 'text', text: '' }], messages: [{ role: 'user', content: 'q' }] }).req
        .messages,
    ).toEqual([{ role: 'user', content: 'q' }]);
    const mid = convert({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'system',
          content: [
            { type: 'text', text: 'be brief' },
            { type: 'image', source: {} },
          ],
        },
        { role: 'system', content: [{ type: 'image', source: {} }] },
      ],
    });
    expect(mid.req.messages).toEqual([
      { role: 'user', content: 'q' },
      { role: 'system', content: 'be brief' },
    ]);
    expect(mid.dropped).toEqual(['messages.system.image', 'messages.system.image']);
  });
});

describe('anthropic request: request-level fields', () => {
  const q = { messages: [{ role: 'user', content: 'q' }] };
  const tools = [{ name: 't', input_schema: { type: 'object' } }];

  it('the smallest request converts to exactly model, messages and max_tokens', () => {
    expect(convert(q)).toEqual({
      req: { model: 'claude-sonnet-4-5', max_tokens: 512, messages: [{ role: 'user', content: 'q' }] },
      dropped: [],
    });
  });

  it('tools: a custom tool is a function, server tools and nameless tools are left out', () => {
    const { req, dropped } = convert({
      ...q,
      tools: [
        { type: 'custom', name: 'c', description: 'd', input_schema: { type: 'object', properties: {} } },
        { name: 'bare' },
        { type: 'bash_20250124', name: 'bash' },
        { description: 'no name' },
        'junk',
      ],
      tool_choice: { type: 'auto', disable_parallel_tool_use: false },
    });
    expect(req.tools).toEqual([
      {
        type: 'function',
        function: { name: 'c', description: 'd', parameters: { type: 'object', properties: {} } },
      },
      { type: 'function', function: { name: 'bare' } },
    ]);
    expect(req.tool_choice).toBe('auto');
    expect(req).not.toHaveProperty('parallel_tool_calls');
    expect(dropped).toEqual(['tools.bash']);
  });

  it('no tools left means no tool_choice either', () => {
    const { req } = convert({
      ...q,
      tools: [{ type: 'web_search_20250305', name: 'ws' }],
      tool_choice: { type: 'any' },
    });
    expect(req).not.toHaveProperty('tools');
    expect(req).not.toHaveProperty('tool_choice');
  });

  it('tool_choice: unknown or nameless choices set nothing; disable_parallel_tool_use alone still applies', () => {
    const pick = (tc: unknown) => {
      const { req } = convert({ ...q, tools, tool_choice: tc });
      return { choice: req.tool_choice, parallel: req.parallel_tool_calls };
    };
    expect(pick({ type: 'tool' })).toEqual({ choice: undefined, parallel: undefined });
    expect(pick({ type: 'other' })).toEqual({ choice: undefined, parallel: undefined });
    expect(pick('auto')).toEqual({ choice: undefined, parallel: undefined });
    expect(pick({ type: 'other', disable_parallel_tool_use: true })).toEqual({
      choice: undefined,
      parallel: false,
    });
    expect(pick({ type: 'any' })).toEqual({ choice: 'required', parallel: undefined });
  });

  it('output_config: a JSON schema format becomes response_format; effort is not dropped, other keys are', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const { req, dropped } = convert({
      ...q,
      output_config: {
        effort: 'low',
        format: { type: 'json_schema', schema },
        task_budget: 5,
        nothing: null,
      },
    });
    expect(req.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'output', schema } });
    expect(req.reasoning_effort).toBe('low');
    expect(dropped).toEqual(['output_config.task_budget']);
    const bad = convert({ ...q, output_config: { format: { type: 'text' } } });
    expect(bad.req).not.toHaveProperty('response_format');
    expect(bad.dropped).toEqual(['output_config.format']);
    const noSchema = convert({ ...q, output_config: { format: { type: 'json_schema' } } });
    expect(noSchema.req).not.toHaveProperty('response_format');
    expect(noSchema.dropped).toEqual(['output_config.format']);
    expect(convert({ ...q, output_config: { format: 'json' } }).dropped).toEqual(['output_config.format']);
  });

  it('stop sequences keep only strings; metadata without a user id sets no user', () => {
    const { req, dropped } = convert({
      ...q,
      stop_sequences: ['A', 3, 'B'],
      metadata: { other: 1 },
      top_p: 0.5,
    });
    expect(req.stop).toEqual(['A', 'B']);
    expect(req.top_p).toBe(0.5);
    expect(req).not.toHaveProperty('user');
    expect(dropped).toEqual([]);
  });

  it('unknown fields are named in dropped unless null', () => {
    expect(convert({ ...q, top_k: 3, service_tier: null, container: 'c' }).dropped).toEqual([
      'top_k',
      'container',
    ]);
  });
});

describe('anthropic request: reasoning effort', () => {
  it('maps a fixed budget by its size, at each boundary', () => {
    const at = (budget_tokens: unknown) => reasoningEffort({ type: 'enabled', budget_tokens }, undefined);
    expect([0, 1023, 1024, 2047, 2048, 8191, 8192, 16383, 16384, 64000].map(at)).toEqual([
      'minimal',
      'minimal',
      'minimal',
      'minimal',
      'low',
      'low',
      'medium',
      'medium',
      'high',
      'high',
    ]);
    expect(at('4096')).toBe('minimal');
  });

  it('adaptive thinking and effort alone take output_config.effort; max and newer levels read as high', () => {
    expect(reasoningEffort({ type: 'adaptive' }, undefined)).toBe('high');
    expect(reasoningEffort({ type: 'adaptive' }, { effort: 'low' })).toBe('low');
    expect(reasoningEffort(undefined, { effort: 'medium' })).toBe('medium');
    expect(reasoningEffort(undefined, { effort: 'minimal' })).toBe('minimal');
    expect(reasoningEffort(undefined, { effort: 'high' })).toBe('high');
    expect(reasoningEffort(undefined, { effort: 'max' })).toBe('high');
    expect(reasoningEffort(undefined, { effort: 'none' })).toBeUndefined();
    expect(reasoningEffort(undefined, { effort: 3 })).toBeUndefined();
    expect(reasoningEffort(undefined, 'high')).toBeUndefined();
    expect(reasoningEffort(undefined, undefined)).toBeUndefined();
    expect(reasoningEffort({ type: 'disabled' }, { effort: 'high' })).toBeUndefined();
    expect(reasoningEffort({ type: 'enabled', budget_tokens: 3000 }, { effort: 'high' })).toBe('low');
  });
});
