// Where each front keeps its output limit: what admission reads (the client's limit, thinking
// budgets, reasoning effort) and where a lowered limit is written, for passthrough bodies and
// the canonical request that conversions start from.
import { describe, expect, it } from 'vitest';
import type { RelayContext } from '../../src/daemon/gateway/context.js';
import {
  effortBudget,
  limitCanonical,
  limitPassthrough,
  readOutputRequest,
} from '../../src/daemon/gateway/money/output-limit.js';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';

type Json = Record<string, unknown>;

function ctx(
  protocol: RelayContext['protocol'],
  endpoint: string,
  body: Json,
  canonical: Partial<OpenAIChatRequest> = body,
  kind: RelayContext['kind'] = 'chat',
): RelayContext {
  return {
    protocol,
    endpoint,
    kind,
    body,
    canonical: () => ({ model: 'm', messages: [], ...canonical }),
  } as unknown as RelayContext;
}

const written = (c: RelayContext, type: Parameters<typeof limitPassthrough>[3] = 'openai'): Json => {
  const copy = { ...c.body };
  limitPassthrough(c, copy, 2000, type);
  return copy;
};

describe('reading the output limit', () => {
  it('reads each front’s own field', () => {
    const chat = ctx('openai', '/v1/chat/completions', { max_completion_tokens: 900, max_tokens: 10 });
    expect(readOutputRequest(chat)).toEqual({
      asked: 900,
      nativeThinking: 0,
      effortThinking: 0,
      writable: true,
      choices: 1,
      prediction: '',
    });
    // both spellings: the larger, whichever one the upstream honours (DeepSeek reads only max_tokens)
    expect(
      readOutputRequest(ctx('openai', '/v1/chat/completions', { max_completion_tokens: 10, max_tokens: 90 }))
        .asked,
    ).toBe(90);
    const legacy = ctx('openai', '/v1/completions', { max_tokens: 16 }, {}, 'forward');
    expect(readOutputRequest(legacy).asked).toBe(16);
    const responses = ctx(
      'openai',
      '/v1/responses',
      { max_output_tokens: 700, reasoning: { effort: 'medium' } },
      {},
      'forward',
    );
    expect(readOutputRequest(responses)).toEqual({
      asked: 700,
      nativeThinking: 0,
      effortThinking: 8192,
      writable: true,
      choices: 1,
      prediction: '',
    });
    const messages = ctx(
      'anthropic',
      '/v1/messages',
      { max_tokens: 64_000, thinking: { type: 'enabled', budget_tokens: 31_999 } },
      { reasoning_effort: 'high' },
    );
    expect(readOutputRequest(messages)).toEqual({
      asked: 64_000,
      nativeThinking: 31_999,
      effortThinking: 16_384,
      writable: true,
      choices: 1,
      prediction: '',
    });
    const gemini = ctx(
      'gemini',
      '/v1beta/models/{model}:generateContent',
      { generationConfig: { maxOutputTokens: 3000, thinkingConfig: { thinkingBudget: 1500 } } },
      { reasoning_effort: 'low' },
    );
    expect(readOutputRequest(gemini)).toEqual({
      asked: 3000,
      nativeThinking: 1500,
      effortThinking: 2048,
      writable: true,
      choices: 1,
      prediction: '',
    });
  });

  it('has no writable limit on endpoints without one, and no limit when the client set none', () => {
    const embeddings = ctx('openai', '/v1/embeddings', { input: 'x' }, {}, 'forward');
    expect(readOutputRequest(embeddings)).toMatchObject({ asked: undefined, writable: false });
    expect(readOutputRequest(ctx('openai', '/v1/chat/completions', {})).asked).toBeUndefined();
    // Gemini's dynamic thinking (-1) and no thinking (0) set no budget
    const dynamic = ctx('gemini', '/x', { generationConfig: { thinkingConfig: { thinkingBudget: -1 } } }, {});
    expect(readOutputRequest(dynamic).nativeThinking).toBe(0);
  });

  it('reads how many answers are billed: n, best_of (legacy completions), candidateCount', () => {
    const chat = ctx('openai', '/v1/chat/completions', { n: 1000, max_tokens: 50 });
    expect(readOutputRequest(chat)).toMatchObject({ asked: 50, choices: 1000 });
    const legacy = (b: Json): number =>
      readOutputRequest(ctx('openai', '/v1/completions', b, {}, 'forward')).choices;
    // billed for best_of completions, n of them returned
    expect(legacy({ n: 2, best_of: 5 })).toBe(5);
    expect(legacy({ n: 7 })).toBe(7);
    expect(legacy({ best_of: 3 })).toBe(3);
    expect(legacy({})).toBe(1);
    // a batch of prompts: each gets its answers; one list of token ids is one prompt
    expect(legacy({ prompt: ['a', 'b', 'c'], best_of: 2 })).toBe(6);
    expect(legacy({ prompt: [[1, 2], [3]] })).toBe(2);
    expect(legacy({ prompt: [1, 2, 3], n: 2 })).toBe(2);
    expect(legacy({ prompt: 'abc' })).toBe(1);
    const gemini = (b: Json) => readOutputRequest(ctx('gemini', '/x', b, {}));
    expect(gemini({ generationConfig: { candidateCount: 8, maxOutputTokens: 50 } })).toMatchObject({
      asked: 50,
      choices: 8,
    });
    // proto JSON: the snake_case spelling and numbers as strings are what Gemini reads too
    expect(
      gemini({
        generation_config: {
          candidate_count: '4',
          max_output_tokens: '60000',
          thinking_config: { thinking_budget: 900 },
        },
      }),
    ).toMatchObject({ asked: 60_000, choices: 4, nativeThinking: 900 });
    expect(gemini({ generationConfig: { maxOutputTokens: 10, max_output_tokens: 900 } }).asked).toBe(900);
    // n means nothing on the Responses API, Anthropic has none
    expect(readOutputRequest(ctx('openai', '/v1/responses', { n: 5 }, {}, 'forward')).choices).toBe(1);
    expect(readOutputRequest(ctx('anthropic', '/v1/messages', { n: 5, max_tokens: 10 })).choices).toBe(1);
    // a fraction or a numeric string an OpenAI-compatible server might coerce counts, rounded up
    expect(readOutputRequest(ctx('openai', '/v1/chat/completions', { n: '3' })).choices).toBe(3);
    expect(readOutputRequest(ctx('openai', '/v1/chat/completions', { n: 2.5 })).choices).toBe(3);
    expect(readOutputRequest(ctx('openai', '/v1/chat/completions', { n: 'many' })).choices).toBe(1);
  });

  it('reads the text of an OpenAI prediction, whose rejected tokens are billed as output', () => {
    const read = (prediction: unknown): string =>
      readOutputRequest(ctx('openai', '/v1/chat/completions', { prediction })).prediction;
    expect(read({ type: 'content', content: 'abc' })).toBe('abc');
    expect(
      read({
        type: 'content',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      }),
    ).toBe('ab');
    expect(read(undefined)).toBe('');
  });

  it('maps reasoning efforts to the Claude thinking budgets conversion would use', () => {
    expect(
      [undefined, 'none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'bogus'].map(effortBudget),
    ).toEqual([0, 0, 1024, 2048, 8192, 16_384, 16_384, 0]);
    // a name every object has (a client may send any string) is no effort
    expect(['constructor', 'toString', '__proto__'].map(effortBudget)).toEqual([0, 0, 0]);
  });
});

describe('reading leniently, but only what an upstream would read', () => {
  const chat = (b: Json) => readOutputRequest(ctx('openai', '/v1/chat/completions', b));

  it('takes no limit from zero, booleans, lists or objects, and none from an absent config', () => {
    expect(chat({ max_tokens: 0 }).asked).toBeUndefined();
    expect(chat({ max_tokens: true }).asked).toBeUndefined();
    expect(chat({ max_tokens: [500] }).asked).toBeUndefined();
    expect(chat({ max_tokens: { n: 5 } }).asked).toBeUndefined();
    expect(chat({ max_tokens: ' 12.5 ' }).asked).toBe(13);
    expect(readOutputRequest(ctx('gemini', '/x', {}))).toMatchObject({
      asked: undefined,
      choices: 1,
      nativeThinking: 0,
    });
  });

  it('reads the generic limit names on endpoints without a field of their own, for the reservation', () => {
    const forward = (protocol: RelayContext['protocol'], endpoint: string, b: Json) =>
      readOutputRequest(ctx(protocol, endpoint, b, {}, 'forward'));
    expect(forward('openai', '/v1/embeddings', { max_output_tokens: 70 })).toMatchObject({
      asked: 70,
      writable: false,
    });
    expect(forward('openai', '/v1/audio/speech', { max_tokens: 5, max_completion_tokens: 9 }).asked).toBe(9);
    // Anthropic's count_tokens and Gemini's embedContent have no output limit to write
    expect(forward('anthropic', '/v1/messages/count_tokens', { max_tokens: 10 })).toMatchObject({
      asked: 10,
      writable: false,
    });
    expect(
      forward('gemini', '/v1beta/models/m:embedContent', { generationConfig: { maxOutputTokens: 10 } }),
    ).toMatchObject({ asked: undefined, writable: false });
  });

  it('treats a prompt list that is not all token ids as a batch, and skips prediction parts without text', () => {
    const legacy = (b: Json): number =>
      readOutputRequest(ctx('openai', '/v1/completions', b, {}, 'forward')).choices;
    expect(legacy({ prompt: ['a', 1] })).toBe(2);
    expect(legacy({ prompt: [] })).toBe(1);
    const parts = [{ type: 'image_url' }, 'raw', null, { type: 'text', text: 'kept' }, { text: 7 }];
    expect(chat({ prediction: { type: 'content', content: parts } }).prediction).toBe('kept');
  });
});

describe('writing a lowered limit into a forwarded body', () => {
  it('OpenAI chat: the field(s) the client used, else the one the channel type reads', () => {
    const both = ctx('openai', '/v1/chat/completions', { max_tokens: 9000, max_completion_tokens: 9000 });
    expect(written(both)).toMatchObject({ max_tokens: 2000, max_completion_tokens: 2000 });
    const legacy = written(ctx('openai', '/v1/chat/completions', { max_tokens: 9000 }));
    expect(legacy.max_tokens).toBe(2000);
    expect(legacy).not.toHaveProperty('max_completion_tokens');
    const modern = written(
      ctx('openai', '/v1/chat/completions', { max_completion_tokens: 9000 }),
      'deepseek',
    );
    expect(modern.max_completion_tokens).toBe(2000);
    expect(modern).not.toHaveProperty('max_tokens');
    const none = ctx('openai', '/v1/chat/completions', { max_tokens: null });
    expect(written(none, 'openai')).toEqual({ max_tokens: null, max_completion_tokens: 2000 });
    expect(written(none, 'azure')).toEqual({ max_tokens: null, max_completion_tokens: 2000 });
    expect(written(none, 'deepseek')).toEqual({ max_tokens: 2000 });
  });

  it('Responses, legacy completions, Anthropic and Gemini: their own field, nothing else touched', () => {
    expect(written(ctx('openai', '/v1/responses', { max_output_tokens: 9000 }, {}, 'forward'))).toEqual({
      max_output_tokens: 2000,
    });
    expect(written(ctx('openai', '/v1/completions', {}, {}, 'forward'))).toEqual({ max_tokens: 2000 });
    const thinking = { type: 'enabled', budget_tokens: 900 };
    expect(written(ctx('anthropic', '/v1/messages', { max_tokens: 64_000, thinking }))).toEqual({
      max_tokens: 2000,
      thinking,
    });
    const gc = { temperature: 0.2, thinkingConfig: { thinkingBudget: 500 } };
    const g = ctx('gemini', '/v1beta/models/{model}:streamGenerateContent', { generationConfig: gc });
    expect(written(g)).toEqual({ generationConfig: { ...gc, maxOutputTokens: 2000 } });
    expect(gc).not.toHaveProperty('maxOutputTokens');
    expect(written(ctx('gemini', '/x', { contents: [] }))).toEqual({
      contents: [],
      generationConfig: { maxOutputTokens: 2000 },
    });
    // a snake_case generation_config is written in place, either spelling of the limit replaced
    expect(
      written(ctx('gemini', '/x', { generation_config: { max_output_tokens: 60_000, candidate_count: 2 } })),
    ).toEqual({ generation_config: { candidate_count: 2, maxOutputTokens: 2000 } });
    expect(written(ctx('openai', '/v1/embeddings', { input: 'x' }, {}, 'forward'))).toEqual({ input: 'x' });
    // the camelCase config wins when both are sent; a snake_case value that is no object is not a config
    expect(
      written(
        ctx('gemini', '/x', { generationConfig: { topK: 3 }, generation_config: { max_output_tokens: 9 } }),
      ),
    ).toEqual({
      generationConfig: { topK: 3, maxOutputTokens: 2000 },
      generation_config: { max_output_tokens: 9 },
    });
    expect(written(ctx('gemini', '/x', { generation_config: 'odd' }))).toEqual({
      generation_config: 'odd',
      generationConfig: { maxOutputTokens: 2000 },
    });
    expect(written(ctx('gemini', '/x', { generation_config: [1] }))).toEqual({
      generation_config: [1],
      generationConfig: { maxOutputTokens: 2000 },
    });
  });

  it('the canonical request: the field(s) it uses, else max_tokens, without touching the original', () => {
    const base: OpenAIChatRequest = { model: 'm', messages: [], max_completion_tokens: 64_000 };
    expect(limitCanonical(base, 2000)).toEqual({ ...base, max_completion_tokens: 2000 });
    expect(base.max_completion_tokens).toBe(64_000);
    expect(limitCanonical({ model: 'm', messages: [], max_tokens: 5000 }, 2000).max_tokens).toBe(2000);
    expect(limitCanonical({ model: 'm', messages: [] }, 2000)).toEqual({
      model: 'm',
      messages: [],
      max_tokens: 2000,
    });
  });
});
