/**
 * Anthropic's mid-conversation system messages (`role: "system"` inside `messages`, beta
 * mid-conversation-system-2026-04-07), from the request Claude Code 2.1.197 really sent, in every
 * direction the gateway converts: accepted by the inbound codec, kept at their point of an OpenAI
 * conversation, merged into the system instruction for Anthropic (converted), Gemini and Bedrock,
 * and counted by count_tokens. Also the reasoning controls the same request carries
 * (`thinking: {type: "adaptive"}`, `output_config.effort`) both ways.
 */
import { describe, expect, it } from 'vitest';
import { anthropicCodec, countTokensToOpenAI } from '../../src/daemon/inbound/anthropic/index.js';
import { reasoningEffort } from '../../src/daemon/inbound/anthropic/request.js';
import { toAnthropicRequest } from '../../src/daemon/providers/anthropic/request.js';
import { usesAdaptiveThinking } from '../../src/daemon/providers/anthropic/thinking.js';
import { toGeminiRequest } from '../../src/daemon/providers/gemini/request.js';
import { toConverseRequest } from '../../src/daemon/providers/bedrock/request.js';
import { countChatTokens } from '../../src/daemon/gateway/tokens/tokens.js';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';
import { readFixtureJson } from '../support/fixtures.js';

type Json = Record<string, unknown>;

const RECORDED = readFixtureJson<Json>('anthropic/claude-code-2.1.197-request-mid-conversation-system.json');
/** the recorded body less the recording's own notes (`_note`, `_headers`...) */
const BODY = Object.fromEntries(Object.entries(RECORDED).filter(([k]) => !k.startsWith('_')));
const MESSAGES = BODY.messages as { role: string; content: unknown }[];
const MID_TEXT = MESSAGES[1]!.content as string;

function canonical(body: Json = BODY): { req: OpenAIChatRequest; dropped: string[] } {
  const dropped: string[] = [];
  return { req: anthropicCodec.toOpenAI(body, { dropped }), dropped };
}

describe('mid-conversation system messages: Anthropic client in', () => {
  it('the recorded Claude Code request is accepted, its system entry kept at its point', () => {
    expect(MESSAGES.map((m) => m.role)).toEqual(['user', 'system']);
    const { req, dropped } = canonical();
    expect(req.messages.map((m) => m.role)).toEqual(['system', 'user', 'system']);
    expect(req.messages[2]).toEqual({ role: 'system', content: MID_TEXT });
    // the top-level system blocks stay first, joined
    expect(req.messages[0]!.content as string).toContain(
      "You are a Claude agent, built on Anthropic's Claude Agent SDK.",
    );
    // what OpenAI cannot carry is named; what was mapped is not
    expect(dropped).toContain('context_management');
    expect(dropped).not.toContain('output_config');
    expect(dropped).not.toContain('thinking');
    expect(req.reasoning_effort).toBe('high');
  });

  it('a system entry of text blocks is joined; a non-text block in it is named', () => {
    const body = {
      ...BODY,
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'system',
          content: [
            { type: 'text', text: 'one' },
            { type: 'image', source: { type: 'url', url: 'https://example.invalid/x.png' } },
            { type: 'text', text: 'two' },
          ],
        },
      ],
    };
    const { req, dropped } = canonical(body);
    expect(req.messages.at(-1)).toEqual({ role: 'system', content: 'one\ntwo' });
    expect(dropped).toContain('messages.system.image');
  });

  it('roles other than user, assistant and system are still refused, naming the entry', () => {
    expect(() => canonical({ ...BODY, messages: [{ role: 'tool', content: 'x' }] })).toThrow(
      /messages\.0\.role/,
    );
  });

  it('count_tokens counts them: the count grows by at least the system text', async () => {
    const withSystem = await countChatTokens(countTokensToOpenAI(BODY, []));
    const without = await countChatTokens(countTokensToOpenAI({ ...BODY, messages: [MESSAGES[0]] }, []));
    const textAlone = await countChatTokens({ messages: [{ role: 'user', content: MID_TEXT }] });
    expect(withSystem - without).toBeGreaterThanOrEqual(textAlone - 8);
    expect(textAlone).toBeGreaterThan(16);
  });
});

describe('mid-conversation system messages: to each upstream', () => {
  const { req } = canonical();

  it('Anthropic (converted): merged after the top-level system blocks; messages only user/assistant', () => {
    const out = toAnthropicRequest(
      { ...req, messages: [...req.messages, { role: 'assistant', content: 'ok' }] },
      'claude-opus-4-8',
      [],
    );
    expect(out.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(out.system?.at(-1)?.text).toBe(MID_TEXT);
    expect(out.system?.[0]?.text).toContain('Claude Agent SDK');
  });

  it('Gemini: merged into systemInstruction after the first system text; contents only user/model', () => {
    const out = toGeminiRequest({ ...req, model: 'gemini-2.5-pro' }, { dropped: [] });
    expect(out.contents.map((c) => c.role)).toEqual(['user']);
    const system = (out.systemInstruction?.parts ?? []).map((p) => (p as { text?: string }).text).join('');
    expect(system.endsWith(MID_TEXT)).toBe(true);
    expect(system).toContain('Claude Agent SDK');
  });

  it('Bedrock: merged into the Converse system blocks; messages only user/assistant', () => {
    const model = 'us.anthropic.claude-opus-4-8-v1';
    const out = toConverseRequest({ ...req, model }, model, { dropped: [] });
    expect(out.messages.map((m) => m.role)).toEqual(['user']);
    expect(out.system?.at(-1)).toEqual({ text: MID_TEXT });
  });
});

describe('reasoning controls: thinking + output_config.effort', () => {
  it.each([
    [{ type: 'adaptive' }, { effort: 'high' }, 'high'],
    [{ type: 'adaptive' }, { effort: 'medium' }, 'medium'],
    [{ type: 'adaptive' }, { effort: 'low' }, 'low'],
    [{ type: 'adaptive' }, { effort: 'max' }, 'high'],
    [{ type: 'adaptive' }, undefined, 'high'],
    [undefined, { effort: 'low' }, 'low'],
    [{ type: 'disabled' }, { effort: 'high' }, undefined],
    [{ type: 'enabled', budget_tokens: 2048 }, { effort: 'high' }, 'low'],
    [{ type: 'enabled', budget_tokens: 1024 }, undefined, 'minimal'],
    [undefined, undefined, undefined],
  ])('thinking %j, output_config %j -> %s', (thinking, outputConfig, effort) => {
    expect(reasoningEffort(thinking, outputConfig)).toBe(effort);
  });

  it.each([
    ['claude-opus-4-8', true],
    ['claude-opus-4-6', true],
    ['claude-sonnet-4-6', true],
    ['us.anthropic.claude-opus-4-7', true],
    ['anthropic.claude-opus-4-6-v1', true],
    ['claude-sonnet-5', true],
    ['claude-sonnet-4-5-20250929', false],
    ['claude-haiku-4-5', false],
    ['claude-sonnet-4-20250514', false],
    ['claude-3-7-sonnet-20250219', false],
    ['gpt-5', false],
  ])('%s thinks adaptively: %s', (model, adaptive) => {
    expect(usesAdaptiveThinking(model)).toBe(adaptive);
  });

  it('OpenAI reasoning_effort -> adaptive thinking + effort on Claude 4.6+, a budget before', () => {
    const ask: OpenAIChatRequest = {
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
      reasoning_effort: 'minimal',
      max_tokens: 100,
    };
    const adaptive = toAnthropicRequest(ask, 'claude-opus-4-8', []);
    expect(adaptive.thinking).toEqual({ type: 'adaptive' });
    expect(adaptive.output_config).toEqual({ effort: 'low' });
    expect(adaptive.max_tokens).toBe(100);
    const budget = toAnthropicRequest(ask, 'claude-sonnet-4-5', []);
    expect(budget.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(budget.output_config).toBeUndefined();
  });

  it.each([
    ['claude-sonnet-4-5', 'none', undefined, undefined],
    ['claude-sonnet-4-5', 'xhigh', { type: 'enabled', budget_tokens: 16384 }, undefined],
    ['claude-opus-4-8', 'none', undefined, undefined],
    ['claude-opus-4-8', 'xhigh', { type: 'adaptive' }, { effort: 'high' }],
  ])(
    '%s: OpenAI reasoning_effort %s (beyond the canonical scale) -> %j %j',
    (model, effort, thinking, config) => {
      const ask = {
        model: 'x',
        messages: [{ role: 'user', content: 'hi' }],
        reasoning_effort: effort,
      } as unknown as OpenAIChatRequest;
      const out = toAnthropicRequest(ask, model, []);
      expect(out.thinking).toEqual(thinking);
      expect(out.output_config).toEqual(config);
      // Bedrock keeps its own budget table; the kind of thinking is what must agree
      const bedrock = toConverseRequest(ask, `us.anthropic.${model}-v1`, { dropped: [] });
      const sent = (bedrock.additionalModelRequestFields as { thinking?: { type: string } } | undefined)
        ?.thinking;
      expect(sent?.type).toBe(thinking?.type);
    },
  );

  it('Bedrock: the same split inside additionalModelRequestFields', () => {
    const ask: OpenAIChatRequest = {
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
      reasoning_effort: 'high',
    };
    const m = 'us.anthropic.claude-opus-4-8-v1';
    const adaptive = toConverseRequest(ask, m, { dropped: [] });
    expect(adaptive.additionalModelRequestFields).toMatchObject({
      thinking: { type: 'adaptive' },
      output_config: { effort: 'high' },
    });
    const old = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    const budget = toConverseRequest(ask, old, { dropped: [] });
    expect(budget.additionalModelRequestFields).toMatchObject({ thinking: { type: 'enabled' } });
  });
});
