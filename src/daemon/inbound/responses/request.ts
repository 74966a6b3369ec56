/**
 * OpenAI Responses request -> canonical chat request, for Responses clients (the Vercel AI SDK's
 * default OpenAI model, Codex, `client.responses.create`) served by a channel that speaks another
 * protocol. On OpenAI-protocol channels the request passes through untouched and none of this runs.
 *
 * Input items become chat messages in order: `message` items by role (developer and system become
 * system messages), `function_call` and `custom_tool_call` items join the assistant turn before
 * them as tool calls, and their outputs become `tool` messages. Tools (top-level and from
 * `additional_tools` items) are mapped in tools.ts. What needs OpenAI's own server state
 * (`previous_response_id`, `conversation`, stored prompts, background runs) is refused with a 400
 * naming the field; items only OpenAI can use (reasoning, hosted tool calls, compactions) and a
 * tool output whose call was dropped are dropped and named in `dropped`.
 */
import { BcError } from '../../../shared/errors.js';
import type {
  OpenAIChatRequest,
  OpenAIContentPart,
  OpenAIMessage,
  OpenAIResponseFormat,
  OpenAIToolCall,
  OpenAIToolChoice,
} from '../../providers/openai/types.js';
import { invalid, isObject, type Json } from '../validate.js';
import { chatTools, ToolMap } from './tools.js';

/** Fields converted below, or that only concern OpenAI's side and need no conversion. */
const HANDLED = new Set([
  'model',
  'input',
  'instructions',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_output_tokens',
  'temperature',
  'top_p',
  'text',
  'reasoning',
  'user',
  'safety_identifier',
  'metadata',
  'store',
  'include',
  'truncation',
  'service_tier',
  'prompt_cache_key',
  'background',
]);

/** Fields that only make sense against OpenAI's stored state. */
const STATEFUL = ['previous_response_id', 'conversation', 'prompt'];

const EFFORTS = new Set(['minimal', 'low', 'medium', 'high']);
/** efforts newer models take beyond chat's `high` (Codex offers them for its default models) */
const ABOVE_HIGH = new Set(['xhigh', 'max', 'ultra']);

function needsOpenAI(field: string, why: string): BcError {
  return new BcError(
    'INVALID_REQUEST',
    `${field}: ${why}; the gateway keeps no responses, so a channel of another protocol cannot serve it (send the whole conversation in "input", or route this model to an OpenAI channel)`,
    { param: field },
  );
}

export function responsesToOpenAI(body: Json, dropped: string[]): OpenAIChatRequest {
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) throw invalid('model', 'must be a non-empty string');
  for (const f of STATEFUL)
    if (body[f] !== undefined && body[f] !== null) throw needsOpenAI(f, 'refers to state kept by OpenAI');
  if (body.background === true) throw needsOpenAI('background', "runs a response on OpenAI's side");

  const messages: OpenAIMessage[] = [];
  if (body.instructions !== undefined && body.instructions !== null) {
    if (typeof body.instructions !== 'string') throw invalid('instructions', 'must be a string');
    messages.push({ role: 'system', content: body.instructions });
  }
  const tools = new ToolMap();
  const chatToolList = chatTools(body, tools, dropped);
  messages.push(...inputMessages(body.input, { dropped, tools, calls: new Set() }));
  const out: OpenAIChatRequest = { model, messages };
  if (body.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  const max = body.max_output_tokens;
  if (typeof max === 'number') out.max_completion_tokens = max;
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (typeof body.parallel_tool_calls === 'boolean') out.parallel_tool_calls = body.parallel_tool_calls;
  const user = body.safety_identifier ?? body.user;
  if (typeof user === 'string') out.user = user;
  if (isObject(body.metadata)) out.metadata = body.metadata;
  applyTools(body, chatToolList, tools, out, dropped);
  const format = responseFormat(body.text);
  if (format) out.response_format = format;
  if (isObject(body.text) && body.text.verbosity !== undefined && body.text.verbosity !== null)
    dropped.push('text.verbosity');
  const effort = isObject(body.reasoning) ? body.reasoning.effort : undefined;
  if (typeof effort === 'string' && EFFORTS.has(effort))
    out.reasoning_effort = effort as OpenAIChatRequest['reasoning_effort'];
  else if (typeof effort === 'string' && ABOVE_HIGH.has(effort)) out.reasoning_effort = 'high';
  for (const [k, v] of Object.entries(body))
    if (!HANDLED.has(k) && v !== undefined && v !== null) dropped.push(k);
  return out;
}

/** What the item conversion carries along: drops, the tool names, the call ids kept so far. */
interface ItemContext {
  dropped: string[];
  tools: ToolMap;
  calls: Set<string>;
}

function inputMessages(input: unknown, ctx: ItemContext): OpenAIMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input))
    throw invalid('input', input === undefined ? 'Field required' : 'must be a string or an array of items');
  const out: OpenAIMessage[] = [];
  input.forEach((item: unknown, i) => {
    const where = `input[${i}]`;
    if (!isObject(item)) throw invalid(where, 'must be an object');
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    switch (type) {
      case 'message':
        out.push(messageItem(item, where, ctx.dropped));
        return;
      case 'function_call':
      case 'custom_tool_call':
        addToolCall(out, toolCall(item, where, ctx));
        return;
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const call = str(item, 'call_id', where);
        // an output whose call was dropped would reach the upstream as an orphan, which it refuses
        if (ctx.calls.has(call)) out.push(toolOutput(item, call, where, ctx.dropped));
        else
          ctx.dropped.push(
            `${where}.${item.type === 'custom_tool_call_output' ? item.type : 'function_call_output'}`,
          );
        return;
      }
      case 'additional_tools':
        // its tools were taken with the request's own (tools.ts)
        return;
      default:
        // reasoning (encrypted or summarised, readable only by OpenAI), hosted tool calls,
        // compactions, item references: nothing another upstream can use
        ctx.dropped.push(`${where}.${typeof type === 'string' ? type : 'unknown'}`);
    }
  });
  return out;
}

function str(item: Json, field: string, where: string): string {
  const v = item[field];
  if (typeof v !== 'string') throw invalid(`${where}.${field}`, 'must be a string');
  return v;
}

function messageItem(item: Json, where: string, dropped: string[]): OpenAIMessage {
  const role = item.role;
  const content = item.content;
  if (role === 'assistant') return { role: 'assistant', content: textOf(content, `${where}.content`) };
  if (role === 'system' || role === 'developer')
    return { role: 'system', content: textOf(content, `${where}.content`) };
  if (role !== 'user') throw invalid(`${where}.role`, 'must be one of user, assistant, system, developer');
  if (typeof content === 'string') return { role: 'user', content };
  if (!Array.isArray(content)) throw invalid(`${where}.content`, 'must be a string or an array of parts');
  const parts: OpenAIContentPart[] = [];
  content.forEach((p: unknown, j) => {
    const part = userPart(p, `${where}.content[${j}]`, dropped);
    if (part) parts.push(part);
  });
  return { role: 'user', content: parts };
}

function userPart(p: unknown, where: string, dropped: string[]): OpenAIContentPart | undefined {
  if (!isObject(p)) throw invalid(where, 'must be an object');
  switch (p.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      return { type: 'text', text: str(p, 'text', where) };
    case 'input_image': {
      if (typeof p.image_url !== 'string') {
        dropped.push(`${where}.file_id`);
        return undefined;
      }
      const detail = p.detail === 'low' || p.detail === 'high' ? p.detail : 'auto';
      return { type: 'image_url', image_url: { url: p.image_url, detail } };
    }
    case 'input_file':
      if (typeof p.file_data !== 'string') {
        dropped.push(`${where}.file_id`);
        return undefined;
      }
      return {
        type: 'file',
        file: { file_data: p.file_data, ...(typeof p.filename === 'string' ? { filename: p.filename } : {}) },
      };
    default:
      dropped.push(`${where}.${String(p.type)}`);
      return undefined;
  }
}

/** Text of an assistant or system turn: a string, or its text parts joined. */
function textOf(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(where, 'must be a string or an array of parts');
  return content
    .map((p: unknown, j) => {
      if (!isObject(p)) throw invalid(`${where}[${j}]`, 'must be an object');
      if (typeof p.text === 'string') return p.text;
      return typeof p.refusal === 'string' ? p.refusal : '';
    })
    .join('');
}

function toolCall(item: Json, where: string, ctx: ItemContext): OpenAIToolCall {
  const id = str(item, 'call_id', where);
  const name = ctx.tools.chatName(str(item, 'name', where), item.namespace);
  ctx.calls.add(id);
  const args =
    item.type === 'custom_tool_call'
      ? JSON.stringify({ input: typeof item.input === 'string' ? item.input : '' })
      : typeof item.arguments === 'string'
        ? item.arguments
        : '{}';
  return { id, type: 'function', function: { name, arguments: args } };
}

/** A function call joins the assistant turn just before it, or opens one. */
function addToolCall(out: OpenAIMessage[], call: OpenAIToolCall): void {
  const last = out[out.length - 1];
  if (last?.role === 'assistant') (last.tool_calls ??= []).push(call);
  else out.push({ role: 'assistant', content: null, tool_calls: [call] });
}

function toolOutput(item: Json, call: string, where: string, dropped: string[]): OpenAIMessage {
  const output = item.output;
  let content: string;
  if (typeof output === 'string') content = output;
  else if (Array.isArray(output)) {
    content = output
      .map((p: unknown, j) => {
        if (isObject(p) && typeof p.text === 'string') return p.text;
        dropped.push(`${where}.output[${j}]`);
        return '';
      })
      .join('');
  } else throw invalid(`${where}.output`, 'must be a string or an array of parts');
  return { role: 'tool', tool_call_id: call, content };
}

function applyTools(
  body: Json,
  tools: OpenAIChatRequest['tools'],
  map: ToolMap,
  out: OpenAIChatRequest,
  dropped: string[],
): void {
  if (tools && tools.length > 0) out.tools = tools;
  const choice = toolChoice(body.tool_choice, map);
  if (choice) out.tool_choice = choice;
  else if (body.tool_choice !== undefined && body.tool_choice !== null) dropped.push('tool_choice');
}

/** A forced function or custom tool is forced by its chat name; hosted and allowed-tools choices drop. */
function toolChoice(tc: unknown, map: ToolMap): OpenAIToolChoice | undefined {
  if (tc === 'auto' || tc === 'none' || tc === 'required') return tc;
  if (isObject(tc) && (tc.type === 'function' || tc.type === 'custom') && typeof tc.name === 'string')
    return { type: 'function', function: { name: map.chatName(tc.name, tc.namespace) } };
  return undefined;
}

function responseFormat(text: unknown): OpenAIResponseFormat | undefined {
  if (!isObject(text) || !isObject(text.format)) return undefined;
  const f = text.format;
  if (f.type === 'json_object') return { type: 'json_object' };
  if (f.type !== 'json_schema') return undefined;
  const schema = {
    name: typeof f.name === 'string' ? f.name : 'response',
    ...(isObject(f.schema) ? { schema: f.schema } : {}),
    ...(typeof f.strict === 'boolean' ? { strict: f.strict } : {}),
    ...(typeof f.description === 'string' ? { description: f.description } : {}),
  };
  return { type: 'json_schema', json_schema: schema };
}
