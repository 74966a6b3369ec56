/**
 * OpenAI chat messages -> Anthropic `system` + `messages` (PROTOCOLS 7.1). System and developer
 * messages go to the top-level system blocks wherever they appear; tool messages become
 * `tool_result` blocks in a user turn; consecutive same-role turns are merged because Anthropic
 * requires alternation; empty text is dropped because Anthropic rejects empty text blocks.
 */
import type { OpenAIContentPart, OpenAIMessage, OpenAIToolCall } from '../openai/types.js';
import type {
  AnthropicCacheControl,
  AnthropicContentBlock,
  AnthropicMessageParam,
  AnthropicTextBlock,
  AnthropicThinkingBlock,
  AnthropicRedactedThinkingBlock,
} from './types.js';
import { isRecord, str } from './types.js';

export interface ConvertedMessages {
  system: AnthropicTextBlock[];
  messages: AnthropicMessageParam[];
}

type Turn = { role: 'user' | 'assistant'; content: AnthropicContentBlock[] };

export function convertMessages(input: readonly OpenAIMessage[], dropped: string[]): ConvertedMessages {
  const system: AnthropicTextBlock[] = [];
  const turns: Turn[] = [];
  for (const m of input) {
    if (m.role === 'system' || m.role === 'developer') system.push(...textBlocks(m.content));
    else if (m.role === 'user') turns.push({ role: 'user', content: userBlocks(m.content, dropped) });
    else if (m.role === 'tool')
      turns.push({ role: 'user', content: [toolResult(m.tool_call_id, m.content)] });
    else if (m.role === 'assistant') turns.push({ role: 'assistant', content: assistantBlocks(m, dropped) });
  }
  const merged = mergeTurns(turns.filter((t) => t.content.length > 0));
  trimFinalAssistant(merged);
  return { system, messages: merged };
}

function cacheControlOf(part: unknown): AnthropicCacheControl | undefined {
  if (!isRecord(part) || !isRecord(part.cache_control)) return undefined;
  return part.cache_control.type === 'ephemeral'
    ? (part.cache_control as unknown as AnthropicCacheControl)
    : undefined;
}

function textBlock(text: string, from?: unknown): AnthropicTextBlock {
  const cc = cacheControlOf(from);
  return cc ? { type: 'text', text, cache_control: cc } : { type: 'text', text };
}

function textBlocks(content: string | readonly { type: 'text'; text: string }[]): AnthropicTextBlock[] {
  if (typeof content === 'string') return content.length > 0 ? [textBlock(content)] : [];
  return content.filter((p) => p.type === 'text' && p.text.length > 0).map((p) => textBlock(p.text, p));
}

function userBlocks(
  content: string | readonly OpenAIContentPart[],
  dropped: string[],
): AnthropicContentBlock[] {
  if (typeof content === 'string') return textBlocks(content);
  const out: AnthropicContentBlock[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      if (part.text.length > 0) out.push(textBlock(part.text, part));
    } else if (part.type === 'image_url') {
      out.push(imageBlock(part.image_url.url));
    } else {
      const doc = part.type === 'file' ? documentBlock(part.file) : undefined;
      if (doc) out.push(doc);
      else dropped.push(`messages.content.${part.type}`);
    }
  }
  return out;
}

/** Splits a data URL; anything else is a remote URL Anthropic fetches itself. */
function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  if (!url.startsWith('data:')) return undefined;
  const comma = url.indexOf(',');
  const meta = url.slice(5, comma);
  if (comma < 0 || !meta.endsWith(';base64')) return undefined;
  return { mediaType: meta.slice(0, -';base64'.length), data: url.slice(comma + 1) };
}

function imageBlock(url: string): AnthropicContentBlock {
  const d = parseDataUrl(url);
  return d
    ? { type: 'image', source: { type: 'base64', media_type: d.mediaType, data: d.data } }
    : { type: 'image', source: { type: 'url', url } };
}

function documentBlock(file: unknown): AnthropicContentBlock | undefined {
  const data = isRecord(file) ? str(file.file_data) : undefined;
  const d = data ? parseDataUrl(data) : undefined;
  if (!d || d.mediaType !== 'application/pdf') return undefined;
  return { type: 'document', source: { type: 'base64', media_type: d.mediaType, data: d.data } };
}

function toolResult(
  id: string,
  content: string | readonly { type: 'text'; text: string }[],
): AnthropicContentBlock {
  const text = typeof content === 'string' ? content : content.map((p) => p.text).join('');
  return { type: 'tool_result', tool_use_id: id, content: text };
}

/**
 * Signed thinking blocks ride on a non-standard `thinking_blocks` field (LiteLLM's convention) so an
 * Anthropic client's history survives a trip through the canonical shape; unsigned reasoning text
 * cannot be sent back (Anthropic verifies signatures), so plain `reasoning_content` is not echoed.
 */
function thinkingBlocks(m: object): (AnthropicThinkingBlock | AnthropicRedactedThinkingBlock)[] {
  const raw = (m as { thinking_blocks?: unknown }).thinking_blocks;
  if (!Array.isArray(raw)) return [];
  const out: (AnthropicThinkingBlock | AnthropicRedactedThinkingBlock)[] = [];
  for (const b of raw as unknown[]) {
    if (!isRecord(b)) continue;
    const signature = str(b.signature);
    if (b.type === 'thinking' && typeof b.thinking === 'string' && signature)
      out.push({ type: 'thinking', thinking: b.thinking, signature });
    else if (b.type === 'redacted_thinking' && typeof b.data === 'string')
      out.push({ type: 'redacted_thinking', data: b.data });
  }
  return out;
}

function toolUse(call: OpenAIToolCall, dropped: string[]): AnthropicContentBlock {
  const args = call.function.arguments.trim();
  let input: unknown = {};
  if (args.length > 0) {
    try {
      input = JSON.parse(args);
    } catch {
      dropped.push('messages.tool_calls.function.arguments');
    }
  }
  return { type: 'tool_use', id: call.id, name: call.function.name, input: isRecord(input) ? input : {} };
}

function assistantBlocks(
  m: Extract<OpenAIMessage, { role: 'assistant' }>,
  dropped: string[],
): AnthropicContentBlock[] {
  const out: AnthropicContentBlock[] = [...thinkingBlocks(m)];
  if (m.content) out.push(...textBlocks(m.content));
  for (const call of m.tool_calls ?? []) out.push(toolUse(call, dropped));
  return out;
}

/** Anthropic wants tool results first in a user turn, text after them. */
function mergeTurns(turns: Turn[]): AnthropicMessageParam[] {
  const out: Turn[] = [];
  for (const t of turns) {
    const last = out[out.length - 1];
    if (last && last.role === t.role) last.content.push(...t.content);
    else out.push({ role: t.role, content: [...t.content] });
  }
  for (const t of out) {
    if (t.role !== 'user') continue;
    const results = t.content.filter((b) => b.type === 'tool_result');
    if (results.length > 0) t.content = [...results, ...t.content.filter((b) => b.type !== 'tool_result')];
  }
  return out;
}

/** A final assistant turn is a prefill; Anthropic rejects trailing whitespace there. */
function trimFinalAssistant(msgs: AnthropicMessageParam[]): void {
  const last = msgs[msgs.length - 1];
  if (!last || last.role !== 'assistant' || typeof last.content === 'string') return;
  const block = last.content[last.content.length - 1];
  if (block?.type === 'text') {
    block.text = block.text.trimEnd();
    if (block.text.length === 0) last.content.pop();
    if (last.content.length === 0) msgs.pop();
  }
}
