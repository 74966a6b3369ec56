/**
 * The Gemini inbound codec accepts what Gemini accepts (SPEC 5: "checked no more strictly than
 * the real API"): new top-level fields, part kinds and part fields are never refused; what
 * OpenAI has a form for is mapped (thinkingConfig to reasoning_effort, allowed function names to
 * the tools, a system instruction with its role), the rest dropped and named once in `dropped`.
 * Requests come from the recordings where one exists (fixtures/gemini/...).
 */
import { describe, expect, it } from 'vitest';
import { geminiCodec } from '../../src/daemon/inbound/gemini/index.js';
import { readFixtureJson } from '../support/fixtures.js';

type Json = Record<string, unknown>;

function convert(body: Json): { req: ReturnType<typeof geminiCodec.toOpenAI>; dropped: string[] } {
  const dropped: string[] = [];
  return { req: geminiCodec.toOpenAI(body, { model: 'm', dropped }), dropped };
}

const ask = { role: 'user', parts: [{ text: 'How many r in strawberry?' }] };

describe('thinkingConfig -> reasoning_effort', () => {
  it.each([
    ['MINIMAL', 'minimal'],
    ['low', 'low'],
    ['MEDIUM', 'medium'],
    ['high', 'high'],
  ])('thinkingLevel %s is effort %s', (level, effort) => {
    const { req, dropped } = convert({
      contents: [ask],
      generationConfig: { thinkingConfig: { thinkingLevel: level } },
    });
    expect(req.reasoning_effort).toBe(effort);
    expect(dropped).toEqual([]);
  });

  it.each([
    [512, 'low'],
    [2048, 'low'],
    [8192, 'medium'],
    [24576, 'high'],
  ])('thinkingBudget %d is effort %s (the inverse of the adapter budgets)', (budget, effort) => {
    const { req } = convert({
      contents: [ask],
      generationConfig: { thinkingConfig: { thinkingBudget: budget } },
    });
    expect(req.reasoning_effort).toBe(effort);
  });

  it('a dynamic budget asks for nothing; "do not think" and an unknown level are named as dropped', () => {
    const dynamic = convert({
      contents: [ask],
      generationConfig: { thinkingConfig: { thinkingBudget: -1 } },
    });
    expect(dynamic.req).not.toHaveProperty('reasoning_effort');
    expect(dynamic.dropped).toEqual([]);
    const off = convert({ contents: [ask], generation_config: { thinking_config: { thinking_budget: 0 } } });
    expect(off.req.reasoning_effort).toBeUndefined();
    expect(off.dropped).toEqual(['generationConfig.thinkingConfig.thinkingBudget']);
    const newer = convert({
      contents: [ask],
      generationConfig: { thinkingConfig: { thinkingLevel: 'ULTRA' } },
    });
    expect(newer.dropped).toEqual(['generationConfig.thinkingConfig.thinkingLevel']);
  });
});

describe('what Gemini accepts is accepted', () => {
  it('the recorded request: a systemInstruction with a role becomes the system message', () => {
    // fixtures/gemini/stream-sse-text.cassette.yaml, the request pydantic-ai sent
    const { req, dropped } = convert({
      contents: [{ parts: [{ text: 'What is the capital of France?' }], role: 'user' }],
      generationConfig: { temperature: 0.0 },
      systemInstruction: { parts: [{ text: 'You are a helpful chatbot.' }], role: 'user' },
    });
    expect(req.messages).toEqual([
      { role: 'system', content: 'You are a helpful chatbot.' },
      { role: 'user', content: 'What is the capital of France?' },
    ]);
    expect(req.temperature).toBe(0);
    expect(dropped).toEqual([]);
  });

  it('a recorded model turn sent back: its text is carried, the signature on text is named', () => {
    const recorded = readFixtureJson<Json>('gemini/generate-content-text-thinking.json');
    const turn = ((recorded.candidates as Json[])[0] as Json).content as Json;
    const { req, dropped } = convert({
      contents: [ask, turn, { role: 'user', parts: [{ text: 'And in raspberry?' }] }],
    });
    expect(req.messages[1]).toEqual({
      role: 'assistant',
      content: expect.stringContaining("3** r's") as unknown,
    });
    expect(dropped).toEqual(['contents[].parts[].thoughtSignature']);
  });

  it('new top-level fields, part kinds and part fields are named, never refused', () => {
    const { req, dropped } = convert({
      contents: [
        {
          role: '',
          parts: [{ text: 'look', videoMetadata: { startOffset: '1s' } }, { newKindOfPart: { x: 1 } }],
        },
        {
          role: 'model',
          parts: [
            { executableCode: { language: 'PYTHON', code: 'print(1)' } },
            { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1' } },
            { text: 'It printed 1.' },
          ],
        },
        { role: 'function', parts: [{ text: 'thanks' }] },
      ],
      cachedContent: 'cachedContents/abc',
      labels: { team: 'a' },
      serviceTier: 'flex',
      safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
      systemInstruction: {
        parts: [{ text: 'sys' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }],
      },
      toolConfig: { retrievalConfig: { languageCode: 'en' } },
      generationConfig: {
        responseModalities: ['TEXT'],
        mediaResolution: 'MEDIA_RESOLUTION_LOW',
        speechConfig: { voiceConfig: {} },
      },
    });
    expect(req.messages).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'look' },
      { role: 'assistant', content: 'It printed 1.' },
      { role: 'user', content: 'thanks' },
    ]);
    expect(dropped.sort()).toEqual(
      [
        'cachedContent',
        'contents[0].parts[1]',
        'contents[1].parts[0]',
        'contents[1].parts[1]',
        'contents[].parts[].videoMetadata',
        'generationConfig.mediaResolution',
        'generationConfig.speechConfig',
        'labels',
        'safetySettings',
        'serviceTier',
        'systemInstruction.parts[1]',
        'toolConfig.retrievalConfig',
      ].sort(),
    );
  });

  it('asking for audio output is named; asking for text only loses nothing', () => {
    const audio = convert({ contents: [ask], generationConfig: { responseModalities: ['TEXT', 'AUDIO'] } });
    expect(audio.dropped).toEqual(['generationConfig.responseModalities']);
  });
});

describe('tools', () => {
  const decl = (name: string): Json => ({
    name,
    parameters: { type: 'OBJECT', properties: { q: { type: 'STRING' } } },
  });

  it('allowed function names narrow the tools; one allowed name in ANY mode forces it', () => {
    const tools = [{ functionDeclarations: [decl('a'), decl('b'), decl('c')] }];
    const many = convert({
      contents: [ask],
      tools,
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['a', 'c'] } },
    }).req;
    expect(many.tools?.map((t) => t.function.name)).toEqual(['a', 'c']);
    expect(many.tool_choice).toBe('required');
    const validated = convert({
      contents: [ask],
      tools,
      toolConfig: { functionCallingConfig: { mode: 'VALIDATED', allowedFunctionNames: ['b'] } },
    }).req;
    expect(validated.tools?.map((t) => t.function.name)).toEqual(['b']);
    expect(validated.tool_choice).toBe('auto');
  });

  it('hosted tools and declaration fields OpenAI has no place for are named once', () => {
    const { req, dropped } = convert({
      contents: [ask],
      tools: [
        { googleSearch: {} },
        { urlContext: {} },
        { codeExecution: {} },
        {
          functionDeclarations: [
            { ...decl('a'), behavior: 'NON_BLOCKING' },
            { ...decl('b'), behavior: 'BLOCKING' },
          ],
        },
      ],
    });
    expect(req.tools?.map((t) => t.function.name)).toEqual(['a', 'b']);
    expect(dropped).toEqual([
      'tools.googleSearch',
      'tools.urlContext',
      'tools.codeExecution',
      'tools.functionDeclarations.behavior',
    ]);
  });
});
