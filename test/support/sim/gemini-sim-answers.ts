/**
 * What the Gemini simulator answers, shaped like the recordings in `fixtures/gemini/`: a plan
 * (thought pieces, text pieces or one whole function call, finish reason, usage) built from the
 * generateContent request, rendered as one GenerateContentResponse or as `alt=sse` frames with
 * `\r\n\r\n` separators, usageMetadata on every chunk (prompt-only until the last) and no [DONE].
 * Usage is predictable: prompt = ceil(UTF-8 bytes of JSON(systemInstruction + contents) / 4),
 * candidates = text pieces (+1 per function call), thoughts = thought pieces, each times
 * `candidateCount`: like the real API, that many candidates are produced (each within
 * maxOutputTokens) and usageMetadata counts the tokens of all of them; more than 8 is refused.
 * generationConfig is read by either proto JSON spelling, numbers also as strings.
 */
import { randomBytes } from 'node:crypto';
import { readChunksJsonl, readFixtureJson } from '../fixtures.js';
import type { ChatKnobs } from './openai-sim-chat.js';
import { contentPieces, splitText } from './openai-sim-chat.js';
import { delegatedBySim, embeddingVector } from './sim-common.js';

type Json = Record<string, unknown>;

export const THOUGHT_TEXT = 'The user wants a short answer; I will keep it friendly and brief.';

/** The recorded thoughtSignature of a function-call part, echoed on every simulated call. */
export const SIM_THOUGHT_SIGNATURE = String(
  ((readChunksJsonl('gemini/stream-tool-call.chunks.jsonl')[0] as Json).candidates as Json[])
    .map((c) => ((c.content as Json).parts as Json[])[0]?.thoughtSignature)
    .find((s) => typeof s === 'string'),
);

/** The recorded 429 (QuotaFailure + RetryInfo "34.4s"). */
export const RESOURCE_EXHAUSTED_BODY = readFixtureJson<Json>('gemini/error-429-resource-exhausted.json');

export function geminiErrorJson(code: number, status: string, message: string, details?: Json[]): Json {
  return { error: { code, message, status, ...(details === undefined ? {} : { details }) } };
}

export const API_KEY_INVALID_BODY = geminiErrorJson(
  400,
  'INVALID_ARGUMENT',
  'API key not valid. Please pass a valid API key.',
  [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
    {
      '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
      locale: 'en-US',
      message: 'API key not valid. Please pass a valid API key.',
    },
  ],
);

export interface GeminiPlan {
  model: string;
  /** candidates produced and billed (`candidateCount`) */
  candidates: number;
  responseId: string;
  thoughts: string[];
  text: string[];
  call: { name: string; args: Json } | undefined;
  finishReason: 'STOP' | 'MAX_TOKENS';
  promptTokens: number;
  cachedTokens: number;
}

function asArray(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter((x): x is Json => typeof x === 'object' && x !== null) : [];
}

function sample(schema: Json, name: string): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = typeof schema.type === 'string' ? schema.type.toLowerCase() : '';
  if (type === 'number' || type === 'integer') return 1;
  if (type === 'boolean') return true;
  if (type === 'array') return [];
  if (type === 'object') return {};
  return name === 'location' ? 'San Francisco' : `sim-${name}`;
}

function argsFor(decl: Json): Json {
  const params = (decl.parameters ?? decl.parametersJsonSchema ?? {}) as Json;
  const props = (params.properties ?? {}) as Record<string, Json>;
  const required = Array.isArray(params.required) ? (params.required as string[]) : Object.keys(props);
  return Object.fromEntries(required.map((n) => [n, sample(props[n] ?? {}, n)]));
}

/** The declaration to call, or none: no tools, mode NONE, or the last turn already answers a call. */
function plannedCall(body: Json): GeminiPlan['call'] {
  const decls = asArray(body.tools).flatMap((t) => asArray(t.functionDeclarations));
  const cfg = ((body.toolConfig as Json | undefined)?.functionCallingConfig ?? {}) as Json;
  const last = asArray(body.contents).at(-1);
  const answered = asArray(last?.parts).some((p) => p.functionResponse !== undefined);
  if (decls.length === 0 || cfg.mode === 'NONE' || answered) return undefined;
  const texts = asArray(body.contents)
    .filter((c) => c.role !== 'model')
    .flatMap((c) => asArray(c.parts).flatMap((p) => (typeof p.text === 'string' ? [p.text] : [])));
  if (delegatedBySim(texts)) return undefined;
  const allowed = Array.isArray(cfg.allowedFunctionNames) ? (cfg.allowedFunctionNames as string[]) : [];
  const decl = decls.find((d) => allowed.length === 0 || allowed.includes(String(d.name))) ?? decls[0];
  return decl === undefined ? undefined : { name: String(decl.name), args: argsFor(decl) };
}

/** A field by its camelCase or snake_case name, as proto JSON takes it. */
function protoField(obj: Json, name: string): unknown {
  return obj[name] ?? obj[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

/** A proto JSON integer: a number or a numeric string. */
function protoInt(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** Most candidates Gemini generates for one request. */
const MAX_CANDIDATES = 8;

/** Gemini's refusal of a candidateCount out of range; undefined when it is fine. */
export function candidateCountProblem(body: Json): string | undefined {
  const n = protoInt(protoField((protoField(body, 'generationConfig') ?? {}) as Json, 'candidateCount'));
  if (n === undefined || (n >= 1 && n <= MAX_CANDIDATES)) return undefined;
  return `* GenerateContentRequest.generation_config.candidate_count: must be between 1 and ${MAX_CANDIDATES}, got ${n}`;
}

export function planGemini(body: Json, model: string, knobs: ChatKnobs): GeminiPlan {
  const gen = (protoField(body, 'generationConfig') ?? {}) as Json;
  const thinking = (protoField(gen, 'thinkingConfig') ?? {}) as Json;
  const call = plannedCall(body);
  const thoughts = protoField(thinking, 'includeThoughts') === true ? splitText(THOUGHT_TEXT, 3) : [];
  let text = call === undefined ? contentPieces(knobs) : [];
  let finishReason: GeminiPlan['finishReason'] = 'STOP';
  const max = protoInt(protoField(gen, 'maxOutputTokens'));
  if (max !== undefined && call === undefined && text.length > max) {
    text = text.slice(0, max);
    finishReason = 'MAX_TOKENS';
  }
  const system = protoField(body, 'systemInstruction') ?? null;
  const bytes = Buffer.byteLength(JSON.stringify([system, body.contents ?? []]));
  const promptTokens = Math.max(1, Math.ceil(bytes / 4));
  return {
    model,
    candidates: Math.max(1, protoInt(protoField(gen, 'candidateCount')) ?? 1),
    responseId: randomBytes(12).toString('base64url'),
    thoughts,
    text,
    call,
    finishReason,
    promptTokens,
    cachedTokens: Math.min(knobs.cachedTokens, promptTokens),
  };
}

export function usageMetadata(plan: GeminiPlan, final: boolean): Json {
  const modality = [{ modality: 'TEXT', tokenCount: plan.promptTokens }];
  if (!final)
    return {
      promptTokenCount: plan.promptTokens,
      totalTokenCount: plan.promptTokens,
      promptTokensDetails: modality,
    };
  const candidates = (plan.text.length + (plan.call === undefined ? 0 : 1)) * plan.candidates;
  const thoughts = plan.thoughts.length * plan.candidates;
  return {
    promptTokenCount: plan.promptTokens,
    candidatesTokenCount: candidates,
    totalTokenCount: plan.promptTokens + candidates + thoughts,
    promptTokensDetails: modality,
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
    ...(plan.cachedTokens > 0 ? { cachedContentTokenCount: plan.cachedTokens } : {}),
  };
}

function callPart(plan: GeminiPlan): Json[] {
  return plan.call === undefined
    ? []
    : [{ functionCall: plan.call, thoughtSignature: SIM_THOUGHT_SIGNATURE }];
}

function response(plan: GeminiPlan, parts: Json[], finish: boolean, final: boolean): Json {
  const candidate = (index: number): Json => {
    const c: Json = { content: { parts, role: 'model' }, index };
    if (finish) c.finishReason = plan.finishReason;
    if (finish && plan.call !== undefined) c.finishMessage = 'Model generated function call(s).';
    return c;
  };
  return {
    candidates: Array.from({ length: plan.candidates }, (_, i) => candidate(i)),
    usageMetadata: usageMetadata(plan, final),
    modelVersion: plan.model,
    responseId: plan.responseId,
  };
}

export function generateContentBody(plan: GeminiPlan): Json {
  const parts: Json[] = [];
  if (plan.thoughts.length > 0) parts.push({ text: plan.thoughts.join(''), thought: true });
  if (plan.text.length > 0) parts.push({ text: plan.text.join('') });
  parts.push(...callPart(plan));
  if (parts.length === 0) parts.push({ text: '' });
  return response(plan, parts, true, true);
}

/** The stream's chunks: thoughts, then text pieces (the last one finishing) or the call plus an empty finishing chunk. */
export function streamChunks(plan: GeminiPlan): Json[] {
  const chunks: Json[] = plan.thoughts.map((t) => response(plan, [{ text: t, thought: true }], false, false));
  if (plan.call !== undefined || plan.text.length === 0) {
    if (plan.call !== undefined) chunks.push(response(plan, callPart(plan), false, false));
    chunks.push(response(plan, [{ text: '' }], true, true));
    return chunks;
  }
  plan.text.forEach((t, i) => {
    const last = i === plan.text.length - 1;
    chunks.push(response(plan, [{ text: t }], last, last));
  });
  return chunks;
}

export function sseFrames(chunks: Json[]): string[] {
  return chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`);
}

export const MID_STREAM_ERROR_FRAME = `data: ${JSON.stringify(
  geminiErrorJson(
    500,
    'INTERNAL',
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  ),
)}\r\n\r\n`;

/** `:batchEmbedContents`; undefined when the body has no usable requests. */
export function batchEmbed(body: Json): Json | undefined {
  const requests = asArray(body.requests);
  if (requests.length === 0) return undefined;
  const embeddings = requests.map((r) => {
    const text = asArray((r.content as Json | undefined)?.parts)
      .map((p) => (typeof p.text === 'string' ? p.text : ''))
      .join('');
    const dims = typeof r.outputDimensionality === 'number' ? r.outputDimensionality : 8;
    return { values: embeddingVector(text, dims) };
  });
  return { embeddings };
}
