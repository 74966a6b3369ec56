/**
 * OpenAI chat request -> Anthropic Messages request body (PROTOCOLS 7.1, 4.2). Messages are
 * converted in messages.ts; this file maps the request-level knobs (max_tokens, sampling, stop,
 * tools, tool_choice, response_format, reasoning, user) and names every OpenAI field Anthropic
 * cannot carry in `dropped`, so the log row can say what was lost.
 */
import type { OpenAIChatRequest, OpenAIResponseFormat, OpenAIToolChoice } from '../openai/types.js';
import type { AnthropicRequest, AnthropicTool, AnthropicToolChoice } from './types.js';
import { JSON_TOOL_NAME, num } from './types.js';
import { convertMessages } from './messages.js';
import { anthropicEffort, claudeEffort, usesAdaptiveThinking } from './thinking.js';

/** Anthropic requires max_tokens; the gateways surveyed in PROTOCOLS 4.2 default to 4096. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Thinking budgets per OpenAI reasoning effort; the inbound codec inverts this table. */
export const THINKING_BUDGETS = { minimal: 1024, low: 2048, medium: 8192, high: 16384 } as const;

/** Fields this file maps (or that need no mapping); anything else present is reported dropped. */
const HANDLED = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'user',
]);

export function toAnthropicRequest(
  req: OpenAIChatRequest,
  model: string,
  dropped: string[],
): AnthropicRequest {
  const { system, messages } = convertMessages(req.messages, dropped);
  const out: AnthropicRequest = {
    model,
    max_tokens: num(req.max_completion_tokens) ?? num(req.max_tokens) ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system.length > 0) out.system = system;
  if (req.stream === true) out.stream = true;
  applySampling(req, out);
  const stops = stopSequences(req.stop);
  if (stops.length > 0) out.stop_sequences = stops;
  if (typeof req.user === 'string' && req.user.length > 0) out.metadata = { user_id: req.user };
  applyTools(req, out, dropped);
  applyResponseFormat(req.response_format, out, dropped);
  applyThinking(req, out, dropped);
  reportUnmapped(req, dropped);
  return out;
}

function applySampling(req: OpenAIChatRequest, out: AnthropicRequest): void {
  const t = num(req.temperature);
  // OpenAI allows 0..2, Anthropic 0..1: clamp rather than fail the request.
  if (t !== undefined) out.temperature = Math.min(1, Math.max(0, t));
  const p = num(req.top_p);
  if (p !== undefined) out.top_p = p;
  const k = num(req.top_k);
  if (k !== undefined) out.top_k = k;
}

function stopSequences(stop: OpenAIChatRequest['stop']): string[] {
  const list = typeof stop === 'string' ? [stop] : (stop ?? []);
  // Anthropic rejects whitespace-only stop sequences.
  return list.filter((s) => typeof s === 'string' && s.trim().length > 0);
}

function mapToolChoice(choice: OpenAIToolChoice | undefined): AnthropicToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  return { type: 'tool', name: choice.function.name };
}

function applyTools(req: OpenAIChatRequest, out: AnthropicRequest, dropped: string[]): void {
  const tools: AnthropicTool[] = (req.tools ?? []).map((t) => {
    const tool: AnthropicTool = {
      name: t.function.name,
      input_schema: t.function.parameters ?? { type: 'object', properties: {} },
    };
    if (t.function.description) tool.description = t.function.description;
    return tool;
  });
  if (tools.length === 0) {
    // Anthropic rejects tool_choice without tools.
    if (req.tool_choice !== undefined && req.tool_choice !== 'none') dropped.push('tool_choice');
    return;
  }
  out.tools = tools;
  let choice = mapToolChoice(req.tool_choice);
  if (req.parallel_tool_calls === false) {
    choice ??= { type: 'auto' };
    if (choice.type !== 'none') choice.disable_parallel_tool_use = true;
  }
  if (choice) out.tool_choice = choice;
}

/**
 * Structured output through a forced tool whose input is the answer (LiteLLM's json mode): it works
 * on every Claude model. response.ts and stream.ts turn that tool's input back into content.
 */
function applyResponseFormat(
  rf: OpenAIResponseFormat | undefined,
  out: AnthropicRequest,
  dropped: string[],
): void {
  if (!rf || rf.type === 'text') return;
  if (out.tool_choice && out.tool_choice.type !== 'auto') {
    dropped.push('response_format');
    return;
  }
  const schema =
    rf.type === 'json_schema' ? (rf.json_schema.schema ?? { type: 'object' }) : { type: 'object' };
  const tool: AnthropicTool = {
    name: JSON_TOOL_NAME,
    description: 'Respond with a JSON object in the requested format.',
    input_schema: schema,
  };
  out.tools = [...(out.tools ?? []), tool];
  out.tool_choice = { type: 'tool', name: JSON_TOOL_NAME };
}

function applyThinking(req: OpenAIChatRequest, out: AnthropicRequest, dropped: string[]): void {
  const effort = claudeEffort(req.reasoning_effort);
  if (!effort) return;
  // Anthropic refuses forced tool use with thinking on, and requires a signed thinking block
  // before tool_use in the last assistant turn; neither can be satisfied here.
  if (
    (out.tool_choice && out.tool_choice.type !== 'auto' && out.tool_choice.type !== 'none') ||
    lastAssistantNeedsThinking(out)
  ) {
    dropped.push('reasoning_effort');
    return;
  }
  if (usesAdaptiveThinking(out.model)) {
    out.thinking = { type: 'adaptive' };
    out.output_config = { ...out.output_config, effort: anthropicEffort(effort) };
  } else {
    const budget = THINKING_BUDGETS[effort];
    out.thinking = { type: 'enabled', budget_tokens: budget };
    // max_tokens counts thinking too and must exceed the budget.
    if (out.max_tokens <= budget) out.max_tokens = budget + out.max_tokens;
  }
  // With thinking, Anthropic only accepts the default temperature and no top_k; top_p must be >= 0.95.
  if (out.temperature !== undefined) {
    if (out.temperature !== 1) dropped.push('temperature');
    delete out.temperature;
  }
  if (out.top_k !== undefined) {
    dropped.push('top_k');
    delete out.top_k;
  }
  if (out.top_p !== undefined && out.top_p < 0.95) {
    dropped.push('top_p');
    delete out.top_p;
  }
}

function lastAssistantNeedsThinking(out: AnthropicRequest): boolean {
  const last = [...out.messages].reverse().find((m) => m.role === 'assistant');
  if (!last || typeof last.content === 'string') return false;
  const hasToolUse = last.content.some((b) => b.type === 'tool_use');
  const first = last.content[0];
  return hasToolUse && first?.type !== 'thinking' && first?.type !== 'redacted_thinking';
}

function reportUnmapped(req: OpenAIChatRequest, dropped: string[]): void {
  for (const [key, value] of Object.entries(req)) {
    if (HANDLED.has(key) || value === null || value === undefined) continue;
    if (key === 'n' && value === 1) continue;
    if (key === 'logprobs' && value === false) continue;
    dropped.push(key);
  }
}
