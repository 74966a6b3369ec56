/**
 * Usage of the OpenAI Responses API (`/v1/responses`), whose field names differ from chat's:
 * `usage.input_tokens` / `output_tokens` with `input_tokens_details.cached_tokens` and
 * `output_tokens_details.reasoning_tokens`; streams report it in the `response.completed` event.
 */
import type { UsageReader } from './context.js';
import type { Usage } from '../providers/types.js';

function fromUsage(u: unknown): Usage | null {
  if (!u || typeof u !== 'object') return null;
  const r = u as Record<string, unknown>;
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const inDetails = (r.input_tokens_details ?? {}) as Record<string, unknown>;
  const outDetails = (r.output_tokens_details ?? {}) as Record<string, unknown>;
  return {
    inputTokens: num(r.input_tokens),
    cachedTokens: num(inDetails.cached_tokens),
    cacheWriteTokens: 0,
    outputTokens: num(r.output_tokens),
    reasoningTokens: num(outDetails.reasoning_tokens),
  };
}

export const responsesUsage: UsageReader = {
  fromBody: (body: unknown): Usage | null => fromUsage((body as { usage?: unknown } | null)?.usage),
  fromEvent: (event, previous): Usage | null => {
    if (event.kind !== 'sse' || !event.data.includes('"usage"')) return previous;
    try {
      const parsed = JSON.parse(event.data) as { response?: { usage?: unknown } };
      return fromUsage(parsed.response?.usage) ?? previous;
    } catch {
      return previous;
    }
  },
};
