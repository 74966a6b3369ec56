/**
 * Builds upstream HTTP requests for OpenAI-family channels. Base URLs carry their version prefix
 * (`https://api.openai.com/v1`, `.../compatible-mode/v1`), as the official SDKs take them, so a
 * client path like `/v1/chat/completions` loses its `/v1` before it is appended. The few
 * per-type differences are data (QUIRKS), not branches spread through the code.
 */
import { createHash } from 'node:crypto';
import type { ChannelType } from '../../../shared/control-api.js';
import type { ConvertContext, UpstreamRequest, UpstreamTarget } from '../types.js';
import type { OpenAIChatRequest, OpenAIMessage } from './types.js';

interface Quirks {
  /** reasoning models reject `max_tokens`; `max_completion_tokens` works for every OpenAI model */
  renameMaxTokens: boolean;
  /**
   * the API rejects message fields it does not know, such as another provider's reasoning_content
   * or a Gemini signature's extra_content on a tool call (stripForeignFields)
   */
  stripReasoningContent: boolean;
}

const NONE: Quirks = { renameMaxTokens: false, stripReasoningContent: false };
const QUIRKS: Partial<Record<ChannelType, Quirks>> = {
  openai: { renameMaxTokens: true, stripReasoningContent: true },
  azure: { renameMaxTokens: true, stripReasoningContent: true },
};

function quirks(type: ChannelType): Quirks {
  return QUIRKS[type] ?? NONE;
}

/**
 * The output-limit field a channel of this type reads when a forwarded chat request sets none
 * and the gateway must set one (a budget's lowered limit): the one every model of the API takes.
 */
export function chatOutputField(type: ChannelType): 'max_tokens' | 'max_completion_tokens' {
  return quirks(type).renameMaxTokens ? 'max_completion_tokens' : 'max_tokens';
}

/** `/v1/chat/completions` -> `/chat/completions`; other paths unchanged. */
export function stripVersionPrefix(path: string): string {
  if (path === '/v1') return '';
  return path.startsWith('/v1/') || path.startsWith('/v1?') ? path.slice(3) : path;
}

export function upstreamUrl(target: UpstreamTarget, path: string): string {
  return target.channel.baseUrl.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
}

/** Authorization plus any extra headers the channel's settings name (e.g. OpenAI-Organization). */
export function authHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = {};
  const extra = target.channel.settings.headers;
  if (typeof extra === 'object' && extra !== null) {
    for (const [k, v] of Object.entries(extra as Record<string, unknown>)) {
      if (typeof v === 'string') headers[k.toLowerCase()] = v;
    }
  }
  // Local servers (Ollama, vLLM) often run without a key; an empty Bearer would be rejected.
  if (target.secret !== '') headers.authorization = `Bearer ${target.secret}`;
  return headers;
}

type AssistantMessage = Extract<OpenAIMessage, { role: 'assistant' }>;

/**
 * Removes from assistant messages what other protocols' conversions put there for their own
 * channels: `thinking_blocks` (signed Anthropic thinking, which no OpenAI-protocol server takes:
 * OpenAI, Azure, Groq and Mistral refuse the field) always; with `strict`, for APIs that refuse
 * any message field they do not know, also another provider's `reasoning_content` and the Gemini
 * thought signature a tool call carries in `extra_content`. Each removal is named in ctx.dropped.
 */
export function stripForeignFields(
  messages: OpenAIMessage[],
  ctx: ConvertContext,
  strict: boolean,
): OpenAIMessage[] {
  const removed = new Set<string>();
  const out = messages.map((m) => (m.role === 'assistant' ? cleanAssistant(m, strict, removed) : m));
  // A retry on another channel converts again into the same list: name each field once.
  for (const field of removed) if (!ctx.dropped.includes(field)) ctx.dropped.push(field);
  return out;
}

function cleanAssistant(m: AssistantMessage, strict: boolean, removed: Set<string>): AssistantMessage {
  if (!strict && !('thinking_blocks' in m)) return m;
  const carrier = m as AssistantMessage & { thinking_blocks?: unknown };
  const { thinking_blocks: blocks, reasoning_content: reasoning, ...rest } = carrier;
  if (blocks !== undefined) removed.add('messages[].thinking_blocks');
  if (!strict) return reasoning === undefined ? rest : { ...rest, reasoning_content: reasoning };
  if (reasoning !== undefined) removed.add('messages[].reasoning_content');
  if (rest.tool_calls?.some((c) => 'extra_content' in c) !== true) return rest;
  removed.add('messages[].tool_calls[].extra_content');
  const toolCalls = rest.tool_calls.map((c) => {
    const { extra_content: _e, ...call } = c as typeof c & { extra_content?: unknown };
    return call;
  });
  return { ...rest, tool_calls: toolCalls };
}

/** The strict clean-up of stripForeignFields, for adapters that build on this one (Azure). */
export function stripReasoning(messages: OpenAIMessage[], ctx: ConvertContext): OpenAIMessage[] {
  return stripForeignFields(messages, ctx, true);
}

/** `max_tokens` -> `max_completion_tokens`, unless the request already sets the latter. */
export function renameMaxTokens(body: OpenAIChatRequest): void {
  if (body.max_tokens != null && body.max_completion_tokens == null) {
    body.max_completion_tokens = body.max_tokens;
    delete body.max_tokens;
  }
}

/**
 * OpenAI rejects a `user` over 64 characters (400 string_above_max_length), and converted
 * requests carry longer ones: Claude Code's metadata.user_id is a ~150-character JSON string.
 * Its SHA-256 (64 hex characters) still names the same end user, stably.
 */
const MAX_USER_LENGTH = 64;

function opaqueUser(user: string): string {
  return createHash('sha256').update(user).digest('hex');
}

export function buildChatBody(
  req: OpenAIChatRequest,
  target: UpstreamTarget,
  ctx: ConvertContext,
): OpenAIChatRequest {
  const q = quirks(target.channel.type);
  const body: OpenAIChatRequest = { ...req, model: target.upstreamModel };
  if (req.stream === true) {
    // Usage is how requests are billed; without this the stream reports none (PROTOCOLS.md 1.4).
    body.stream_options = { ...(req.stream_options ?? {}), include_usage: true };
  } else {
    delete body.stream_options;
  }
  if (q.renameMaxTokens) renameMaxTokens(body);
  body.messages = stripForeignFields(body.messages, ctx, q.stripReasoningContent);
  if (typeof body.user === 'string' && body.user.length > MAX_USER_LENGTH) body.user = opaqueUser(body.user);
  return body;
}

export function chatRequest(
  req: OpenAIChatRequest,
  target: UpstreamTarget,
  ctx: ConvertContext,
): UpstreamRequest {
  return {
    method: 'POST',
    url: upstreamUrl(target, '/chat/completions'),
    headers: {
      ...authHeaders(target),
      'content-type': 'application/json',
      accept: req.stream === true ? 'text/event-stream' : 'application/json',
    },
    body: JSON.stringify(buildChatBody(req, target, ctx)),
  };
}

export function passthroughRequest(
  path: string,
  body: Buffer,
  target: UpstreamTarget,
  contentType: string,
): UpstreamRequest {
  const rest = stripVersionPrefix(path);
  const isGet = body.length === 0 && /^\/models(\/|\?|$)/.test(rest);
  const headers = authHeaders(target);
  // The content type goes through as given so multipart boundaries still match the bytes.
  if (!isGet && contentType !== '') headers['content-type'] = contentType;
  return {
    method: isGet ? 'GET' : 'POST',
    url: upstreamUrl(target, rest),
    headers,
    body: isGet ? undefined : body,
  };
}

export function embeddingsRequest(
  body: Record<string, unknown>,
  target: UpstreamTarget,
  _ctx: ConvertContext,
): UpstreamRequest {
  return {
    method: 'POST',
    url: upstreamUrl(target, '/embeddings'),
    headers: { ...authHeaders(target), 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, model: target.upstreamModel }),
  };
}
