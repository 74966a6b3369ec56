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
} from '../../src/daemon/gateway/output-limit.js';
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
    });
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

  it('maps reasoning efforts to the Claude thinking budgets conversion would use', () => {
    expect(
      [undefined, 'none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'bogus'].map(effortBudget),
    ).toEqual([0, 0, 1024, 2048, 8192, 16_384, 16_384, 0]);
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
    expect(written(ctx('openai', '/v1/embeddings', { input: 'x' }, {}, 'forward'))).toEqual({ input: 'x' });
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
