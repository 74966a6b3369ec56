/**
 * Anthropic Messages request -> canonical OpenAI chat request, for Anthropic clients (Claude Code)
 * routed to a channel of another protocol. Tool results leave the user turn as OpenAI `tool`
 * messages placed first, where OpenAI expects them; signed thinking blocks ride along in
 * `thinking_blocks` so they survive a trip back to Anthropic; fields with no OpenAI equivalent
 * are named in `dropped`.
 */
import type {
  OpenAIChatRequest,
  OpenAIContentPart,
  OpenAIMessage,
  OpenAITool,
  OpenAIToolChoice,
} from '../../providers/openai/types.js';
import { THINKING_BUDGETS } from '../../providers/anthropic/request.js';
import type { Json } from './validate.js';
import { isObject, validateBody } from './validate.js';

/** Fields converted below, or that need no conversion. */
const HANDLED = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'stream',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
  'stop_sequences',
  'temperature',
  'top_p',
  'metadata',
]);

export function anthropicToOpenAI(
  raw: unknown,
  opts: { model?: string; stream?: boolean; dropped: string[] },
  requireMaxTokens = true,
): OpenAIChatRequest {
  const { body, model, maxTokens, messages } = validateBody(raw, opts.model, requireMaxTokens);
  const dropped = opts.dropped;
  const out: OpenAIChatRequest = { model, messages: [...systemMessages(body.system)], max_tokens: maxTokens };
  for (const m of messages) out.messages.push(...convertMessage(m, dropped));
  const stream = opts.stream ?? body.stream === true;
  if (stream) {
    out.stream = true;
    // The closing message_delta needs the usage, which OpenAI only streams when asked.
    out.stream_options = { include_usage: true };
  }
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences)) out.stop = body.stop_sequences.filter((s) => typeof s === 'string');
  if (isObject(body.metadata) && typeof body.metadata.user_id === 'string') out.user = body.metadata.user_id;
  applyTools(body, out, dropped);
  applyOutputConfig(body, out, dropped);
  for (const [k, v] of Object.entries(body))
    if (!HANDLED.has(k) && v !== undefined && v !== null) dropped.push(k);
  return out;
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return '';
  return v
    .map((b: unknown) => (isObject(b) && b.type === 'text' && typeof b.text === 'string' ? b.text : ''))
    .filter((t) => t.length > 0)
    .join('\n');
}

function systemMessages(system: unknown): OpenAIMessage[] {
  const text = textOf(system);
  return text.length > 0 ? [{ role: 'system', content: text }] : [];
}

function imagePart(source: unknown): OpenAIContentPart | undefined {
  if (!isObject(source)) return undefined;
  if (source.type === 'base64' && typeof source.data === 'string') {
    const mediaType = typeof source.media_type === 'string' ? source.media_type : 'image/png';
    return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${source.data}` } };
  }
  if (source.type === 'url' && typeof source.url === 'string')
    return { type: 'image_url', image_url: { url: source.url } };
  return undefined;
}

function documentPart(block: Json): OpenAIContentPart | undefined {
  const src = block.source;
  if (!isObject(src)) return undefined;
  if (src.type === 'text' && typeof src.data === 'string') return { type: 'text', text: src.data };
  if (src.type === 'base64' && typeof src.data === 'string' && src.media_type === 'application/pdf') {
    const filename = typeof block.title === 'string' ? block.title : 'document.pdf';
    return { type: 'file', file: { filename, file_data: `data:application/pdf;base64,${src.data}` } };
  }
  return undefined;
}

function toolResultMessage(b: Json, dropped: string[]): OpenAIMessage {
  const parts = Array.isArray(b.content) ? (b.content as unknown[]) : [];
  if (parts.some((p) => isObject(p) && p.type !== 'text')) dropped.push('tool_result.content.image');
  const text = textOf(b.content);
  const id = typeof b.tool_use_id === 'string' ? b.tool_use_id : '';
  return {
    role: 'tool',
    tool_call_id: id,
    content: b.is_error === true && text.length === 0 ? 'error' : text,
  };
}

function userMessages(content: unknown[], dropped: string[]): OpenAIMessage[] {
  const tools: OpenAIMessage[] = [];
  const parts: OpenAIContentPart[] = [];
  for (const raw of content) {
    const b = raw as Json;
    if (b.type === 'tool_result') tools.push(toolResultMessage(b, dropped));
    else if (b.type === 'text' && typeof b.text === 'string') parts.push({ type: 'text', text: b.text });
    else {
      const part =
        b.type === 'image' ? imagePart(b.source) : b.type === 'document' ? documentPart(b) : undefined;
      if (part) parts.push(part);
      else dropped.push(`messages.content.${String(b.type)}`);
    }
  }
  if (parts.length === 0) return tools;
  const only = parts[0];
  const userContent = parts.length === 1 && only?.type === 'text' ? only.text : parts;
  return [...tools, { role: 'user', content: userContent }];
}

function assistantMessage(content: unknown[]): OpenAIMessage {
  let text = '';
  let reasoning = '';
  const toolCalls: NonNullable<Extract<OpenAIMessage, { role: 'assistant' }>['tool_calls']> = [];
  const thinkingBlocks: Json[] = [];
  for (const raw of content) {
    const b = raw as Json;
    if (b.type === 'text' && typeof b.text === 'string') text += b.text;
    else if (b.type === 'tool_use') {
      const name = typeof b.name === 'string' ? b.name : '';
      const id = typeof b.id === 'string' ? b.id : '';
      toolCalls.push({ id, type: 'function', function: { name, arguments: JSON.stringify(b.input ?? {}) } });
    } else if (b.type === 'thinking' || b.type === 'redacted_thinking') {
      if (typeof b.thinking === 'string') reasoning += b.thinking;
      thinkingBlocks.push(b);
    }
  }
  const msg: Extract<OpenAIMessage, { role: 'assistant' }> & { thinking_blocks?: Json[] } = {
    role: 'assistant',
    content: text.length > 0 ? text : null,
  };
  if (toolCalls.length > 0) msg.tool_calls = toolCalls;
  if (reasoning.length > 0) msg.reasoning_content = reasoning;
  if (thinkingBlocks.length > 0) msg.thinking_blocks = thinkingBlocks;
  return msg;
}

/**
 * A mid-conversation system message stays a system message at the same point of the OpenAI
 * conversation; providers without such a place decide where it goes (see their messages code).
 */
function midConversationSystem(content: unknown[], dropped: string[]): OpenAIMessage[] {
  for (const b of content)
    if (!isObject(b) || b.type !== 'text')
      dropped.push(`messages.system.${String(isObject(b) ? b.type : b)}`);
  const text = textOf(content);
  return text.length > 0 ? [{ role: 'system', content: text }] : [];
}

function convertMessage(m: Json, dropped: string[]): OpenAIMessage[] {
  const content: unknown[] =
    typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content as unknown[]);
  if (m.role === 'system') return midConversationSystem(content, dropped);
  return m.role === 'user' ? userMessages(content, dropped) : [assistantMessage(content)];
}

function toolChoice(tc: unknown): { choice?: OpenAIToolChoice; parallel?: false } {
  if (!isObject(tc)) return {};
  const parallel = tc.disable_parallel_tool_use === true ? (false as const) : undefined;
  const choice: OpenAIToolChoice | undefined =
    tc.type === 'auto'
      ? 'auto'
      : tc.type === 'any'
        ? 'required'
        : tc.type === 'none'
          ? 'none'
          : tc.type === 'tool' && typeof tc.name === 'string'
            ? { type: 'function', function: { name: tc.name } }
            : undefined;
  return { ...(choice ? { choice } : {}), ...(parallel === false ? { parallel } : {}) };
}

/** Server tools (web search, code execution...) run at Anthropic and cannot be carried elsewhere. */
function applyTools(body: Json, out: OpenAIChatRequest, dropped: string[]): void {
  const tools: OpenAITool[] = [];
  for (const t of Array.isArray(body.tools) ? (body.tools as unknown[]) : []) {
    if (!isObject(t) || typeof t.name !== 'string') continue;
    if (t.type !== undefined && t.type !== 'custom') {
      dropped.push(`tools.${t.name}`);
      continue;
    }
    const fn: OpenAITool['function'] = { name: t.name };
    if (typeof t.description === 'string') fn.description = t.description;
    if (isObject(t.input_schema)) fn.parameters = t.input_schema;
    tools.push({ type: 'function', function: fn });
  }
  if (tools.length === 0) return;
  out.tools = tools;
  const { choice, parallel } = toolChoice(body.tool_choice);
  if (choice) out.tool_choice = choice;
  if (parallel === false) out.parallel_tool_calls = false;
}

type Effort = NonNullable<OpenAIChatRequest['reasoning_effort']>;

/**
 * Anthropic's `output_config.effort` (low, medium, high, max) as an OpenAI reasoning effort; the
 * canonical scale stops at high, so max (and any newer level above it) reads as high.
 */
function effortOf(v: unknown): Effort | undefined {
  if (typeof v !== 'string') return undefined;
  if (v === 'low' || v === 'medium' || v === 'high' || v === 'minimal') return v;
  return v === 'none' ? undefined : 'high';
}

/**
 * `thinking` and `output_config` together: a fixed budget maps by size (the inverse of
 * THINKING_BUDGETS); adaptive thinking, or effort without thinking, takes output_config.effort,
 * Anthropic's default effort being high; disabled thinking asks for no reasoning.
 */
export function reasoningEffort(thinking: unknown, outputConfig: unknown): Effort | undefined {
  const effort = isObject(outputConfig) ? effortOf(outputConfig.effort) : undefined;
  if (!isObject(thinking)) return effort;
  if (thinking.type === 'disabled') return undefined;
  if (thinking.type !== 'enabled') return effort ?? 'high';
  const budget = typeof thinking.budget_tokens === 'number' ? thinking.budget_tokens : 0;
  if (budget >= THINKING_BUDGETS.high) return 'high';
  if (budget >= THINKING_BUDGETS.medium) return 'medium';
  if (budget >= THINKING_BUDGETS.low) return 'low';
  return 'minimal';
}

/** Reasoning from thinking + effort; a structured-output format as OpenAI's json_schema. */
function applyOutputConfig(body: Json, out: OpenAIChatRequest, dropped: string[]): void {
  const effort = reasoningEffort(body.thinking, body.output_config);
  if (effort) out.reasoning_effort = effort;
  const cfg = body.output_config;
  if (!isObject(cfg)) return;
  for (const [k, v] of Object.entries(cfg)) {
    if (k === 'effort' || v === undefined || v === null) continue;
    if (k === 'format' && isObject(v) && v.type === 'json_schema' && isObject(v.schema)) {
      out.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: v.schema } };
    } else dropped.push(`output_config.${k}`);
  }
}
