/**
 * A request's output limit, read and lowered in each front's own field: OpenAI chat
 * `max_completion_tokens` / `max_tokens`, legacy completions `max_tokens`, Responses
 * `max_output_tokens`, Anthropic `max_tokens`, Gemini `generationConfig.maxOutputTokens`. Admission
 * reads what the client asked for (any thinking budget that must fit inside it, and how many
 * answers the upstream bills output for: `n`, legacy `best_of`, Gemini `candidateCount`, each
 * with the limit applying per answer); when the budget can only pay for less, or the client set
 * no limit, the relay writes the reserved limit into the bytes it forwards (passthrough) or into
 * the canonical request it converts, so the upstream is held to what was reserved. Numbers are
 * read as leniently as an upstream might read them (numeric strings: Gemini's proto JSON and
 * OpenAI-compatible servers take them; both of Gemini's field spellings), so nothing the upstream
 * honours is missed. Endpoints without an output limit (embeddings, images, audio...) are not writable.
 */
import type { ChannelType } from '../../../shared/control-api.js';
import type { OpenAIChatRequest } from '../../providers/openai/types.js';
import { chatOutputField } from '../../providers/openai/request.js';
import { THINKING_BUDGETS } from '../../providers/anthropic/request.js';
import type { RelayContext } from '../context.js';

type Json = Record<string, unknown>;

/** What a request asks of its output, as admission needs it. */
export interface OutputRequest {
  /** the client's own output limit, if it set one */
  asked: number | undefined;
  /** a thinking budget the client set itself (Anthropic `budget_tokens`, Gemini `thinkingBudget`) */
  nativeThinking: number;
  /**
   * The thinking budget a reasoning effort becomes when the request is converted for a Claude
   * channel (which puts thinking on top of a limit not above it); 0 without an effort.
   */
  effortThinking: number;
  /** the limit can be written into this endpoint's body */
  writable: boolean;
  /**
   * Answers the upstream produces, and bills output for, when it serves the request as sent
   * (passthrough): chat and completions `n`, legacy `best_of` (billed for all best_of, n
   * returned) for each prompt of a legacy batch, Gemini `candidateCount`; 1 elsewhere.
   * Conversions drop these fields.
   */
  choices: number;
  /** an OpenAI chat `prediction`'s text: its rejected tokens are billed as output beyond the limit */
  prediction: string;
}

/** A positive count as an upstream may read it: a number or a numeric string, rounded up. */
function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? Math.ceil(n) : undefined;
}
const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;

/**
 * The larger of two spellings of a limit: upstreams differ in which one they honour when a client
 * sends both (OpenAI reads max_completion_tokens, DeepSeek only max_tokens).
 */
function most(...values: unknown[]): number | undefined {
  const set = values.map(num).filter((v): v is number => v !== undefined);
  return set.length > 0 ? Math.max(...set) : undefined;
}

/** Gemini's proto JSON takes a field by its camelCase or its snake_case name. */
const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
function protoField(o: Json | undefined, name: string): unknown {
  return o?.[name] ?? o?.[snake(name)];
}
/** A count by either proto JSON name, the larger if both are given. */
const protoCount = (o: Json | undefined, name: string): number | undefined =>
  most(o?.[name], o?.[snake(name)]);

/**
 * Prompts in a legacy completions request: each one gets its own answers. A list of strings or of
 * token lists is a batch; a string or one list of token ids is a single prompt.
 */
function promptCount(prompt: unknown): number {
  if (!Array.isArray(prompt) || prompt.length === 0) return 1;
  return prompt.every((p) => typeof p === 'number') ? 1 : prompt.length;
}

/** The text of an OpenAI predicted output (a string or text parts). */
function predictionText(p: unknown): string {
  const content = obj(p)?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (typeof obj(part)?.text === 'string' ? String(obj(part)?.text) : '')).join('');
}

/** The Claude thinking budget of an OpenAI reasoning effort (`none`: no thinking). */
export function effortBudget(effort: unknown): number {
  if (typeof effort !== 'string' || effort === 'none') return 0;
  if (effort === 'xhigh') return THINKING_BUDGETS.high;
  return Object.hasOwn(THINKING_BUDGETS, effort)
    ? THINKING_BUDGETS[effort as keyof typeof THINKING_BUDGETS]
    : 0;
}

type Front = 'chat' | 'completions' | 'responses' | 'messages' | 'gemini' | null;

function frontOf(ctx: RelayContext): Front {
  if (ctx.protocol === 'anthropic') return ctx.endpoint === '/v1/messages' ? 'messages' : null;
  if (ctx.protocol === 'gemini') return ctx.kind === 'chat' ? 'gemini' : null;
  if (ctx.endpoint === '/v1/chat/completions') return 'chat';
  if (ctx.endpoint === '/v1/completions') return 'completions';
  return ctx.endpoint === '/v1/responses' ? 'responses' : null;
}

export function readOutputRequest(ctx: RelayContext): OutputRequest {
  const b = ctx.body ?? {};
  const front = frontOf(ctx);
  const out: OutputRequest = {
    asked: undefined,
    nativeThinking: 0,
    effortThinking: 0,
    writable: front !== null,
    choices: 1,
    prediction: '',
  };
  switch (front) {
    case 'chat':
      out.asked = most(b.max_completion_tokens, b.max_tokens);
      out.choices = num(b.n) ?? 1;
      out.prediction = predictionText(b.prediction);
      break;
    case 'completions':
      out.asked = num(b.max_tokens);
      out.choices = promptCount(b.prompt) * Math.max(num(b.n) ?? 1, num(b.best_of) ?? 1);
      return out;
    case 'responses':
      out.asked = num(b.max_output_tokens);
      out.effortThinking = effortBudget(obj(b.reasoning)?.effort);
      return out;
    case 'messages': {
      out.asked = num(b.max_tokens);
      const thinking = obj(b.thinking);
      if (thinking?.type === 'enabled') out.nativeThinking = num(thinking.budget_tokens) ?? 0;
      break;
    }
    case 'gemini': {
      const gc = obj(protoField(b, 'generationConfig'));
      out.asked = protoCount(gc, 'maxOutputTokens');
      out.choices = protoCount(gc, 'candidateCount') ?? 1;
      out.nativeThinking = num(protoField(obj(protoField(gc, 'thinkingConfig')), 'thinkingBudget')) ?? 0;
      break;
    }
    default:
      // no field of its own: the generic names, for the reservation only
      out.asked = most(b.max_completion_tokens, b.max_tokens, b.max_output_tokens);
      return out;
  }
  out.effortThinking = effortBudget(ctx.canonical().reasoning_effort);
  return out;
}

const isSet = (v: unknown): boolean => v !== undefined && v !== null;

/**
 * Writes the reserved limit into `copy`, a shallow copy of the client's body about to be
 * forwarded to a channel of `type`. OpenAI chat: the field(s) the client used, else the one the
 * channel type reads (OpenAI's own API wants max_completion_tokens, compatible servers max_tokens).
 * Gemini: into the generation config by the name the client gave it, replacing either spelling.
 */
export function limitPassthrough(ctx: RelayContext, copy: Json, limit: number, type: ChannelType): void {
  switch (frontOf(ctx)) {
    case 'chat': {
      const used = ['max_completion_tokens', 'max_tokens'].filter((f) => isSet(copy[f]));
      for (const f of used.length > 0 ? used : [chatOutputField(type)]) copy[f] = limit;
      return;
    }
    case 'completions':
    case 'messages':
      copy.max_tokens = limit;
      return;
    case 'responses':
      copy.max_output_tokens = limit;
      return;
    case 'gemini': {
      const name =
        copy.generationConfig === undefined && obj(copy.generation_config)
          ? 'generation_config'
          : 'generationConfig';
      const { max_output_tokens: _snake, ...rest } = obj(copy[name]) ?? {};
      copy[name] = { ...rest, maxOutputTokens: limit };
      return;
    }
    default:
      return;
  }
}

/** The canonical request with the lowered limit, in the field(s) it already uses, else max_tokens. */
export function limitCanonical(req: OpenAIChatRequest, limit: number): OpenAIChatRequest {
  const out = { ...req };
  const used = isSet(req.max_completion_tokens) || isSet(req.max_tokens);
  if (isSet(req.max_completion_tokens)) out.max_completion_tokens = limit;
  if (isSet(req.max_tokens) || !used) out.max_tokens = limit;
  return out;
}
