/**
 * OpenAI chat request -> Gemini generateContent (PROTOCOLS.md 7.5): roles, merging, tool calls and
 * results (names looked up by id), images, tools with sanitised schemas, tool_choice, output
 * format, sampling, thinking and the fields it has to drop.
 */
import { describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { toGeminiRequest } from '../../src/daemon/providers/gemini/request.js';
import { toGeminiSchema } from '../../src/daemon/providers/gemini/schema.js';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';

function convert(req: Partial<OpenAIChatRequest>, dropped: string[] = []) {
  return toGeminiRequest({ model: 'm', messages: [], ...req }, { dropped });
}

describe('messages -> contents', () => {
  it('system and developer messages become one systemInstruction; roles map and consecutive ones merge', () => {
    const out = convert({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'user', content: [{ type: 'text', text: 'there' }] },
        { role: 'developer', content: 'Answer in French.' },
        { role: 'assistant', content: 'Bonjour' },
        { role: 'user', content: 'Merci' },
      ],
    });
    expect(out.systemInstruction).toEqual({ parts: [{ text: 'Be brief.\n\nAnswer in French.' }] });
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'Hi' }, { text: 'there' }] },
      { role: 'model', parts: [{ text: 'Bonjour' }] },
      { role: 'user', parts: [{ text: 'Merci' }] },
    ]);
  });

  it('tool calls become functionCall parts and results functionResponse parts named from the call id', () => {
    const out = convert({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            {
              id: 'call_b',
              type: 'function',
              function: { name: 'forecast', arguments: '' },
              extra_content: { google: { thought_signature: 'SIG' } },
            } as never,
          ],
        },
        { role: 'tool', tool_call_id: 'call_b', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21}' },
        { role: 'user', content: 'Thanks' },
      ],
    });
    expect(out.contents[1]).toEqual({
      role: 'model',
      parts: [
        { functionCall: { name: 'weather', args: { city: 'Paris' } } },
        { functionCall: { name: 'forecast', args: {} }, thoughtSignature: 'SIG' },
      ],
    });
    // both results and the next user text share one user turn, so roles alternate
    expect(out.contents[2]).toEqual({
      role: 'user',
      parts: [
        { functionResponse: { name: 'forecast', response: { content: 'sunny' } } },
        { functionResponse: { name: 'weather', response: { temp: 21 } } },
        { text: 'Thanks' },
      ],
    });
    expect(out.contents).toHaveLength(3);
  });

  it('a request that is only a system prompt sends it as the user turn', () => {
    const out = convert({ messages: [{ role: 'system', content: 'Say OK.' }] });
    expect(out.contents).toEqual([{ role: 'user', parts: [{ text: 'Say OK.' }] }]);
    expect(out.systemInstruction).toBeUndefined();
  });

  it('a tool result whose id no call had is a 400 naming the field', () => {
    let err: unknown;
    try {
      convert({
        messages: [
          { role: 'user', content: 'x' },
          { role: 'tool', tool_call_id: 'nope', content: 'r' },
        ],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BcError);
    expect((err as BcError).code).toBe('INVALID_REQUEST');
    expect((err as BcError).param).toBe('messages[1].tool_call_id');
  });

  it('images: data URLs inline, other URLs as fileData with a guessed MIME type; unsupported parts dropped', () => {
    const dropped: string[] = [];
    const out = convert(
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?size=2' } },
              { type: 'image_url', image_url: { url: 'https://example.com/photo' } },
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
              { type: 'file', file: { file_id: 'file-123' } },
            ],
          },
        ],
      },
      dropped,
    );
    expect(out.contents[0]?.parts).toEqual([
      { text: 'What is this?' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp?size=2' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photo' } },
      { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
    ]);
    expect(dropped).toEqual(['messages.content.file']);
  });
});

describe('tools and schemas', () => {
  it('tools become functionDeclarations with schemas Gemini accepts', () => {
    const out = convert({
      messages: [{ role: 'user', content: 'x' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            description: 'Find a thing',
            strict: true,
            parameters: {
              $schema: 'http://json-schema.org/draft-07/schema#',
              type: 'object',
              additionalProperties: false,
              properties: {
                url: { type: 'string', format: 'uri' },
                when: { type: 'string', format: 'date-time' },
                tags: { type: ['array', 'null'], items: { type: 'string', enum: ['a', 'b'] } },
                kind: { const: 'fixed' },
              },
              required: ['url', 'missing'],
            },
          },
        },
        { type: 'function', function: { name: 'ping', parameters: { type: 'object', properties: {} } } },
      ],
    });
    expect(out.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: 'lookup',
            description: 'Find a thing',
            parameters: {
              type: 'object',
              properties: {
                url: { type: 'string' },
                when: { type: 'string', format: 'date-time' },
                tags: { type: 'array', nullable: true, items: { type: 'string', enum: ['a', 'b'] } },
                kind: { enum: ['fixed'] },
              },
              required: ['url'],
            },
          },
          { name: 'ping' },
        ],
      },
    ]);
  });

  it('local $refs are inlined and anyOf with null becomes nullable', () => {
    const schema = {
      type: 'object',
      properties: {
        owner: { $ref: '#/$defs/Person' },
        note: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      },
      $defs: { Person: { type: 'object', properties: { name: { type: 'string' } } } },
    };
    expect(toGeminiSchema(schema)).toEqual({
      type: 'object',
      properties: {
        owner: { type: 'object', properties: { name: { type: 'string' } } },
        note: { nullable: true, type: 'string' },
      },
    });
  });

  it('a recursive $ref stops at a bounded depth', () => {
    const schema = {
      $ref: '#/$defs/Node',
      $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' } } } },
    };
    let depth = 0;
    let node: unknown = toGeminiSchema(schema);
    while (typeof node === 'object' && node !== null && 'properties' in node) {
      node = (node as { properties: { next: unknown } }).properties.next;
      depth++;
    }
    expect(depth).toBeGreaterThan(2);
    expect(depth).toBeLessThan(20);
  });

  it.each([
    ['auto', { mode: 'AUTO' }],
    ['none', { mode: 'NONE' }],
    ['required', { mode: 'ANY' }],
    [
      { type: 'function', function: { name: 'lookup' } },
      { mode: 'ANY', allowedFunctionNames: ['lookup'] },
    ],
  ] as const)('tool_choice %j -> %j', (choice, expected) => {
    const out = convert({ messages: [{ role: 'user', content: 'x' }], tool_choice: choice });
    expect(out.toolConfig).toEqual({ functionCallingConfig: expected });
  });
});

describe('generation config', () => {
  it('maps sampling, limits, stop, output format and thinking', () => {
    const out = convert({
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 100,
      max_completion_tokens: 200,
      temperature: 0.2,
      top_p: 0.9,
      seed: 7,
      stop: 'END',
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'r',
          schema: { type: 'object', additionalProperties: false, properties: { a: { type: 'integer' } } },
        },
      },
      reasoning_effort: 'low',
    });
    expect(out.generationConfig).toEqual({
      maxOutputTokens: 200,
      temperature: 0.2,
      topP: 0.9,
      seed: 7,
      stopSequences: ['END'],
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { a: { type: 'integer' } } },
      thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
    });
    expect(convert({ messages: [], response_format: { type: 'json_object' } }).generationConfig).toEqual({
      responseMimeType: 'application/json',
    });
    expect(convert({ messages: [], stop: ['a', 'b'] }).generationConfig?.stopSequences).toEqual(['a', 'b']);
  });

  it('names what it cannot carry, but not neutral values', () => {
    const dropped: string[] = [];
    convert(
      {
        messages: [{ role: 'user', content: 'x' }],
        n: 2,
        logprobs: true,
        presence_penalty: 0.5,
        frequency_penalty: 0,
        user: 'u1',
        parallel_tool_calls: false,
        stream: true,
        stream_options: { include_usage: true },
      },
      dropped,
    );
    expect(dropped.sort()).toEqual(['logprobs', 'n', 'presence_penalty', 'user']);
    const none: string[] = [];
    convert({ messages: [{ role: 'user', content: 'x' }], n: 1, logprobs: false, temperature: null }, none);
    expect(none).toEqual([]);
  });
});

describe('schemas that allow any value', () => {
  it('a nested property with neither type nor alternatives becomes the scalars or a list (Claude Code Workflow args)', () => {
    const schema = {
      type: 'object',
      properties: { args: { description: 'Optional input value' }, list: { type: 'array', items: {} } },
    };
    const any = [
      { type: 'string' },
      { type: 'number' },
      { type: 'boolean' },
      { type: 'array', items: { type: 'string' } },
    ];
    expect(toGeminiSchema(schema)).toEqual({
      type: 'object',
      properties: {
        args: { description: 'Optional input value', anyOf: any },
        list: { type: 'array', items: { anyOf: any } },
      },
    });
  });
});

describe('gemini generation config and the fields it cannot carry (exact)', () => {
  const user = [{ role: 'user' as const, content: 'q' }];

  it('maps every sampling field, top_k and a single stop string included; an empty stop list sends none', () => {
    const out = convert({
      messages: user,
      max_tokens: 50,
      temperature: 0.3,
      top_p: 0.9,
      top_k: 40,
      seed: 7,
      stop: 'END',
    });
    expect(out.generationConfig).toEqual({
      maxOutputTokens: 50,
      temperature: 0.3,
      topP: 0.9,
      topK: 40,
      seed: 7,
      stopSequences: ['END'],
    });
    expect(convert({ messages: user, stop: [] }).generationConfig?.stopSequences).toBeUndefined();
    expect(convert({ messages: user, stop: ['a', 'b'] }).generationConfig?.stopSequences).toEqual(['a', 'b']);
    // a number that is not finite is no setting at all
    expect(
      convert({ messages: user, temperature: Number.NaN }).generationConfig?.temperature,
    ).toBeUndefined();
  });

  it('names the fields it drops, but not zero penalties, n = 1, null or false', () => {
    const quiet: string[] = [];
    convert(
      {
        messages: user,
        presence_penalty: 0,
        frequency_penalty: 0,
        n: 1,
        logprobs: false,
        user: null,
      } as never,
      quiet,
    );
    expect(quiet).toEqual([]);
    const loud: string[] = [];
    convert({ messages: user, presence_penalty: 0.5, frequency_penalty: 1, n: 2, logprobs: true }, loud);
    expect(loud).toEqual(['presence_penalty', 'frequency_penalty', 'n', 'logprobs']);
  });

  it('declares a tool with its description and parameters only when it has them', () => {
    const out = convert({
      messages: user,
      tools: [
        { type: 'function', function: { name: 'bare' } },
        {
          type: 'function',
          function: {
            name: 'full',
            description: 'd',
            parameters: { type: 'object', properties: { q: { type: 'string' } } },
          },
        },
      ],
    });
    expect(out.tools?.[0]?.functionDeclarations?.[0]).toEqual({ name: 'bare' });
    expect(out.tools?.[0]?.functionDeclarations?.[1]).toEqual({
      name: 'full',
      description: 'd',
      parameters: { type: 'object', properties: { q: { type: 'string' } } },
    });
    expect(convert({ messages: user, tools: [] }).tools).toBeUndefined();
  });

  it('a request that is only a system prompt becomes the user turn; empty system parts are left out', () => {
    const only = convert({ messages: [{ role: 'system', content: 'be brief' }] });
    expect(only.contents).toEqual([{ role: 'user', parts: [{ text: 'be brief' }] }]);
    expect(only.systemInstruction).toBeUndefined();
    const both = convert({
      messages: [{ role: 'system', content: '' }, { role: 'system', content: 's' }, ...user],
    });
    expect(both.systemInstruction).toEqual({ parts: [{ text: 's' }] });
  });
});
