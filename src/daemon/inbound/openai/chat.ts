/**
 * An OpenAI chat request as the canonical request the adapters convert, for OpenAI clients served
 * by a channel of another protocol (passthrough forwards the client's bytes and never sees this).
 * Most requests are canonical already and come back as they are. Two older or newer shapes the
 * API accepts are rewritten so the adapters, which read `tools` and `tool_calls`, carry them:
 * the legacy function calling (`functions`, `function_call`, an assistant's `function_call` and
 * `role: "function"` results, answered by the earliest open call of that name) and the
 * `allowed_tools` tool choice (the tools narrowed to those allowed). Custom (freeform) tools have
 * no form outside OpenAI: they are dropped and named, with a forced choice of one; their calls
 * already in the conversation stay, as function calls with the text as `{"input": ...}`, so the
 * results that answer them still find them.
 */
import type {
  OpenAIChatRequest,
  OpenAIMessage,
  OpenAITool,
  OpenAIToolCall,
  OpenAIToolChoice,
} from '../../providers/openai/types.js';
import { isObject, type Json } from '../validate.js';

function needsRewrite(body: Json): boolean {
  if (body.functions !== undefined || body.function_call !== undefined) return true;
  if (isObject(body.tool_choice) && body.tool_choice.type !== 'function') return true;
  if (Array.isArray(body.tools) && body.tools.some((t) => !isObject(t) || t.type !== 'function')) return true;
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  return messages.some(
    (m) =>
      isObject(m) &&
      (m.role === 'function' ||
        m.function_call !== undefined ||
        (Array.isArray(m.tool_calls) && m.tool_calls.some((c) => isObject(c) && c.type === 'custom'))),
  );
}

function legacyTools(body: Json): OpenAITool[] {
  const fns = Array.isArray(body.functions) ? body.functions.filter(isObject) : [];
  return fns.map((f) => ({ type: 'function', function: f as OpenAITool['function'] }));
}

function functionTools(body: Json, dropped: string[]): OpenAITool[] {
  const out: OpenAITool[] = [];
  (Array.isArray(body.tools) ? (body.tools as unknown[]) : []).forEach((t, i) => {
    if (isObject(t) && t.type === 'function' && isObject(t.function)) out.push(t as unknown as OpenAITool);
    else dropped.push(`tools[${i}]`);
  });
  return [...out, ...legacyTools(body)];
}

/** tool_choice, or the legacy function_call; allowed_tools narrows `tools` and keeps its mode. */
function toolChoice(
  body: Json,
  tools: OpenAITool[],
  dropped: string[],
): {
  choice?: OpenAIToolChoice;
  tools: OpenAITool[];
} {
  const tc = body.tool_choice ?? body.function_call;
  if (tc === 'none' || tc === 'auto' || tc === 'required') return { choice: tc, tools };
  if (!isObject(tc)) return { tools };
  if (typeof tc.name === 'string')
    return { choice: { type: 'function', function: { name: tc.name } }, tools };
  if (tc.type === 'function') return { choice: tc as OpenAIToolChoice, tools };
  const allowed = isObject(tc.allowed_tools) ? tc.allowed_tools : undefined;
  if (tc.type === 'allowed_tools' && allowed !== undefined) {
    const names = (Array.isArray(allowed.tools) ? allowed.tools.filter(isObject) : []).map((t) =>
      isObject(t.function) ? t.function.name : undefined,
    );
    const kept = tools.filter((t) => names.includes(t.function.name));
    return { choice: allowed.mode === 'required' ? 'required' : 'auto', tools: kept };
  }
  dropped.push('tool_choice');
  return { tools };
}

/**
 * Legacy and custom calls in the conversation as function tool calls, and legacy results as tool
 * messages; a legacy result that answers no call has no tool form and is dropped.
 */
function rewriteMessages(messages: OpenAIMessage[], dropped: string[]): OpenAIMessage[] {
  const open: { id: string; name: string }[] = [];
  const ids = { seq: 0 };
  const out: OpenAIMessage[] = [];
  messages.forEach((raw, i) => {
    const m = raw as Json;
    if (m.role === 'assistant') out.push(assistantMessage(m, open, ids));
    else if (m.role !== 'function') out.push(raw);
    else {
      const at = open.findIndex((c) => c.name === m.name);
      const [call] = at === -1 ? [] : open.splice(at, 1);
      if (call === undefined) dropped.push(`messages[${i}]`);
      else
        out.push({
          role: 'tool',
          tool_call_id: call.id,
          content: typeof m.content === 'string' ? m.content : '',
        });
    }
  });
  return out;
}

function assistantMessage(
  m: Json,
  open: { id: string; name: string }[],
  ids: { seq: number },
): OpenAIMessage {
  const calls = (Array.isArray(m.tool_calls) ? m.tool_calls.filter(isObject) : []).map(asFunctionCall);
  const fc = m.function_call;
  if (isObject(fc)) {
    const id = `call_legacy_${ids.seq++}`;
    const name = typeof fc.name === 'string' ? fc.name : '';
    open.push({ id, name });
    const args = typeof fc.arguments === 'string' ? fc.arguments : '';
    calls.push({ id, type: 'function', function: { name, arguments: args } });
  }
  const { function_call: _fc, tool_calls: _tc, ...rest } = m;
  return { ...rest, ...(calls.length > 0 ? { tool_calls: calls } : {}) } as OpenAIMessage;
}

function asFunctionCall(c: Json): OpenAIToolCall {
  if (c.type !== 'custom' || !isObject(c.custom)) return c as unknown as OpenAIToolCall;
  const { id, custom } = c;
  const args = JSON.stringify({ input: typeof custom.input === 'string' ? custom.input : '' });
  const name = typeof custom.name === 'string' ? custom.name : '';
  return { id: typeof id === 'string' ? id : '', type: 'function', function: { name, arguments: args } };
}

/** The canonical form of an OpenAI chat body; what it cannot carry is named in `dropped`. */
export function canonicalChat(body: Json, dropped: string[]): OpenAIChatRequest {
  if (!needsRewrite(body)) return body as OpenAIChatRequest;
  const { functions: _f, function_call: _c, tools: _t, tool_choice: _tc, ...rest } = body;
  const { choice, tools } = toolChoice(body, functionTools(body, dropped), dropped);
  const out = {
    ...rest,
    messages: rewriteMessages(body.messages as OpenAIMessage[], dropped),
  } as OpenAIChatRequest;
  if (tools.length > 0) out.tools = tools;
  if (choice !== undefined && tools.length > 0) out.tool_choice = choice;
  return out;
}
