/**
 * A Gemini generateContent request -> the canonical OpenAI chat request. The model and whether
 * to stream come from the URL (`/v1beta/models/{model}:streamGenerateContent`), not the body.
 * Function declarations become tools (Gemini's OpenAPI-style schemas, with upper-case types and
 * `nullable`, become JSON Schema), functionCallingConfig becomes tool_choice, generationConfig
 * becomes sampling and output fields; what OpenAI cannot express is named in `dropped`.
 */
import type { OpenAIChatRequest, OpenAITool, OpenAIToolChoice } from '../../providers/openai/types.js';
import type { GeminiGenerationConfig, GeminiRequest } from '../../providers/gemini/types.js';
import { contentsToMessages, partsText } from './messages.js';
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
        dropped.push(`tools.${key}`);
        continue;
      }
      for (const d of value) {
        if (!isObject(d) || typeof d.name !== 'string') continue;
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

function toolChoice(req: GeminiRequest): OpenAIToolChoice | undefined {
  const cfg = req.toolConfig?.functionCallingConfig;
  if (typeof cfg !== 'object' || cfg === null) return undefined;
  if (cfg.mode === 'NONE') return 'none';
  if (cfg.mode === 'ANY') {
    const names: unknown[] = Array.isArray(cfg.allowedFunctionNames) ? cfg.allowedFunctionNames : [];
    const only = names[0];
    return names.length === 1 && typeof only === 'string'
      ? { type: 'function', function: { name: only } }
      : 'required';
  }
  return cfg.mode === undefined ? undefined : 'auto';
}

function effortOf(cfg: GeminiGenerationConfig['thinkingConfig']): OpenAIChatRequest['reasoning_effort'] {
  if (!isObject(cfg)) return undefined;
  const level = typeof cfg.thinkingLevel === 'string' ? cfg.thinkingLevel.toLowerCase() : undefined;
  if (level !== undefined && EFFORT_LEVELS.has(level)) return level as 'minimal' | 'low' | 'medium' | 'high';
  // 0 means "do not think" and -1 "decide yourself": neither asks for a particular effort.
  const budget = cfg.thinkingBudget;
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
  const effort = effortOf(g.thinkingConfig);
  if (effort !== undefined) out.reasoning_effort = effort;
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
  for (const key of Object.keys(g)) if (!GENERATION.has(key)) dropped.push(`generationConfig.${key}`);
}

export function geminiToOpenAI(
  body: unknown,
  opts: { model?: string; stream?: boolean; dropped: string[] },
): OpenAIChatRequest {
  const req = validateGeminiRequest(camelizeKeys(body));
  const { dropped } = opts;
  const messages = contentsToMessages(req.contents, dropped);
  const system = partsText(req.systemInstruction?.parts);
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
  const choice = toolChoice(req);
  if (choice !== undefined) out.tool_choice = choice;
  applyGeneration(req.generationConfig, out, dropped);
  for (const key of Object.keys(req)) if (!TOP_LEVEL.has(key)) dropped.push(key);
  return out;
}
