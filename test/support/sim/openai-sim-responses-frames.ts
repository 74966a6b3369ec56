/**
 * Response objects and event streams of the OpenAI simulator's Responses API, in the shapes of
 * OpenAI's recordings (vercel/ai `openai-reasoning-encrypted-content.1.chunks.txt`,
 * `openai-custom-tool.1.chunks.txt`, `issue-19493-gpt-5.1-tool-call.chunks.txt`): every event
 * named and carrying its `type` and `sequence_number`; `response.created` and
 * `response.in_progress` with the Response echoing the request; per output item
 * `response.output_item.added`, its deltas and `.done` events (text deltas with `logprobs` and
 * `obfuscation`), `response.output_item.done`; last `response.completed` (or
 * `response.incomplete` after a `max_output_tokens` cut) with the output and usage. Items are
 * numbered by `output_index` and have OpenAI's id prefixes (`rs_`, `msg_`, `fc_`, `ctc_`).
 */
import { randomBytes } from 'node:crypto';
import type { ChatPlan } from './openai-sim-chat.js';
import { argFragments, completionTokens, splitText } from './openai-sim-chat.js';

type Json = Record<string, unknown>;

/** A tool the client declared, under the flat name the chat planner sees. */
export interface SimTool {
  kind: 'function' | 'custom';
  name: string;
  namespace?: string;
}

const ENCRYPTED_PREFIX = 'gAAAAAB';

/** Opaque to the client like OpenAI's Fernet tokens; the simulator can tell its own apart. */
export function encryptedReasoning(id: string): string {
  return ENCRYPTED_PREFIX + Buffer.from(JSON.stringify({ sim: 'reasoning', id })).toString('base64url');
}

export function issuedBySim(token: string): boolean {
  if (!token.startsWith(ENCRYPTED_PREFIX)) return false;
  try {
    const parsed: unknown = JSON.parse(
      Buffer.from(token.slice(ENCRYPTED_PREFIX.length), 'base64url').toString(),
    );
    return typeof parsed === 'object' && parsed !== null && (parsed as Json).sim === 'reasoning';
  } catch {
    return false;
  }
}

const REASONING_SUMMARY = '**Answering briefly**\n\nThe user greets me; a short friendly answer fits.';
/** reasoning tokens a reasoning answer reports (counted in output_tokens, as OpenAI does) */
const REASONING_TOKENS = 3;

export interface ResponsesPlan {
  plan: ChatPlan;
  request: Json;
  toolOf(flatName: string): SimTool;
  /** a reasoning item first */
  reasoning: boolean;
  /** with a summary (the request set `reasoning.summary`) */
  summary: boolean;
  /** with `encrypted_content` (`include: ["reasoning.encrypted_content"]`) */
  encrypted: boolean;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const obfuscation = (delta: string): string =>
  randomBytes(16)
    .toString('base64url')
    .slice(0, Math.max(1, 16 - delta.length));

/** Ids derived once per plan, so the stream's items and the final Response agree. */
const ids = new WeakMap<ChatPlan, { reasoning: string; message: string; calls: string[] }>();
function idsOf(rp: ResponsesPlan): { reasoning: string; message: string; calls: string[] } {
  let v = ids.get(rp.plan);
  if (!v) {
    v = {
      reasoning: `rs_${hex(24)}`,
      message: `msg_${hex(24)}`,
      calls: rp.plan.tools.map((t) => `${rp.toolOf(t.name).kind === 'custom' ? 'ctc' : 'fc'}_${hex(24)}`),
    };
    ids.set(rp.plan, v);
  }
  return v;
}

function reasoningItem(rp: ResponsesPlan, done: boolean): Json {
  const id = idsOf(rp).reasoning;
  return {
    id,
    type: 'reasoning',
    ...(rp.encrypted ? { encrypted_content: encryptedReasoning(id) } : {}),
    summary: done && rp.summary ? [{ type: 'summary_text', text: REASONING_SUMMARY }] : [],
  };
}

function textPart(text: string): Json {
  return { type: 'output_text', annotations: [], logprobs: [], text };
}

function messageItem(rp: ResponsesPlan, done: boolean): Json {
  const text = rp.plan.content.join('');
  return {
    id: idsOf(rp).message,
    type: 'message',
    status: done ? 'completed' : 'in_progress',
    content: done ? [textPart(text)] : [],
    role: 'assistant',
  };
}

function callItem(rp: ResponsesPlan, i: number, done: boolean): Json {
  const t = rp.plan.tools[i]!;
  const tool = rp.toolOf(t.name);
  const ns = tool.namespace === undefined ? {} : { namespace: tool.namespace };
  const id = idsOf(rp).calls[i]!;
  const status = done ? 'completed' : 'in_progress';
  if (tool.kind === 'custom') {
    const parsed = JSON.parse(t.args) as Json;
    const input = done && typeof parsed.input === 'string' ? parsed.input : '';
    return { id, type: 'custom_tool_call', status, call_id: t.id, name: tool.name, ...ns, input };
  }
  return {
    id,
    type: 'function_call',
    status,
    arguments: done ? t.args : '',
    call_id: t.id,
    name: tool.name,
    ...ns,
  };
}

function outputItems(rp: ResponsesPlan): Json[] {
  const items: Json[] = rp.reasoning ? [reasoningItem(rp, true)] : [];
  if (rp.plan.tools.length > 0) rp.plan.tools.forEach((_, i) => items.push(callItem(rp, i, true)));
  else items.push(messageItem(rp, true));
  return items;
}

function usage(rp: ResponsesPlan): Json {
  const reasoning = rp.reasoning ? REASONING_TOKENS : 0;
  const out = completionTokens(rp.plan) + reasoning;
  return {
    input_tokens: rp.plan.promptTokens,
    input_tokens_details: { cached_tokens: rp.plan.cachedTokens },
    output_tokens: out,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: rp.plan.promptTokens + out,
  };
}

const orNull = (v: unknown): unknown => v ?? null;

function response(rp: ResponsesPlan, state: 'in_progress' | 'done'): Json {
  const r = rp.request;
  const cut = rp.plan.finish === 'length';
  const reasoning = (typeof r.reasoning === 'object' && r.reasoning !== null ? r.reasoning : {}) as Json;
  const text = (typeof r.text === 'object' && r.text !== null ? r.text : {}) as Json;
  return {
    id: rp.plan.id.replace('chatcmpl-', 'resp_'),
    object: 'response',
    created_at: rp.plan.created,
    status: state === 'in_progress' ? 'in_progress' : cut ? 'incomplete' : 'completed',
    background: false,
    error: null,
    incomplete_details: state === 'done' && cut ? { reason: 'max_output_tokens' } : null,
    instructions: orNull(r.instructions),
    max_output_tokens: orNull(r.max_output_tokens),
    max_tool_calls: orNull(r.max_tool_calls),
    model: rp.plan.model,
    output: state === 'done' ? outputItems(rp) : [],
    parallel_tool_calls: r.parallel_tool_calls !== false,
    previous_response_id: orNull(r.previous_response_id),
    prompt_cache_key: orNull(r.prompt_cache_key),
    reasoning: { effort: orNull(reasoning.effort), summary: orNull(reasoning.summary) },
    safety_identifier: orNull(r.safety_identifier),
    service_tier: typeof r.service_tier === 'string' ? r.service_tier : 'auto',
    store: r.store !== false,
    temperature: typeof r.temperature === 'number' ? r.temperature : 1,
    text: { format: text.format ?? { type: 'text' }, verbosity: text.verbosity ?? 'medium' },
    tool_choice: r.tool_choice ?? 'auto',
    tools: Array.isArray(r.tools) ? r.tools : [],
    top_logprobs: 0,
    top_p: typeof r.top_p === 'number' ? r.top_p : 1,
    truncation: typeof r.truncation === 'string' ? r.truncation : 'disabled',
    usage: state === 'done' ? usage(rp) : null,
    user: orNull(r.user),
    metadata: r.metadata ?? {},
  };
}

export function responseBody(rp: ResponsesPlan): Json {
  return response(rp, 'done');
}

function reasoningEvents(rp: ResponsesPlan): Json[] {
  const at = { item_id: idsOf(rp).reasoning, output_index: 0 };
  const summary = rp.summary
    ? [
        {
          type: 'response.reasoning_summary_part.added',
          ...at,
          summary_index: 0,
          part: { type: 'summary_text', text: '' },
        },
        ...splitText(REASONING_SUMMARY, 4).map((delta) => ({
          type: 'response.reasoning_summary_text.delta',
          ...at,
          summary_index: 0,
          delta,
          obfuscation: obfuscation(delta),
        })),
        { type: 'response.reasoning_summary_text.done', ...at, summary_index: 0, text: REASONING_SUMMARY },
        {
          type: 'response.reasoning_summary_part.done',
          ...at,
          summary_index: 0,
          part: { type: 'summary_text', text: REASONING_SUMMARY },
        },
      ]
    : [];
  return [
    { type: 'response.output_item.added', output_index: 0, item: reasoningItem(rp, false) },
    ...summary,
    { type: 'response.output_item.done', output_index: 0, item: reasoningItem(rp, true) },
  ];
}

function textEvents(rp: ResponsesPlan, index: number): Json[] {
  const text = rp.plan.content.join('');
  const at = { item_id: idsOf(rp).message, output_index: index, content_index: 0 };
  return [
    { type: 'response.output_item.added', output_index: index, item: messageItem(rp, false) },
    { type: 'response.content_part.added', ...at, part: textPart('') },
    ...rp.plan.content.map((delta) => ({
      type: 'response.output_text.delta',
      ...at,
      delta,
      logprobs: [],
      obfuscation: obfuscation(delta),
    })),
    { type: 'response.output_text.done', ...at, text, logprobs: [] },
    { type: 'response.content_part.done', ...at, part: textPart(text) },
    { type: 'response.output_item.done', output_index: index, item: messageItem(rp, true) },
  ];
}

function callEvents(rp: ResponsesPlan, first: number): Json[] {
  return rp.plan.tools.flatMap((t, i) => {
    const index = first + i;
    const done = callItem(rp, i, true);
    const at = { item_id: done.id, output_index: index };
    const custom = done.type === 'custom_tool_call';
    const pieces = custom ? splitText(String(done.input), 3) : argFragments(t.args);
    const kind = custom ? 'custom_tool_call_input' : 'function_call_arguments';
    return [
      { type: 'response.output_item.added', output_index: index, item: callItem(rp, i, false) },
      ...pieces.map((delta) => ({
        type: `response.${kind}.delta`,
        ...at,
        delta,
        obfuscation: obfuscation(delta),
      })),
      custom
        ? { type: `response.${kind}.done`, ...at, input: done.input }
        : { type: `response.${kind}.done`, ...at, arguments: done.arguments },
      { type: 'response.output_item.done', output_index: index, item: done },
    ];
  });
}

/** The event stream; `data` repeats the event's name in `type`, as OpenAI sends it. */
export function responseFrames(rp: ResponsesPlan): string[] {
  const first = rp.reasoning ? 1 : 0;
  const final = response(rp, 'done');
  const events: Json[] = [
    { type: 'response.created', response: response(rp, 'in_progress') },
    { type: 'response.in_progress', response: response(rp, 'in_progress') },
    ...(rp.reasoning ? reasoningEvents(rp) : []),
    ...(rp.plan.tools.length > 0 ? callEvents(rp, first) : textEvents(rp, first)),
    { type: final.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response: final },
  ];
  return events.map(
    (e, i) => `event: ${String(e.type)}\ndata: ${JSON.stringify({ ...e, sequence_number: i })}\n\n`,
  );
}
