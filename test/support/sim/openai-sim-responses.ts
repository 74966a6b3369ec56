/**
 * The OpenAI simulator's Responses API (`POST /v1/responses`): reads a request as the chat
 * planner knows it and answers with the Response object or the named, numbered event stream
 * (openai-sim-responses-frames.ts). Tools come from `tools` and from `additional_tools` input
 * items, as Codex sends them: functions, custom (free-form) tools and namespaces of either; the
 * simulated model calls the first one offered (`custom_tool_call` for a custom tool, the
 * `namespace` kept on the call) and answers in text once a tool's output is the last item, so an
 * agent's conversation ends after one round trip. A request that asks for reasoning gets a
 * reasoning item first, with `encrypted_content` when `include` asks for it.
 *
 * It refuses what OpenAI refuses: a tool output whose call is not in the input, a reasoning item
 * that only names a stored item while `store` is false, and encrypted reasoning it did not issue.
 */
import type { ChatKnobs, ChatPlan, Flavour } from './openai-sim-chat.js';
import { planChat } from './openai-sim-chat.js';
import {
  issuedBySim,
  responseBody,
  responseFrames,
  type ResponsesPlan,
  type SimTool,
} from './openai-sim-responses-frames.js';

type Json = Record<string, unknown>;

export interface SimRefusal {
  status: number;
  message: string;
  code: string | null;
  param: string | null;
}

export type ResponsesAnswer = { refusal: SimRefusal } | { refusal?: undefined; body: Json; frames: string[] };

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function flatName(name: string, namespace: string | undefined): string {
  return namespace === undefined ? name : `${namespace}.${name}`;
}

/** Every function and custom tool the request offers, namespaces opened, in order. */
function declaredTools(body: Json): { tool: SimTool; def: Json }[] {
  const out: { tool: SimTool; def: Json }[] = [];
  const take = (list: unknown, namespace?: string): void => {
    for (const def of Array.isArray(list) ? (list as unknown[]) : []) {
      if (!isObj(def)) continue;
      if (def.type === 'namespace' && typeof def.name === 'string') take(def.tools, def.name);
      else if ((def.type === 'function' || def.type === 'custom') && typeof def.name === 'string')
        out.push({ tool: { kind: def.type, name: def.name, ...(namespace ? { namespace } : {}) }, def });
    }
  };
  take(body.tools);
  for (const item of Array.isArray(body.input) ? (body.input as unknown[]) : [])
    if (isObj(item) && item.type === 'additional_tools') take(item.tools);
  return out;
}

const CALL_TYPES = new Set(['function_call', 'custom_tool_call', 'local_shell_call']);
const OUTPUT_TYPES: Record<string, string> = {
  function_call_output: 'function call output',
  custom_tool_call_output: 'custom tool call output',
  local_shell_call_output: 'local shell call output',
};

function refuse(
  status: number,
  message: string,
  param: string | null,
  code: string | null = null,
): SimRefusal {
  return { status, message, code, param };
}

/** What OpenAI refuses in `input` (checked in order, first problem wins). */
function inputProblem(body: Json): SimRefusal | undefined {
  const items = Array.isArray(body.input) ? (body.input as unknown[]) : [];
  const calls = new Set<string>();
  for (const item of items) {
    if (!isObj(item)) continue;
    const type = String(item.type);
    if (CALL_TYPES.has(type) && typeof item.call_id === 'string') calls.add(item.call_id);
    if (type in OUTPUT_TYPES && !calls.has(String(item.call_id)))
      return refuse(
        400,
        `No tool call found for ${OUTPUT_TYPES[type]} with call_id ${String(item.call_id)}.`,
        'input',
      );
    if (type !== 'reasoning') continue;
    const encrypted = item.encrypted_content;
    if (typeof encrypted === 'string' && !issuedBySim(encrypted))
      return refuse(
        400,
        'The encrypted content could not be verified.',
        'input',
        'invalid_encrypted_content',
      );
    if (typeof encrypted !== 'string' && typeof item.id === 'string' && body.store === false)
      return refuse(
        404,
        `Item with id '${item.id}' not found. Items are not persisted when \`store\` is set to false. Try again with \`store\` set to true, or remove this item from your input.`,
        'input',
      );
  }
  return undefined;
}

/** The request as the chat planner reads it: items as turns, every tool as a flat function. */
function chatView(body: Json, tools: { tool: SimTool; def: Json }[]): Json {
  const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  const messages: Json[] = [];
  for (const item of Array.isArray(input) ? (input as unknown[]) : []) {
    if (!isObj(item)) continue;
    const type = typeof item.type === 'string' ? item.type : 'message';
    if (type === 'message') messages.push({ role: item.role, content: item.content });
    else if (CALL_TYPES.has(type)) messages.push({ role: 'assistant', tool_calls: [{ id: item.call_id }] });
    else if (type in OUTPUT_TYPES)
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: item.output });
  }
  const chatTools = tools.map(({ tool, def }) => ({
    type: 'function',
    function: {
      name: flatName(tool.name, tool.namespace),
      parameters:
        tool.kind === 'custom'
          ? { type: 'object', properties: { input: { type: 'string' } }, required: ['input'] }
          : def.parameters,
    },
  }));
  const choice = body.tool_choice;
  const toolChoice =
    isObj(choice) && typeof choice.name === 'string'
      ? {
          type: 'function',
          function: {
            name: flatName(choice.name, typeof choice.namespace === 'string' ? choice.namespace : undefined),
          },
        }
      : choice;
  const max = body.max_output_tokens;
  return {
    model: body.model,
    messages,
    tools: chatTools,
    tool_choice: toolChoice,
    ...(typeof max === 'number' ? { max_completion_tokens: max } : {}),
  };
}

function wantsReasoning(body: Json): boolean {
  return isObj(body.reasoning) && body.reasoning.effort !== 'none';
}

/** The answer to one Responses request: a refusal, or the Response and its stream. */
export function answerResponses(body: Json, knobs: ChatKnobs, flavour: Flavour): ResponsesAnswer {
  const problem = inputProblem(body);
  if (problem) return { refusal: problem };
  const tools = declaredTools(body);
  const plan: ChatPlan = planChat(chatView(body, tools), knobs, flavour);
  const byName = new Map(tools.map(({ tool }) => [flatName(tool.name, tool.namespace), tool]));
  const include = Array.isArray(body.include) ? (body.include as unknown[]) : [];
  const rp: ResponsesPlan = {
    plan,
    request: body,
    toolOf: (name) => byName.get(name) ?? { kind: 'function', name },
    reasoning: wantsReasoning(body),
    summary: isObj(body.reasoning) && typeof body.reasoning.summary === 'string',
    encrypted: include.includes('reasoning.encrypted_content'),
  };
  return { body: responseBody(rp), frames: responseFrames(rp) };
}
