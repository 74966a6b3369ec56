/**
 * Bedrock Converse answer -> OpenAI chat.completion, plus the pieces the stream converter shares:
 * the stopReason map and usage normalisation. Converse's inputTokens exclude cache reads and
 * writes, so OpenAI's prompt_tokens is their sum (PROTOCOLS.md 7.4), with the cache parts kept
 * apart for billing.
 */
import { randomUUID } from 'node:crypto';
import type { Usage } from '../types.js';
import type { OpenAIChatCompletion, OpenAIFinishReason, OpenAIToolCall } from '../openai/types.js';
import { openAIUsage } from '../openai/usage.js';
import type { ConverseResponse, ConverseUsage } from './converse-types.js';

const STOP_REASONS: Record<string, OpenAIFinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

export function finishReason(stopReason: string | undefined): OpenAIFinishReason {
  // own keys only: a reason named like an Object property (`toString`) is an unknown reason, not a function
  return stopReason !== undefined && Object.hasOwn(STOP_REASONS, stopReason)
    ? STOP_REASONS[stopReason]!
    : 'stop';
}

function count(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

export function usageFromConverse(u: ConverseUsage | undefined): Usage | null {
  if (!u || typeof u !== 'object') return null;
  const cached = count(u.cacheReadInputTokens);
  const cacheWrite = count(u.cacheWriteInputTokens);
  return {
    inputTokens: count(u.inputTokens) + cached + cacheWrite,
    cachedTokens: cached,
    cacheWriteTokens: cacheWrite,
    outputTokens: count(u.outputTokens),
    reasoningTokens: 0,
  };
}

export function completionId(): string {
  return `chatcmpl-${randomUUID().replace(/-/g, '')}`;
}

export function toChatCompletion(
  body: unknown,
  model: string,
): { completion: OpenAIChatCompletion; usage: Usage | null } {
  const res = (body ?? {}) as ConverseResponse;
  let text = '';
  let reasoning = '';
  const toolCalls: OpenAIToolCall[] = [];
  for (const block of res.output?.message?.content ?? []) {
    if (typeof block.text === 'string') text += block.text;
    const thought = block.reasoningContent?.reasoningText?.text;
    if (typeof thought === 'string') reasoning += thought;
    if (block.toolUse) {
      toolCalls.push({
        id: block.toolUse.toolUseId ?? `call_${toolCalls.length}`,
        type: 'function',
        function: { name: block.toolUse.name ?? '', arguments: JSON.stringify(block.toolUse.input ?? {}) },
      });
    }
  }
  const usage = usageFromConverse(res.usage);
  const message: OpenAIChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning !== '') message.reasoning_content = reasoning;
  const completion: OpenAIChatCompletion = {
    id: completionId(),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: finishReason(res.stopReason) }],
  };
  if (usage) completion.usage = openAIUsage(usage);
  return { completion, usage };
}
