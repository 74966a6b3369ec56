/**
 * The OpenAI simulator's Chat Completions request checks, made as api.openai.com makes them, so
 * that a converter's mistake reaches a test as the 400 OpenAI would send: an unknown top-level
 * argument, an unknown role, a property a message of that role does not have (another
 * provider's `reasoning_content`, `thinking_blocks`, a tool call's `extra_content`, a content
 * part's `cache_control`), an unknown content part type, a `tool` message that does not answer
 * the assistant `tool_calls` right before it, and tool calls left without answers. Messages,
 * params and codes are OpenAI's own (the recorded and reported ones).
 */

type Json = Record<string, unknown>;

export interface ChatRefusal {
  message: string;
  param: string | null;
  code: string | null;
}

/** Chat Completions request arguments, as the API reference lists them. */
const ARGUMENTS = new Set([
  'model',
  'messages',
  'audio',
  'frequency_penalty',
  'function_call',
  'functions',
  'logit_bias',
  'logprobs',
  'max_completion_tokens',
  'max_tokens',
  'metadata',
  'modalities',
  'n',
  'parallel_tool_calls',
  'prediction',
  'presence_penalty',
  'prompt_cache_key',
  'prompt_cache_retention',
  'reasoning_effort',
  'response_format',
  'safety_identifier',
  'seed',
  'service_tier',
  'stop',
  'store',
  'stream',
  'stream_options',
  'temperature',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'user',
  'verbosity',
  'web_search_options',
]);

/** Properties per message role. */
const MESSAGE_FIELDS: Record<string, readonly string[]> = {
  system: ['role', 'content', 'name'],
  developer: ['role', 'content', 'name'],
  user: ['role', 'content', 'name'],
  assistant: ['role', 'content', 'name', 'refusal', 'tool_calls', 'function_call', 'audio'],
  tool: ['role', 'content', 'tool_call_id', 'name'],
  function: ['role', 'content', 'name'],
};

/** Properties per content part type, and of the object each type carries. */
const PART_FIELDS: Record<string, readonly string[]> = {
  text: ['type', 'text'],
  image_url: ['type', 'image_url'],
  input_audio: ['type', 'input_audio'],
  file: ['type', 'file'],
  refusal: ['type', 'refusal'],
};
const PART_INNER: Record<string, readonly string[]> = {
  image_url: ['url', 'detail'],
  input_audio: ['data', 'format'],
  file: ['file_data', 'file_id', 'filename'],
};

const TOOL_CALL_FIELDS: Record<string, readonly string[]> = {
  function: ['id', 'type', 'function'],
  custom: ['id', 'type', 'custom'],
};

class Refusal extends Error {
  constructor(
    message: string,
    readonly param: string | null,
    readonly code: string | null,
  ) {
    super(message);
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownParameter(param: string): Refusal {
  return new Refusal(`Unknown parameter: '${param}'.`, param, 'unknown_parameter');
}

function onlyKnown(obj: Json, allowed: readonly string[], at: string): void {
  const extra = Object.keys(obj).find((k) => !allowed.includes(k));
  if (extra !== undefined) throw unknownParameter(`${at}.${extra}`);
}

function checkParts(content: unknown, at: string): void {
  if (!Array.isArray(content)) return;
  content.forEach((raw, j) => {
    const where = `${at}.content[${j}]`;
    if (!isObject(raw)) return;
    const type = String(raw.type);
    const fields = PART_FIELDS[type];
    if (fields === undefined)
      throw new Refusal(
        `Invalid value: '${type}'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', 'audio', and 'file'.`,
        `${where}.type`,
        'invalid_value',
      );
    onlyKnown(raw, fields, where);
    const inner = raw[type];
    const innerFields = PART_INNER[type];
    if (innerFields !== undefined && isObject(inner)) onlyKnown(inner, innerFields, `${where}.${type}`);
  });
}

function checkMessage(m: unknown, i: number): Json {
  const at = `messages[${i}]`;
  if (!isObject(m)) throw new Refusal(`Invalid type for '${at}': expected an object.`, at, 'invalid_type');
  const role = String(m.role);
  const fields = MESSAGE_FIELDS[role];
  if (fields === undefined)
    throw new Refusal(
      `Invalid value: '${role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
      `${at}.role`,
      'invalid_value',
    );
  onlyKnown(m, fields, at);
  checkParts(m.content, at);
  if (Array.isArray(m.tool_calls)) {
    m.tool_calls.forEach((call, j) => {
      if (!isObject(call)) return;
      onlyKnown(
        call,
        TOOL_CALL_FIELDS[String(call.type)] ?? TOOL_CALL_FIELDS.function!,
        `${at}.tool_calls[${j}]`,
      );
    });
  }
  return m;
}

function callIds(m: Json): string[] {
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  return calls.filter(isObject).map((c) => String(c.id));
}

/**
 * Every `tool` message answers a call of the assistant message before the run of tool messages
 * it belongs to, and every such call is answered before the next other message (or the end).
 */
function checkToolTurns(messages: Json[]): void {
  let open: { at: number; ids: string[]; answered: string[] } | undefined;
  const unanswered = (): Refusal | undefined =>
    open !== undefined && open.ids.length > 0
      ? new Refusal(
          `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${open.ids.join(', ')}`,
          `messages.[${open.at}].role`,
          null,
        )
      : undefined;
  messages.forEach((m, i) => {
    if (m.role === 'tool') {
      if (open === undefined)
        throw new Refusal(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages.[${i}].role`,
          null,
        );
      const id = String(m.tool_call_id);
      if (!open.ids.includes(id) && !open.answered.includes(id))
        throw new Refusal(
          `Invalid parameter: 'tool_call_id' of '${id}' not found in 'tool_calls' of previous message.`,
          `messages.[${i}].tool_call_id`,
          null,
        );
      open.ids = open.ids.filter((x) => x !== id);
      open.answered.push(id);
      return;
    }
    const err = unanswered();
    if (err !== undefined) throw err;
    const ids = m.role === 'assistant' ? callIds(m) : [];
    open = ids.length > 0 ? { at: i, ids, answered: [] } : undefined;
  });
  const err = unanswered();
  if (err !== undefined) throw err;
}

/** What OpenAI would refuse in this chat request, in its words; undefined when nothing. */
export function chatRequestProblem(body: Json): ChatRefusal | undefined {
  try {
    const unknown = Object.keys(body).find((k) => !ARGUMENTS.has(k));
    if (unknown !== undefined) throw unknownParameter(unknown);
    const messages = Array.isArray(body.messages) ? body.messages.map(checkMessage) : [];
    checkToolTurns(messages);
    return undefined;
  } catch (err) {
    if (err instanceof Refusal) return { message: err.message, param: err.param, code: err.code };
    throw err;
  }
}
