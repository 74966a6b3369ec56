/**
 * The client's tools as a chat upstream sees them, and the way back. Responses clients declare
 * tools in `tools` and, as Codex does, in `additional_tools` input items; a tool is a `function`,
 * a `custom` tool (free-form text input, optionally held to a grammar) or a `namespace` grouping
 * either kind. Chat APIs know only flat functions, so a namespaced tool becomes `ns__name` and a
 * custom tool a function of one string parameter, `input`. The map kept here turns the upstream's
 * calls back into what the client declared: a `function_call` carrying its `namespace`, or a
 * `custom_tool_call` with the raw input. Hosted tools (web search, file search, ...) run on
 * OpenAI's side; they are dropped and named.
 */
import type { OpenAITool } from '../../providers/openai/types.js';
import { invalid, isObject, type Json } from '../validate.js';

/** What the client declared for one chat function name. */
export interface ClientTool {
  kind: 'function' | 'custom';
  name: string;
  namespace?: string;
}

/** Chat function names -> the client's tools, plus bare names that point at one namespaced tool. */
export class ToolMap {
  readonly byChatName = new Map<string, ClientTool>();
  private readonly bare = new Map<string, string | null>();

  add(tool: ClientTool): string {
    const chat = chatToolName(tool.name, tool.namespace);
    this.byChatName.set(chat, tool);
    if (tool.namespace !== undefined) {
      // a bare name is resolvable only when exactly one namespace declares it
      this.bare.set(tool.name, this.bare.has(tool.name) ? null : chat);
    }
    return chat;
  }

  /** The chat name for a call the client sent back (with or without its namespace). */
  chatName(name: string, namespace: unknown): string {
    if (typeof namespace === 'string' && namespace.length > 0) return chatToolName(name, namespace);
    if (this.byChatName.has(name)) return name;
    return this.bare.get(name) ?? name;
  }

  /** The client's tool behind an upstream call; an unknown name is taken as a plain function. */
  lookup(chatName: string): ClientTool {
    return this.byChatName.get(chatName) ?? { kind: 'function', name: chatName };
  }
}

export function chatToolName(name: string, namespace: string | undefined): string {
  return namespace === undefined ? name : `${namespace}__${name}`;
}

interface Declared {
  def: Json;
  where: string;
  namespace?: string;
}

/** Every tool definition of the request, namespaces opened, in the order the client gave them. */
function declaredTools(body: Json): Declared[] {
  const out: Declared[] = [];
  const take = (list: unknown, where: string): void => {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) throw invalid(where, 'must be an array');
    list.forEach((t: unknown, i) => {
      const at = `${where}[${i}]`;
      if (!isObject(t)) throw invalid(at, 'must be an object');
      if (t.type !== 'namespace') return void out.push({ def: t, where: at });
      if (typeof t.name !== 'string') throw invalid(`${at}.name`, 'must be a string');
      const inner: unknown = t.tools;
      if (!Array.isArray(inner)) throw invalid(`${at}.tools`, 'must be an array');
      inner.forEach((d: unknown, j) => {
        if (!isObject(d)) throw invalid(`${at}.tools[${j}]`, 'must be an object');
        out.push({ def: d, where: `${at}.tools[${j}]`, namespace: t.name as string });
      });
    });
  };
  take(body.tools, 'tools');
  if (Array.isArray(body.input))
    body.input.forEach((item: unknown, i) => {
      if (isObject(item) && item.type === 'additional_tools') take(item.tools, `input[${i}].tools`);
    });
  return out;
}

function customDescription(def: Json): string {
  const base = typeof def.description === 'string' ? def.description : '';
  const format = isObject(def.format) ? def.format : undefined;
  if (format?.type !== 'grammar' || typeof format.definition !== 'string') return base;
  const syntax = typeof format.syntax === 'string' ? format.syntax : 'grammar';
  const rule = `The "input" argument must follow this ${syntax} grammar:\n${format.definition}`;
  return base.length > 0 ? `${base}\n\n${rule}` : rule;
}

function chatTool(d: Declared, name: string): OpenAITool {
  if (d.def.type === 'custom') {
    const parameters = {
      type: 'object',
      properties: { input: { type: 'string', description: 'The raw input of this tool.' } },
      required: ['input'],
      additionalProperties: false,
    };
    return { type: 'function', function: { name, description: customDescription(d.def), parameters } };
  }
  const fn: OpenAITool['function'] = { name };
  if (typeof d.def.description === 'string') fn.description = d.def.description;
  if (isObject(d.def.parameters)) fn.parameters = d.def.parameters;
  if (typeof d.def.strict === 'boolean') fn.strict = d.def.strict;
  return { type: 'function', function: fn };
}

/** The request's tools as chat functions; hosted tools are named in `dropped`. */
export function chatTools(body: Json, map: ToolMap, dropped: string[]): OpenAITool[] {
  const out: OpenAITool[] = [];
  for (const d of declaredTools(body)) {
    const kind = d.def.type;
    if (kind !== 'function' && kind !== 'custom') {
      dropped.push(`tools.${String(kind)}`);
      continue;
    }
    if (typeof d.def.name !== 'string' || d.def.name.length === 0)
      throw invalid(`${d.where}.name`, 'must be a non-empty string');
    const name = map.add({ kind, name: d.def.name, ...(d.namespace ? { namespace: d.namespace } : {}) });
    out.push(chatTool(d, name));
  }
  return out;
}

/** The map alone, for the answer's side (built from the same declarations as the request's tools). */
export function toolMapOf(body: Json): ToolMap {
  const map = new ToolMap();
  try {
    chatTools(body, map, []);
  } catch {
    // a malformed declaration is refused by the request conversion, which runs first
  }
  return map;
}

/** A custom tool's raw input from the chat arguments (`{"input": ...}`), or the arguments as sent. */
export function customInput(args: string): string {
  try {
    const parsed: unknown = JSON.parse(args);
    if (isObject(parsed) && typeof parsed.input === 'string') return parsed.input;
  } catch {
    // not JSON: the upstream wrote the input itself
  }
  return args;
}
