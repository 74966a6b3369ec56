/**
 * The Gemini inbound codec, requests: a generateContent body (camelCase or snake_case) -> the
 * canonical OpenAI request, with call/result id matching and validation errors that name the
 * field, plus the round trip back through the Gemini adapter's request conversion.
 */
import { describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { geminiCodec } from '../../src/daemon/inbound/gemini/index.js';
import { toGeminiRequest } from '../../src/daemon/providers/gemini/request.js';

const conversation = {
  systemInstruction: { parts: [{ text: 'You are terse.' }] },
  contents: [
    {
      role: 'user',
      parts: [{ text: 'Weather in Paris?' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }],
    },
    {
      role: 'model',
      parts: [
        { text: 'Checking.', thought: true },
        { functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'SIG1' },
      ],
    },
    { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { temp: 21 } } }] },
  ],
  tools: [
    {
      functionDeclarations: [
        {
          name: 'weather',
          description: 'Current weather',
          parameters: {
            type: 'OBJECT',
            properties: { city: { type: 'STRING', nullable: true } },
            required: ['city'],
          },
        },
      ],
    },
  ],
  toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['weather'] } },
  generationConfig: { temperature: 0.3, topP: 0.8, maxOutputTokens: 256, stopSequences: ['END'], seed: 3 },
};

describe('toOpenAI', () => {
  it('converts a tool conversation; model and stream come from the URL', () => {
    const dropped: string[] = [];
    const req = geminiCodec.toOpenAI(conversation, { model: 'gemini-pro', stream: true, dropped });
    expect(req.model).toBe('gemini-pro');
    expect(req.stream).toBe(true);
    expect(req.stream_options).toEqual({ include_usage: true });
    expect(req.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather in Paris?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        reasoning_content: 'Checking.',
        tool_calls: [
          {
            id: 'call_gemini_0',
            type: 'function',
            function: { name: 'weather', arguments: '{"city":"Paris"}' },
            extra_content: { google: { thought_signature: 'SIG1' } },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_gemini_0', content: '{"temp":21}' },
    ]);
    expect(req.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'weather',
          description: 'Current weather',
          parameters: {
            type: 'object',
            properties: { city: { type: ['string', 'null'] } },
            required: ['city'],
          },
        },
      },
    ]);
    expect(req.tool_choice).toEqual({ type: 'function', function: { name: 'weather' } });
    expect(req).toMatchObject({ temperature: 0.3, top_p: 0.8, max_tokens: 256, stop: ['END'], seed: 3 });
    expect(dropped).toEqual([]);
  });

  it('accepts snake_case fields, names what it drops, maps thinking and JSON output', () => {
    const dropped: string[] = [];
    const req = geminiCodec.toOpenAI(
      {
        system_instruction: { parts: [{ text: 'sys' }] },
        contents: [
          { parts: [{ text: 'hi' }, { inline_data: { mime_type: 'application/pdf', data: 'JVBE' } }] },
        ],
        tools: [{ google_search: {} }],
        safety_settings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
        generation_config: {
          top_k: 40,
          response_mime_type: 'application/json',
          response_schema: { type: 'OBJECT', properties: { my_field: { type: 'INTEGER' } } },
          thinking_config: { thinking_budget: 4096, include_thoughts: true },
        },
      },
      { model: 'm', dropped },
    );
    expect(req.messages[0]).toEqual({ role: 'system', content: 'sys' });
    expect(req.messages[1]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'hi' },
        { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE', filename: 'file.pdf' } },
      ],
    });
    expect(req.response_format).toEqual({
      type: 'json_schema',
      json_schema: {
        name: 'response',
        schema: { type: 'object', properties: { my_field: { type: 'integer' } } },
      },
    });
    expect(req.reasoning_effort).toBe('medium');
    expect(req.stream).toBeUndefined();
    expect(dropped.sort()).toEqual(['generationConfig.topK', 'safetySettings', 'tools.googleSearch']);
  });

  it('matches results to calls by id first, then by name in order', () => {
    const req = geminiCodec.toOpenAI(
      {
        contents: [
          { role: 'user', parts: [{ text: 'go' }] },
          {
            role: 'model',
            parts: [
              { functionCall: { name: 'f', args: {} } },
              { functionCall: { name: 'f', args: { n: 2 } } },
              { functionCall: { id: 'x9', name: 'g' } },
            ],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { id: 'x9', name: 'g', response: { content: 'plain text' } } },
              { functionResponse: { name: 'f', response: { r: 1 } } },
              { functionResponse: { name: 'f', response: { r: 2 } } },
            ],
          },
        ],
      },
      { model: 'm', dropped: [] },
    );
    const results = req.messages.filter((m) => m.role === 'tool');
    expect(results).toEqual([
      { role: 'tool', tool_call_id: 'x9', content: 'plain text' },
      { role: 'tool', tool_call_id: 'call_gemini_0', content: '{"r":1}' },
      { role: 'tool', tool_call_id: 'call_gemini_1', content: '{"r":2}' },
    ]);
  });

  it.each([
    ['not an object', [1, 2], 'contents'],
    ['no contents', { generationConfig: {} }, 'contents'],
    ['empty contents', { contents: [] }, 'contents'],
    ['empty parts', { contents: [{ role: 'user', parts: [] }] }, 'contents[0].parts'],
    ['bad role', { contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }, 'contents[0].role'],
    ['text not a string', { contents: [{ parts: [{ text: 5 }] }] }, 'contents[0].parts[0].text'],
    [
      'nameless call',
      { contents: [{ role: 'model', parts: [{ functionCall: { args: {} } }] }] },
      'contents[0].parts[0].functionCall.name',
    ],
    ['tools not an array', { contents: [{ parts: [{ text: 'x' }] }], tools: {} }, 'tools'],
  ])('rejects %s naming the field', (_name, body, param) => {
    let err: unknown;
    try {
      geminiCodec.toOpenAI(body, { model: 'm', dropped: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BcError);
    expect((err as BcError).code).toBe('INVALID_REQUEST');
    expect((err as BcError).param).toBe(param);
    expect((err as BcError).message.startsWith(`${param}: `)).toBe(true);
  });
});

describe('round trips through the Gemini adapter', () => {
  it('a Gemini request -> OpenAI -> Gemini again keeps contents, tools, config and signatures', () => {
    const openai = geminiCodec.toOpenAI(conversation, { model: 'm', dropped: [] });
    const back = toGeminiRequest(openai, { dropped: [] });
    expect(back.systemInstruction).toEqual(conversation.systemInstruction);
    expect(back.contents).toEqual([
      conversation.contents[0],
      // the thought summary is not sent back; the call keeps its signature
      {
        role: 'model',
        parts: [{ functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'SIG1' }],
      },
      conversation.contents[2],
    ]);
    expect(back.toolConfig).toEqual(conversation.toolConfig);
    expect(back.generationConfig).toEqual(conversation.generationConfig);
    expect(back.tools?.[0]?.functionDeclarations?.[0]).toEqual({
      name: 'weather',
      description: 'Current weather',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', nullable: true } },
        required: ['city'],
      },
    });
  });
});
