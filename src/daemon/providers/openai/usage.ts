/**
 * Reads an OpenAI-style usage object into the gateway's Usage. OpenAI semantics are the target
 * already (prompt_tokens includes cached tokens, completion_tokens includes reasoning), so this
 * is mostly tolerant field reading: details objects may be missing or null, DeepSeek reports
 * cache hits as `prompt_cache_hit_tokens`, Qwen reports cache writes as
 * `cache_creation_input_tokens`, and the Responses API names the totals input/output_tokens.
 * openAIUsage goes the other way for the converting adapters (Gemini, Bedrock).
 */
import type { Usage } from '../types.js';
import type { OpenAIUsage } from './types.js';

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
}

function first(...values: unknown[]): number | undefined {
  for (const v of values) {
    const n = count(v);
    if (n !== undefined) return n;
  }
  return undefined;
}

/** null when `u` is not a usage object (absent, null, or without any token count). */
export function usageFromOpenAI(u: unknown): Usage | null {
  const usage = record(u);
  if (usage === undefined) return null;
  const input = first(usage.prompt_tokens, usage.input_tokens);
  const output = first(usage.completion_tokens, usage.output_tokens);
  if (input === undefined && output === undefined) return null;
  const promptDetails = record(usage.prompt_tokens_details) ?? record(usage.input_tokens_details);
  const completionDetails = record(usage.completion_tokens_details) ?? record(usage.output_tokens_details);
  return {
    inputTokens: input ?? 0,
    cachedTokens: first(promptDetails?.cached_tokens, usage.prompt_cache_hit_tokens) ?? 0,
    cacheWriteTokens:
      first(promptDetails?.cache_creation_input_tokens, usage.cache_creation_input_tokens) ?? 0,
    outputTokens: output ?? 0,
    reasoningTokens: first(completionDetails?.reasoning_tokens) ?? 0,
  };
}

/** Usage -> the OpenAI usage object a completion carries (cached and reasoning details always). */
export function openAIUsage(u: Usage): OpenAIUsage {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens },
  };
}
