/**
 * Gemini usageMetadata -> Usage (PROTOCOLS.md 7.4). promptTokenCount already includes cached
 * tokens; candidatesTokenCount excludes thoughts, so output is candidates + thoughts, which is
 * what Google bills as output and keeps prompt + output equal to totalTokenCount.
 */
import type { Usage } from '../types.js';

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
}

/** null when there is no usageMetadata object at all. */
export function usageFromGemini(meta: unknown): Usage | null {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return null;
  const m = meta as Record<string, unknown>;
  const thoughts = count(m.thoughtsTokenCount);
  return {
    inputTokens: count(m.promptTokenCount),
    cachedTokens: count(m.cachedContentTokenCount),
    cacheWriteTokens: 0,
    outputTokens: count(m.candidatesTokenCount) + thoughts,
    reasoningTokens: thoughts,
  };
}
