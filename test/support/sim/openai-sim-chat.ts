/**
 * Chat Completions answers of the OpenAI simulator, shaped like the recorded ones
 * (`openai/chat-nonstream-text.json`, `openai/chat-nonstream-tool-calls.cassette.yaml`, the raw
 * stream cassettes) and, for the `qwen` flavour, like DashScope's compatible mode with its
 * quirks (`qwen/chat-stream-tool-call.chunks.jsonl`). Everything is deterministic apart from ids,
 * so tests can predict usage: prompt tokens = ceil(UTF-8 bytes of JSON(messages) / 4), completion
 * tokens = the number of content, reasoning and tool-argument pieces sent, per answer. Like the
 * real API, `n` answers are produced and all are billed (legacy completions: `best_of` are
 * generated and billed, `n` returned), each within the output limit; more than 128 is refused.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import { delegatedBySim, header, intHeader } from './sim-common.js';
import { answerCount, promptCount } from './openai-sim-choices.js';

export type Flavour = 'openai' | 'qwen';
type Json = Record<string, unknown>;

export const DEFAULT_SIM_TEXT = 'Hello from the simulator: it costs 5 € and it flies 🚀 fast.';
const REASONING_TEXT = 'The user greets me; a short friendly answer fits.';

export interface ChatKnobs {
  deltas: number;
  paceMs: number;
  deltaBytes: number | undefined;
  splitUtf8: boolean;
  text: string;
  toolCalls: number;
  cachedTokens: number;
}

/** Header values are Latin-1 on the wire, so `x-sim-text` may be percent-encoded UTF-8. */
function decodeText(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Knobs come from `x-sim-*` request headers or, for requests that reach the simulator through the
 * gateway (which forwards bodies, not client headers), from the same names in the body's
 * `metadata` object (OpenAI's own per-request key-value field); headers win.
 */
export function knobsFrom(rawHeaders: http.IncomingHttpHeaders, body?: unknown): ChatKnobs {
  const meta = (body as { metadata?: unknown } | undefined)?.metadata;
  const fromMeta: http.IncomingHttpHeaders = {};
  if (meta && typeof meta === 'object') {
    for (const [k, v] of Object.entries(meta as Record<string, unknown>))
      if (k.startsWith('x-sim-')) fromMeta[k] = String(v);
  }
  const headers = { ...fromMeta, ...rawHeaders };
  const bytes = intHeader(headers, 'x-sim-delta-bytes', 0);
  return {
    deltas: intHeader(headers, 'x-sim-deltas', 5),
    paceMs: intHeader(headers, 'x-sim-pace-ms', 0),
    deltaBytes: bytes > 0 ? bytes : undefined,
    splitUtf8: header(headers, 'x-sim-split-utf8') === '1',
    text: decodeText(header(headers, 'x-sim-text')) ?? DEFAULT_SIM_TEXT,
    toolCalls: Math.max(1, intHeader(headers, 'x-sim-tool-calls', 1)),
    cachedTokens: intHeader(headers, 'x-sim-cached-tokens', 0),
  };
}

/** `n` pieces of the text, split on code points so no piece holds half a character. */
export function splitText(text: string, n: number): string[] {
  const cps = Array.from(text);
  const count = Math.min(n, cps.length);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      cps.slice(Math.floor((i * cps.length) / count), Math.floor(((i + 1) * cps.length) / count)).join(''),
    );
  }
  return out;
}

/** A piece of exactly `bytes` UTF-8 bytes, opening with '€' so a split write can cut it. */
function sizedPiece(bytes: number, withEuro: boolean): string {
  const filler = 'abcdefghijklmnopqrstuvwxyz ';
  const head = withEuro && bytes >= 3 ? '€' : '';
  const rest = bytes - Buffer.byteLength(head);
  return head + filler.repeat(Math.ceil(rest / filler.length)).slice(0, rest);
}

export function contentPieces(knobs: ChatKnobs): string[] {
  if (knobs.deltaBytes !== undefined) {
    const piece = sizedPiece(knobs.deltaBytes, knobs.splitUtf8);
    return Array.from({ length: knobs.deltas }, () => piece);
  }
  return splitText(knobs.text, knobs.deltas);
}

export function simPromptTokens(body: Json): number {
  const bytes = Buffer.byteLength(JSON.stringify(body.messages ?? body.input ?? body.prompt ?? ''), 'utf8');
  return Math.max(1, Math.ceil(bytes / 4));
}

function maxTokens(body: Json): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens;
  return typeof v === 'number' && v >= 0 ? v : undefined;
}

export function wantsUsage(body: Json): boolean {
  const so = body.stream_options;
  return typeof so === 'object' && so !== null && (so as Json).include_usage === true;
}

/** The conversation's turns; system and developer messages, wherever they stand, are no turn. */
function turns(body: Json): Json[] {
  const messages = (Array.isArray(body.messages) ? body.messages : []) as unknown[];
  return messages.filter(
    (m): m is Json =>
      typeof m === 'object' &&
      m !== null &&
      (m as Json).role !== 'system' &&
      (m as Json).role !== 'developer',
  );
}

function lastRole(body: Json): unknown {
  return turns(body).at(-1)?.role;
}

/** The user's texts, for delegatedBySim. */
function userTexts(body: Json): string[] {
  const texts: string[] = [];
  for (const m of turns(body)) {
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') texts.push(m.content);
    else if (Array.isArray(m.content))
      for (const p of m.content as Json[]) if (typeof p.text === 'string') texts.push(p.text);
  }
  return texts;
}

interface ToolAnswer {
  id: string;
  name: string;
  args: string;
}

function sampleValue(schema: Json, name: string): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  switch (schema.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return name === 'location' ? 'Boston, MA' : `sim-${name}`;
  }
}

function toolArgs(tool: Json): string {
  const params = ((tool.function as Json | undefined)?.parameters ?? {}) as Json;
  const props = (params.properties ?? {}) as Record<string, Json>;
  const required = Array.isArray(params.required) ? (params.required as string[]) : Object.keys(props);
  const args: Json = {};
  for (const name of required) args[name] = sampleValue(props[name] ?? {}, name);
  return JSON.stringify(args);
}

/** The tool calls to answer with, or none when the turn should be text. */
function plannedToolCalls(body: Json, knobs: ChatKnobs, flavour: Flavour): ToolAnswer[] {
  const tools = (Array.isArray(body.tools) ? body.tools : []) as Json[];
  if (tools.length === 0 || body.tool_choice === 'none' || lastRole(body) === 'tool') return [];
  if (delegatedBySim(userTexts(body))) return [];
  const forced = body.tool_choice as Json | undefined;
  const forcedName = typeof forced === 'object' ? (forced.function as Json | undefined)?.name : undefined;
  const pool =
    forcedName === undefined ? tools : tools.filter((t) => (t.function as Json).name === forcedName);
  const out: ToolAnswer[] = [];
  for (let i = 0; i < knobs.toolCalls && pool.length > 0; i++) {
    const tool = pool[i % pool.length] ?? {};
    out.push({
      id:
        flavour === 'qwen'
          ? `call_${randomBytes(12).toString('hex')}`
          : `call_${randomBytes(18).toString('base64url').slice(0, 24)}`,
      name: String((tool.function as Json).name),
      args: toolArgs(tool),
    });
  }
  return out;
}

/** What the simulated model says, before it is shaped into JSON or frames. */
export interface ChatPlan {
  id: string;
  /** answers returned (`n`) */
  choices: number;
  /** answers generated and billed (legacy `best_of`, else `n`) */
  billed: number;
  created: number;
  model: string;
  reasoning: string[];
  content: string[];
  tools: ToolAnswer[];
  finish: 'stop' | 'length' | 'tool_calls';
  promptTokens: number;
  cachedTokens: number;
}

export function planChat(body: Json, knobs: ChatKnobs, flavour: Flavour): ChatPlan {
  const tools = plannedToolCalls(body, knobs, flavour);
  const reasoning = flavour === 'qwen' && body.enable_thinking === true ? splitText(REASONING_TEXT, 3) : [];
  let content = tools.length > 0 ? [] : contentPieces(knobs);
  let finish: ChatPlan['finish'] = tools.length > 0 ? 'tool_calls' : 'stop';
  const limit = maxTokens(body);
  if (limit !== undefined && tools.length === 0 && reasoning.length + content.length > limit) {
    content = content.slice(0, Math.max(0, limit - reasoning.length));
    finish = 'length';
  }
  const promptTokens = simPromptTokens(body);
  return {
    id:
      flavour === 'qwen'
        ? `chatcmpl-${randomUUID()}`
        : `chatcmpl-${randomBytes(22).toString('base64url').slice(0, 29)}`,
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : 'gpt-4o-mini',
    choices: promptCount(body.prompt) * answerCount(body.n),
    billed: promptCount(body.prompt) * Math.max(answerCount(body.n), answerCount(body.best_of)),
    reasoning,
    content,
    tools,
    finish,
    promptTokens,
    cachedTokens: Math.min(knobs.cachedTokens, promptTokens),
  };
}

/** Tool arguments are streamed in a few fragments, like the recordings. */
export function argFragments(args: string): string[] {
  return args.length <= 2 ? [args] : splitText(args, Math.min(4, args.length));
}

/** Completion tokens of one answer. */
export function completionTokens(plan: ChatPlan): number {
  const toolPieces = plan.tools.reduce((n, t) => n + argFragments(t.args).length, 0);
  return plan.reasoning.length + plan.content.length + toolPieces;
}

/** Usage of the whole request: every billed answer's completion tokens. */
export function usageOf(plan: ChatPlan, flavour: Flavour): Json {
  const completion = completionTokens(plan) * plan.billed;
  const reasoning = plan.reasoning.length * plan.billed;
  const usage: Json = {
    prompt_tokens: plan.promptTokens,
    completion_tokens: completion,
    total_tokens: plan.promptTokens + completion,
  };
  if (flavour === 'qwen') {
    usage.prompt_tokens_details = { cached_tokens: plan.cachedTokens };
    if (reasoning > 0) usage.completion_tokens_details = { reasoning_tokens: reasoning };
    return usage;
  }
  usage.prompt_tokens_details = { cached_tokens: plan.cachedTokens, audio_tokens: 0 };
  usage.completion_tokens_details = {
    reasoning_tokens: 0,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  };
  return usage;
}

export function chatCompletionBody(plan: ChatPlan, flavour: Flavour): Json {
  const message: Json = { role: 'assistant', content: plan.tools.length > 0 ? null : plan.content.join('') };
  if (plan.reasoning.length > 0) message.reasoning_content = plan.reasoning.join('');
  if (plan.tools.length > 0) {
    message.tool_calls = plan.tools.map((t, index) => ({
      ...(flavour === 'qwen' ? { index } : {}),
      id: t.id,
      type: 'function',
      function: { name: t.name, arguments: t.args },
    }));
    if (flavour === 'qwen') message.content = '';
  }
  if (flavour === 'qwen') {
    return {
      choices: answers(plan, (index) => ({ message, finish_reason: plan.finish, index, logprobs: null })),
      object: 'chat.completion',
      usage: usageOf(plan, flavour),
      created: plan.created,
      system_fingerprint: null,
      model: plan.model,
      id: plan.id,
    };
  }
  message.refusal = null;
  message.annotations = [];
  return {
    id: plan.id,
    object: 'chat.completion',
    created: plan.created,
    model: plan.model,
    choices: answers(plan, (index) => ({ index, message, logprobs: null, finish_reason: plan.finish })),
    usage: usageOf(plan, flavour),
    service_tier: 'default',
    system_fingerprint: 'fp_sim0000001',
  };
}

/** One choice object per answer returned (the simulated answers are alike). */
export function answers(plan: ChatPlan, choice: (index: number) => Json): Json[] {
  return Array.from({ length: plan.choices }, (_, index) => choice(index));
}
