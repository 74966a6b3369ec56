/**
 * Canonical OpenAI completion -> Anthropic Message, for Anthropic clients served by a channel of
 * another protocol. Content order follows Anthropic's: thinking, then text, then tool_use; usage
 * is split back into uncached input and cache reads/writes (PROTOCOLS 7.4 inverted).
 */
import { randomBytes } from 'node:crypto';
import type { Usage } from '../../providers/types.js';
import type { OpenAIChatCompletion, OpenAIUsage } from '../../providers/openai/types.js';
import type {
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicUsage,
} from '../../providers/anthropic/types.js';
import { stopReasonFromOpenAI } from '../../providers/anthropic/stop-reason.js';
import { isObject } from './validate.js';

/** Anthropic ids are `msg_`/`toolu_` + [A-Za-z0-9_-]; derive from the upstream id where possible. */
export function messageId(upstreamId: string | undefined): string {
  if (upstreamId?.startsWith('msg_')) return upstreamId;
  const clean = (upstreamId ?? '').replace(/[^A-Za-z0-9]/g, '');
  return `msg_${clean.length > 0 ? clean : randomBytes(12).toString('hex')}`;
}

export function toolUseId(id: string | undefined): string {
  return id && /^[A-Za-z0-9_-]+$/.test(id) ? id : `toolu_${randomBytes(12).toString('hex')}`;
}

/** Tool arguments as Anthropic's object `input`; unparseable arguments become `{}`. */
export function parseToolInput(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args);
    return isObject(v) ? v : {};
  } catch {
    return {};
  }
}

export function usageFromOpenAI(u: OpenAIUsage | undefined | null): Usage | null {
  if (!u) return null;
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  const write = typeof u.cache_creation_input_tokens === 'number' ? u.cache_creation_input_tokens : 0;
  return {
    inputTokens: u.prompt_tokens,
    cachedTokens: cached,
    cacheWriteTokens: write,
    outputTokens: u.completion_tokens,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

export function toAnthropicUsage(
  u: Usage | null,
): Required<Pick<AnthropicUsage, 'input_tokens' | 'output_tokens'>> & AnthropicUsage {
  const usage = u ?? {
    inputTokens: 0,
    cachedTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
  };
  return {
    input_tokens: Math.max(0, usage.inputTokens - usage.cachedTokens - usage.cacheWriteTokens),
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cachedTokens,
    output_tokens: usage.outputTokens,
  };
}

export function completionToMessage(
  c: OpenAIChatCompletion,
  usage: Usage | null,
  model: string,
): AnthropicMessage {
  const choice = c.choices[0];
  const msg = choice?.message;
  const content: AnthropicContentBlock[] = [];
  if (msg?.reasoning_content)
    content.push({ type: 'thinking', thinking: msg.reasoning_content, signature: '' });
  if (msg?.content) content.push({ type: 'text', text: msg.content });
  for (const call of msg?.tool_calls ?? []) {
    const input = parseToolInput(call.function.arguments);
    content.push({ type: 'tool_use', id: toolUseId(call.id), name: call.function.name, input });
  }
  let stop = stopReasonFromOpenAI(choice?.finish_reason);
  // Some upstreams (Gemini) finish tool calls with a plain stop; Anthropic clients key on tool_use.
  if (stop === 'end_turn' && content.some((b) => b.type === 'tool_use')) stop = 'tool_use';
  return {
    id: messageId(c.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: toAnthropicUsage(usage ?? usageFromOpenAI(c.usage)),
  };
}
