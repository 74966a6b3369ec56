/**
 * A Gemini generateContent request -> the canonical OpenAI chat request. The model and whether
 * to stream come from the URL (`/v1beta/models/{model}:streamGenerateContent`), not the body.
 * Function declarations become tools (Gemini's OpenAPI-style schemas, with upper-case types and
 * `nullable`, become JSON Schema), functionCallingConfig becomes tool_choice (allowed names narrow
 * the tools), generationConfig becomes sampling and output fields and thinkingConfig the
 * reasoning effort. What OpenAI cannot express (hosted tools such as googleSearch, safety
 * settings, cached content, labels, speech and media settings...) is named in `dropped`; fields
 * Gemini may add later are named the same way, never refused.
 */
import type { OpenAIChatRequest, OpenAITool } from '../../providers/openai/types.js';
import type { GeminiGenerationConfig, GeminiRequest } from '../../providers/gemini/types.js';
import { contentsToMessages, note, systemText } from './messages.js';
import { camelizeKeys } from './normalize.js';
import { isObject, validateGeminiRequest, type Json } from './validate.js';

const TOP_LEVEL = new Set([
  'contents',
  'systemInstruction',
  'tools',
  'toolConfig',
  'generationConfig',
  'model',
]);
const GENERATION = new Set([
  'temperature',
  'topP',
  'maxOutputTokens',
  'stopSequences',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'thinkingConfig',
  'candidateCount',
]);
const EFFORT_LEVELS = new Set(['minimal', 'low', 'medium', 'high']);
/** Declaration fields OpenAI tools carry; the others (behavior, response schemas) are named when dropped. */
const DECLARATION = new Set(['name', 'description', 'parameters', 'parametersJsonSchema']);

/** Gemini schema (OpenAPI 3.0 subset) -> JSON Schema: lower-case types, `nullable` as a null type. */
export function jsonSchemaFromGemini(s: unknown): unknown {
  if (!isObject(s)) return s;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'type' && typeof v === 'string') out.type = v.toLowerCase();
    else if (k === 'properties' && isObject(v)) {
      out.properties = Object.fromEntries(
        Object.entries(v).map(([name, p]) => [name, jsonSchemaFromGemini(p)]),
      );
    } else if (k === 'items') out.items = jsonSchemaFromGemini(v);
    else if (k === 'anyOf' && Array.isArray(v)) out.anyOf = v.map(jsonSchemaFromGemini);
    else if (k !== 'nullable' && k !== 'propertyOrdering') out[k] = v;
  }
  if (s.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

function convertTools(tools: unknown[] | undefined, dropped: string[]): OpenAITool[] {
  const out: OpenAITool[] = [];
  for (const tool of tools ?? []) {
    if (!isObject(tool)) continue;
    for (const [key, value] of Object.entries(tool)) {
      if (key !== 'functionDeclarations' || !Array.isArray(value)) {
        note(dropped, `tools.${key}`);
        continue;
      }
      for (const d of value) {
        if (!isObject(d) || typeof d.name !== 'string') continue;
        for (const k of Object.keys(d))
          if (!DECLARATION.has(k)) note(dropped, `tools.functionDeclarations.${k}`);
        const schema =
          d.parametersJsonSchema ??
          (d.parameters === undefined ? undefined : jsonSchemaFromGemini(d.parameters));
        const parameters = isObject(schema) ? schema : { type: 'object', properties: {} };
        const fn: OpenAITool['function'] = { name: d.name, parameters };
        if (typeof d.description === 'string') fn.description = d.description;
        out.push({ type: 'function', function: fn });
      }
    }
  }
  return out;
}

/**
 * functionCallingConfig -> tool_choice. Allowed function names narrow the tools themselves, which
 * is what they mean to Gemini (in ANY and VALIDATED mode the call must be one of them); one name
 * in ANY mode is OpenAI's forced function.
 */
function applyToolConfig(req: GeminiRequest, out: OpenAIChatRequest, dropped: string[]): void {
  const toolConfig: Json = isObject(req.toolConfig) ? req.toolConfig : {};
  for (const k of Object.keys(toolConfig))
    if (k !== 'functionCallingConfig') note(dropped, `toolConfig.${k}`);
  const cfg = toolConfig.functionCallingConfig;
  if (!isObject(cfg) || cfg.mode === undefined) return;
  if (cfg.mode === 'NONE') {
    out.tool_choice = 'none';
    return;
  }
  const names = Array.isArray(cfg.allowedFunctionNames)
    ? cfg.allowedFunctionNames.filter((n): n is string => typeof n === 'string')
    : [];
  const allowed = out.tools?.filter((t) => names.includes(t.function.name)) ?? [];
  if (allowed.length > 0) out.tools = allowed;
  const only = names[0];
  if (cfg.mode === 'ANY') {
    out.tool_choice =
      names.length === 1 && only !== undefined ? { type: 'function', function: { name: only } } : 'required';
  } else out.tool_choice = 'auto';
}

/**
 * thinkingConfig -> reasoning_effort: a thinking level names its effort; a budget maps by size
 * (the inverse of the Gemini adapter's budgets). -1 ("decide yourself") asks for nothing in
 * particular; 0 ("do not think") has no canonical effort, so it is named as dropped, as is a
 * level the canonical scale lacks.
 */
function effortOf(cfg: unknown, dropped: string[]): OpenAIChatRequest['reasoning_effort'] {
  if (!isObject(cfg)) return undefined;
  if (typeof cfg.thinkingLevel === 'string') {
    const level = cfg.thinkingLevel.toLowerCase();
    if (EFFORT_LEVELS.has(level)) return level as 'minimal' | 'low' | 'medium' | 'high';
    if (level !== 'thinking_level_unspecified')
      note(dropped, 'generationConfig.thinkingConfig.thinkingLevel');
  }
  const budget = cfg.thinkingBudget;
  if (budget === 0) note(dropped, 'generationConfig.thinkingConfig.thinkingBudget');
  if (typeof budget !== 'number' || budget <= 0) return undefined;
  return budget <= 2048 ? 'low' : budget <= 12288 ? 'medium' : 'high';
}

function applyOutput(g: GeminiGenerationConfig, out: OpenAIChatRequest, dropped: string[]): void {
  const schema =
    g.responseJsonSchema ??
    (g.responseSchema === undefined ? undefined : jsonSchemaFromGemini(g.responseSchema));
  if (isObject(schema)) {
    out.response_format = { type: 'json_schema', json_schema: { name: 'response', schema } };
  } else if (g.responseMimeType === 'application/json') {
    out.response_format = { type: 'json_object' };
  } else if (g.responseMimeType !== undefined && g.responseMimeType !== 'text/plain') {
    dropped.push('generationConfig.responseMimeType');
  }
  const effort = effortOf(g.thinkingConfig, dropped);
  if (effort !== undefined) out.reasoning_effort = effort;
}

/** Text is what every protocol answers with, so asking for text alone loses nothing. */
function onlyText(modalities: unknown): boolean {
  return Array.isArray(modalities) && modalities.every((m) => String(m).toUpperCase() === 'TEXT');
}

function applyGeneration(
  g: GeminiGenerationConfig | undefined,
  out: OpenAIChatRequest,
  dropped: string[],
): void {
  if (g === undefined) return;
  const num = (v: unknown): number | undefined =>
    typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  if (num(g.temperature) !== undefined) out.temperature = g.temperature;
  if (num(g.topP) !== undefined) out.top_p = g.topP;
  if (num(g.maxOutputTokens) !== undefined) out.max_tokens = g.maxOutputTokens;
  if (num(g.seed) !== undefined) out.seed = g.seed;
  if (num(g.presencePenalty) !== undefined) out.presence_penalty = g.presencePenalty;
  if (num(g.frequencyPenalty) !== undefined) out.frequency_penalty = g.frequencyPenalty;
  if (Array.isArray(g.stopSequences) && g.stopSequences.length > 0) out.stop = g.stopSequences;
  if (typeof g.candidateCount === 'number' && g.candidateCount > 1)
    dropped.push('generationConfig.candidateCount');
  applyOutput(g, out, dropped);
  for (const key of Object.keys(g)) {
    if (GENERATION.has(key) || (key === 'responseModalities' && onlyText(g[key]))) continue;
    dropped.push(`generationConfig.${key}`);
  }
}

export function geminiToOpenAI(
  body: unknown,
  opts: { model?: string; stream?: boolean; dropped: string[] },
): OpenAIChatRequest {
  const req = validateGeminiRequest(camelizeKeys(body));
  const { dropped } = opts;
  const messages = contentsToMessages(req.contents, dropped);
  const system = systemText(req.systemInstruction?.parts, dropped);
  if (system !== '') messages.unshift({ role: 'system', content: system });
  const out: OpenAIChatRequest = {
    model: opts.model ?? (typeof req.model === 'string' ? req.model : ''),
    messages,
  };
  if (opts.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  const tools = convertTools(req.tools, dropped);
  if (tools.length > 0) out.tools = tools;
  applyToolConfig(req, out, dropped);
  applyGeneration(req.generationConfig, out, dropped);
  for (const key of Object.keys(req)) if (!TOP_LEVEL.has(key)) dropped.push(key);
  return out;
}
