/**
 * The Gemini simulator's request checks, made as the real API makes them, so that a converter's
 * mistake reaches a test as the 400 real Gemini would send. The body is proto JSON: every field
 * has a camelCase and a snake_case name, and an unknown name anywhere (a part, a function call,
 * generationConfig, a schema; names in gemini-sim-fields.ts) is refused before anything else
 * looks at it. Then the contents: roles user and model (and the older function), parts
 * non-empty, each part holding exactly one kind of data, named function calls and responses, and
 * a function-response turn that answers the function-call turn right before it (as many
 * responses as calls, the same names). Tools: function names
 * Gemini accepts, top-level OBJECT parameters with properties, `required` naming properties,
 * a type on every property schema. thinkingConfig as each model family takes it (none before
 * 2.5, no thinkingLevel on 2.5, no MINIMAL level on 3 Pro, no zero budget on 2.5 Pro). Messages
 * are Gemini's own wording.
 */
import { DATA, FIELDS } from './gemini-sim-fields.js';

type Json = Record<string, unknown>;

/** `function` is the older API's role for function responses; Gemini still takes it (Portkey sends it). */
const ROLES = ['user', 'model', 'function'];

const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

/** A refusal: the message Gemini answers with (400 INVALID_ARGUMENT). */
class Refusal extends Error {}

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field by either of its names; JSON null is an unset field in proto JSON. */
function field(obj: Json, name: string): unknown {
  return obj[name] ?? obj[snake(name)] ?? undefined;
}

function known(obj: unknown, kind: string, at: string): Json {
  if (!isObject(obj)) {
    throw new Refusal(`Invalid JSON payload received. Invalid value at '${at}': expected an object.`);
  }
  const names = FIELDS[kind] ?? [];
  for (const key of Object.keys(obj)) {
    if (!names.includes(camel(key))) {
      const where = at === '' ? '' : ` at '${at}'`;
      throw new Refusal(`Invalid JSON payload received. Unknown name "${key}"${where}: Cannot find field.`);
    }
  }
  return obj;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function checkPart(raw: unknown, at: string): Json {
  const part = known(raw, 'part', at);
  const data = Object.keys(part).filter((k) => DATA.includes(camel(k)) && part[k] !== null);
  if (data.length === 0)
    throw new Refusal(
      `* GenerateContentRequest.${at}.data: required oneof field 'data' must have one initialized field`,
    );
  if (data.length > 1)
    throw new Refusal(
      `Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '${data[1]}'`,
    );
  const text = field(part, 'text');
  if (text !== undefined && typeof text !== 'string')
    throw new Refusal(
      `Invalid JSON payload received. Invalid value at '${at}.text' (TYPE_STRING), ${JSON.stringify(text)}`,
    );
  for (const kind of ['inlineData', 'fileData', 'functionCall', 'functionResponse']) {
    const value = field(part, kind);
    if (value === undefined) continue;
    const inner = known(value, kind, `${at}.${snake(kind)}`);
    const name = field(inner, 'name');
    if ((kind === 'functionCall' || kind === 'functionResponse') && (typeof name !== 'string' || name === ''))
      throw new Refusal(`* GenerateContentRequest.${at}.${snake(kind)}.name: Name cannot be empty.`);
  }
  return part;
}

function checkContent(raw: unknown, at: string, withRole: boolean): Json[] {
  const content = known(raw, 'content', at);
  const role = content.role;
  const unset = role === undefined || role === null || role === '';
  if (withRole && !unset && !(typeof role === 'string' && ROLES.includes(role))) {
    throw new Refusal('Please use a valid role: user, model.');
  }
  const parts = list(content.parts);
  if (parts.length === 0)
    throw new Refusal(`* GenerateContentRequest.${at}.parts: contents.parts must not be empty.`);
  return parts.map((p, j) => checkPart(p, `${at}.parts[${j}]`));
}

function namesOf(parts: Json[], kind: 'functionCall' | 'functionResponse'): string[] {
  return parts
    .map((p) => field(p, kind))
    .filter(isObject)
    .map((v) => String(field(v, 'name')))
    .sort();
}

/** A function-response turn answers the call turn just before it: as many parts, the same names. */
function checkTurns(turns: { role: unknown; parts: Json[] }[]): void {
  turns.forEach((turn, i) => {
    const previous = turns[i - 1];
    const calls = previous === undefined ? [] : namesOf(previous.parts, 'functionCall');
    const responses = namesOf(turn.parts, 'functionResponse');
    if (namesOf(turn.parts, 'functionCall').length > 0 && previous?.role === 'model')
      throw new Refusal(
        'Please ensure that function call turn comes immediately after a user turn or after a function response turn.',
      );
    if (responses.length === 0) return;
    if (calls.length === 0 || responses.some((name) => !calls.includes(name)))
      throw new Refusal(
        'Please ensure that function response turn comes immediately after a function call turn.',
      );
    if (responses.length !== calls.length || responses.join('\n') !== calls.join('\n'))
      throw new Refusal(
        'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
      );
  });
}

function checkSchema(raw: unknown, at: string, top: boolean): void {
  const schema = known(raw, 'schema', at);
  const type = typeof schema.type === 'string' ? schema.type.toUpperCase() : undefined;
  const anyOf = list(field(schema, 'anyOf'));
  if (type === undefined && anyOf.length === 0 && !top)
    throw new Refusal(
      `* GenerateContentRequest.${at}.type: must be specified when not using one_of, any_of or all_of fields`,
    );
  const props = isObject(schema.properties) ? schema.properties : {};
  if (top && type === 'OBJECT' && Object.keys(props).length === 0)
    throw new Refusal(`* GenerateContentRequest.${at}.properties: should be non-empty for OBJECT type`);
  list(schema.required).forEach((name, k) => {
    if (typeof name !== 'string' || !(name in props))
      throw new Refusal(`* GenerateContentRequest.${at}.required[${k}]: property is not defined`);
  });
  for (const [name, sub] of Object.entries(props)) checkSchema(sub, `${at}.properties[${name}]`, false);
  if (schema.items !== undefined) checkSchema(schema.items, `${at}.items`, false);
  anyOf.forEach((sub, k) => checkSchema(sub, `${at}.any_of[${k}]`, false));
}

function checkTools(body: Json): void {
  list(field(body, 'tools')).forEach((raw, i) => {
    const tool = known(raw, 'tool', `tools[${i}]`);
    list(field(tool, 'functionDeclarations')).forEach((d, j) => {
      const at = `tools[${i}].function_declarations[${j}]`;
      const decl = known(d, 'functionDeclaration', at);
      if (typeof decl.name !== 'string' || !FUNCTION_NAME.test(decl.name))
        throw new Refusal(
          `* GenerateContentRequest.${at}.name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.`,
        );
      if (decl.parameters !== undefined && decl.parameters !== null)
        checkSchema(decl.parameters, `${at}.parameters`, true);
    });
  });
}

/** What each model family takes in thinkingConfig: none before 2.5, a budget on 2.5, a level from 3. */
function checkThinking(raw: unknown, model: string): void {
  const thinking = known(raw, 'thinkingConfig', 'generation_config.thinking_config');
  if (/^gemini-(1\.|2\.0)/.test(model)) throw new Refusal('thinking_config is not supported.');
  const level = field(thinking, 'thinkingLevel');
  if (typeof level === 'string' && model.startsWith('gemini-2.5'))
    throw new Refusal('Thinking level is not supported for this model.');
  if (typeof level === 'string' && level.toUpperCase() === 'MINIMAL' && /^gemini-3.*-pro/.test(model))
    throw new Refusal('Thinking level MINIMAL is not supported for this model.');
  if (field(thinking, 'thinkingBudget') === 0 && model.startsWith('gemini-2.5-pro'))
    throw new Refusal('Budget 0 is invalid. This model only works in thinking mode.');
}

function checkConfig(body: Json, model: string): void {
  const gen = field(body, 'generationConfig');
  if (gen !== undefined) {
    const g = known(gen, 'generationConfig', 'generation_config');
    const thinking = field(g, 'thinkingConfig');
    if (thinking !== undefined) checkThinking(thinking, model);
    const schema = field(g, 'responseSchema');
    if (schema !== undefined) checkSchema(schema, 'generation_config.response_schema', false);
  }
  const toolConfig = field(body, 'toolConfig');
  if (toolConfig !== undefined) {
    const t = known(toolConfig, 'toolConfig', 'tool_config');
    const fc = field(t, 'functionCallingConfig');
    if (fc !== undefined) known(fc, 'functionCallingConfig', 'tool_config.function_calling_config');
  }
  list(field(body, 'safetySettings')).forEach((s, i) => known(s, 'safetySetting', `safety_settings[${i}]`));
}

/** What real Gemini would refuse in this generateContent body, in its words; undefined when nothing. */
export function geminiRequestProblem(body: Json, model: string): string | undefined {
  try {
    known(body, 'request', '');
    const contents = field(body, 'contents');
    if (!Array.isArray(contents) || contents.length === 0)
      return '* GenerateContentRequest.contents: contents is not specified';
    const turns = contents.map((c, i) => ({
      role: isObject(c) ? c.role : undefined,
      parts: checkContent(c, `contents[${i}]`, true),
    }));
    const system = field(body, 'systemInstruction');
    if (system !== undefined) checkContent(system, 'system_instruction', false);
    checkTurns(turns);
    checkTools(body);
    checkConfig(body, model);
    return undefined;
  } catch (err) {
    if (err instanceof Refusal) return err.message;
    throw err;
  }
}
