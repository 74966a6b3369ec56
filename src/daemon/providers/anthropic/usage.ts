/**
 * Anthropic usage -> BurnCloud Usage (OpenAI semantics, PROTOCOLS 7.4). Anthropic's
 * `input_tokens` excludes cache reads and writes, so the prompt total is the sum of the three;
 * stream usage is split between message_start and message_delta, and a later value of a field
 * replaces an earlier one (message_delta may revise input_tokens).
 */
import type { Usage } from '../types.js';
import type { OpenAIUsage } from '../openai/types.js';
import type { AnthropicUsage } from './types.js';
import { isRecord, num } from './types.js';

export function usageFromAnthropic(u: AnthropicUsage): Usage {
  const uncached = num(u.input_tokens) ?? 0;
  const cacheRead = num(u.cache_read_input_tokens) ?? 0;
  const cacheWrite = num(u.cache_creation_input_tokens) ?? 0;
  return {
    inputTokens: uncached + cacheRead + cacheWrite,
    cachedTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    outputTokens: num(u.output_tokens) ?? 0,
    reasoningTokens: num(u.output_tokens_details?.thinking_tokens) ?? 0,
  };
}

/** Usage after one more usage object from the stream: fields present replace, absent ones stay. */
export function mergeUsage(previous: Usage | null, u: AnthropicUsage): Usage {
  if (!previous) return usageFromAnthropic(u);
  const prevUncached = previous.inputTokens - previous.cachedTokens - previous.cacheWriteTokens;
  const uncached = num(u.input_tokens) ?? prevUncached;
  const cacheRead = num(u.cache_read_input_tokens) ?? previous.cachedTokens;
  const cacheWrite = num(u.cache_creation_input_tokens) ?? previous.cacheWriteTokens;
  return {
    inputTokens: uncached + cacheRead + cacheWrite,
    cachedTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    outputTokens: num(u.output_tokens) ?? previous.outputTokens,
    reasoningTokens: num(u.output_tokens_details?.thinking_tokens) ?? previous.reasoningTokens,
  };
}

export function asAnthropicUsage(v: unknown): AnthropicUsage | null {
  return isRecord(v) ? v : null;
}

/** Usage -> the `usage` object of an OpenAI completion or chunk. */
export function toOpenAIUsage(u: Usage): OpenAIUsage {
  const out: OpenAIUsage = {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens },
  };
  if (u.cacheWriteTokens > 0) out.cache_creation_input_tokens = u.cacheWriteTokens;
  if (u.reasoningTokens > 0) out.completion_tokens_details = { reasoning_tokens: u.reasoningTokens };
  return out;
}
