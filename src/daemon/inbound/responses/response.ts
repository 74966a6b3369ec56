/**
 * Canonical chat answers -> OpenAI Response objects, for Responses clients served by a channel of
 * another protocol. Output items follow OpenAI's order: reasoning (as a summary), the message,
 * then one item per tool call: a `function_call` (with its `namespace` when the client declared
 * one) or, for a custom tool, a `custom_tool_call` carrying the raw input. A `length` finish is
 * status `incomplete` with `max_output_tokens` as the reason, as OpenAI reports it.
 */
import { randomBytes } from 'node:crypto';
import type { Usage } from '../../providers/types.js';
import type { OpenAIChatCompletion, OpenAIFinishReason } from '../../providers/openai/types.js';
import { isObject, type Json } from '../validate.js';
import { customInput, type ToolMap } from './tools.js';

/** `prefix_` + hex, derived from the upstream id where it has usable characters. */
export function itemId(prefix: 'resp' | 'msg' | 'fc' | 'ctc' | 'rs', upstreamId?: string): string {
  const clean = (upstreamId ?? '').replace(/[^A-Za-z0-9]/g, '');
  return `${prefix}_${clean.length > 0 ? clean : randomBytes(16).toString('hex')}`;
}

/** What the request asked for, echoed in every Response object as OpenAI does. */
export interface ResponseEcho {
  instructions: string | null;
  tools: unknown[];
  tool_choice: unknown;
  parallel_tool_calls: boolean;
  temperature: number | null;
  top_p: number | null;
  max_output_tokens: number | null;
  metadata: Json;
  text: Json;
  reasoning: Json;
}

export function echoOf(body: Json): ResponseEcho {
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const obj = (v: unknown, fallback: Json): Json => (isObject(v) ? v : fallback);
  return {
    instructions: typeof body.instructions === 'string' ? body.instructions : null,
    tools: Array.isArray(body.tools) ? body.tools : [],
    tool_choice: body.tool_choice ?? 'auto',
    parallel_tool_calls: body.parallel_tool_calls !== false,
    temperature: num(body.temperature),
    top_p: num(body.top_p),
    max_output_tokens: num(body.max_output_tokens),
    metadata: obj(body.metadata, {}),
    text: obj(body.text, { format: { type: 'text' } }),
    reasoning: obj(body.reasoning, { effort: null, summary: null }),
  };
}

export function responsesUsage(u: Usage): Json {
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cachedTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

export interface ResponseHead {
  id: string;
  createdAt: number;
  model: string;
  echo: ResponseEcho;
}

/** A whole Response object; `finish` null while in progress. */
export function responseObject(
  head: ResponseHead,
  output: Json[],
  usage: Usage | null,
  finish: OpenAIFinishReason | null | 'in_progress',
): Json {
  const incomplete =
    finish === 'length' ? 'max_output_tokens' : finish === 'content_filter' ? 'content_filter' : null;
  return {
    id: head.id,
    object: 'response',
    created_at: head.createdAt,
    status: finish === 'in_progress' ? 'in_progress' : incomplete ? 'incomplete' : 'completed',
    error: null,
    incomplete_details: incomplete ? { reason: incomplete } : null,
    model: head.model,
    output,
    previous_response_id: null,
    store: false,
    usage: usage ? responsesUsage(usage) : null,
    user: null,
    ...head.echo,
  };
}

export function reasoningItem(id: string, text: string): Json {
  return { id, type: 'reasoning', summary: [{ type: 'summary_text', text }] };
}

export function messageItem(id: string, text: string, status: 'in_progress' | 'completed'): Json {
  return {
    id,
    type: 'message',
    status,
    role: 'assistant',
    content: status === 'completed' ? [outputText(text)] : [],
  };
}

export function outputText(text: string): Json {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

export interface CallParts {
  id: string;
  name: string;
  arguments: string;
}

/** The output item for one upstream tool call, in the shape of the tool the client declared. */
export function toolCallItem(
  id: string,
  call: CallParts,
  tools: ToolMap,
  status: 'in_progress' | 'completed',
): Json {
  const tool = tools.lookup(call.name);
  const ns = tool.namespace === undefined ? {} : { namespace: tool.namespace };
  if (tool.kind === 'custom') {
    const input = status === 'completed' ? customInput(call.arguments) : '';
    return { id, type: 'custom_tool_call', status, call_id: call.id, name: tool.name, ...ns, input };
  }
  return {
    id,
    type: 'function_call',
    status,
    arguments: call.arguments,
    call_id: call.id,
    name: tool.name,
    ...ns,
  };
}

export function completionToResponse(
  c: OpenAIChatCompletion,
  usage: Usage | null,
  model: string,
  echo: ResponseEcho,
  tools: ToolMap,
): Json {
  const choice = c.choices[0];
  const msg = choice?.message;
  const output: Json[] = [];
  const reasoning = (msg as { reasoning_content?: unknown } | undefined)?.reasoning_content;
  if (typeof reasoning === 'string' && reasoning.length > 0)
    output.push(reasoningItem(itemId('rs'), reasoning));
  const calls = msg?.tool_calls ?? [];
  const text = typeof msg?.content === 'string' ? msg.content : '';
  if (text.length > 0 || calls.length === 0) output.push(messageItem(itemId('msg', c.id), text, 'completed'));
  for (const tc of calls) {
    const call = { id: tc.id, name: tc.function.name, arguments: tc.function.arguments };
    const kind = tools.lookup(call.name).kind;
    output.push(toolCallItem(itemId(kind === 'custom' ? 'ctc' : 'fc'), call, tools, 'completed'));
  }
  const head = { id: itemId('resp', c.id), createdAt: c.created, model, echo };
  return responseObject(head, output, usage, choice?.finish_reason ?? 'stop');
}
