/**
 * The canonical reasoning_effort on the way to Gemini: a thinkingLevel for Gemini 3 and later
 * (LOW at least on Pro models, which refuse MINIMAL), a thinkingBudget for 2.5 (and for names the
 * gateway does not know), nothing for 2.0 and older, where the effort is named as dropped.
 */
import { describe, expect, it } from 'vitest';
import { toGeminiRequest } from '../../src/daemon/providers/gemini/request.js';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';

function thinking(model: string, effort: string): { config: unknown; dropped: string[] } {
  const dropped: string[] = [];
  const req = {
    model,
    messages: [{ role: 'user', content: 'hi' }],
    reasoning_effort: effort,
  } as unknown as OpenAIChatRequest;
  const out = toGeminiRequest(req, { dropped });
  return { config: out.generationConfig?.thinkingConfig, dropped };
}

describe('reasoning_effort -> thinkingConfig', () => {
  it.each([
    ['gemini-3-flash-preview', 'minimal', { thinkingLevel: 'minimal', includeThoughts: true }],
    ['gemini-3-flash-preview', 'none', { thinkingLevel: 'minimal' }],
    ['gemini-3-pro-preview', 'minimal', { thinkingLevel: 'low', includeThoughts: true }],
    ['gemini-3-pro-preview', 'none', { thinkingLevel: 'low' }],
    ['gemini-3-pro-preview', 'low', { thinkingLevel: 'low', includeThoughts: true }],
    ['gemini-3.1-pro-preview', 'medium', { thinkingLevel: 'medium', includeThoughts: true }],
    ['models/gemini-3-flash-preview', 'high', { thinkingLevel: 'high', includeThoughts: true }],
    ['gemini-4-flash', 'xhigh', { thinkingLevel: 'high', includeThoughts: true }],
  ])('%s, %s: a thinking level', (model, effort, config) => {
    expect(thinking(model, effort)).toEqual({ config, dropped: [] });
  });

  it.each([
    ['gemini-2.5-flash', 'none', { thinkingBudget: 0 }],
    ['gemini-2.5-flash-lite', 'minimal', { thinkingBudget: 512, includeThoughts: true }],
    ['gemini-2.5-flash', 'low', { thinkingBudget: 1024, includeThoughts: true }],
    ['gemini-2.5-flash', 'medium', { thinkingBudget: 8192, includeThoughts: true }],
    ['gemini-2.5-flash', 'xhigh', { thinkingBudget: 24576, includeThoughts: true }],
    ['gemini-2.5-pro', 'none', { thinkingBudget: 128 }],
    ['gemini-2.5-pro', 'xhigh', { thinkingBudget: 32768, includeThoughts: true }],
    ['gemini-flash-latest', 'high', { thinkingBudget: 24576, includeThoughts: true }],
  ])('%s, %s: a thinking budget', (model, effort, config) => {
    expect(thinking(model, effort)).toEqual({ config, dropped: [] });
  });

  it('models without thinking get no thinkingConfig, and the effort is named', () => {
    expect(thinking('gemini-2.0-flash', 'high')).toEqual({
      config: undefined,
      dropped: ['reasoning_effort'],
    });
    expect(thinking('gemma-3-27b-it', 'low')).toEqual({ config: undefined, dropped: ['reasoning_effort'] });
    expect(thinking('gemini-2.0-flash', 'none')).toEqual({ config: undefined, dropped: [] });
    expect(thinking('gemini-2.5-flash', 'max')).toEqual({ config: undefined, dropped: ['reasoning_effort'] });
  });
});
