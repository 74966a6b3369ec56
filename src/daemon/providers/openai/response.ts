/**
 * Reads non-stream OpenAI-family answers. The body already is an OpenAI completion; the only
 * repairs are the ones a converting client would trip over: a tool call without an id (Gemini's
 * compat endpoint sends `""`) gets a synthesized one, and missing envelope fields get defaults.
 * A body that is not a completion at all is an upstream failure, reported as such.
 */
import type { UpstreamTarget, Usage } from '../types.js';
import { UpstreamStreamError } from '../types.js';
import type { OpenAIChatCompletion } from './types.js';
import { newToolCallId } from './stream.js';
import { usageFromOpenAI } from './usage.js';

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function notACompletion(): UpstreamStreamError {
  return new UpstreamStreamError({
    status: 502,
    action: 'retry',
    message: 'upstream answered 200 with a body that is not a chat completion',
  });
}

function repairMessage(message: Json): void {
  if (message.role === undefined) message.role = 'assistant';
  if (message.content === undefined) message.content = null;
  if (!Array.isArray(message.tool_calls)) return;
  for (const call of message.tool_calls) {
    const tc = obj(call);
    if (tc === undefined) continue;
    if (typeof tc.id !== 'string' || tc.id === '') tc.id = newToolCallId();
    if (tc.type === undefined) tc.type = 'function';
  }
}

export function chatResponse(
  body: unknown,
  target: UpstreamTarget,
): { completion: OpenAIChatCompletion; usage: Usage | null } {
  const json = obj(body);
  if (json === undefined || !Array.isArray(json.choices)) throw notACompletion();
  for (const choice of json.choices) {
    const c = obj(choice);
    const message = obj(c?.message);
    if (c === undefined || message === undefined) throw notACompletion();
    repairMessage(message);
    if (c.finish_reason === undefined) c.finish_reason = null;
  }
  if (typeof json.id !== 'string' || json.id === '') json.id = `chatcmpl-${newToolCallId().slice(5)}`;
  if (typeof json.created !== 'number') json.created = Math.floor(Date.now() / 1000);
  if (typeof json.model !== 'string' || json.model === '') json.model = target.upstreamModel;
  json.object = 'chat.completion';
  return { completion: json as OpenAIChatCompletion, usage: usageFromOpenAI(json.usage) };
}

export function embeddingsResponse(body: unknown): { response: unknown; usage: Usage | null } {
  const usage = obj(obj(body)?.usage);
  const prompt = usage?.prompt_tokens ?? usage?.total_tokens;
  if (typeof prompt !== 'number') return { response: body, usage: null };
  return {
    response: body,
    usage: { inputTokens: prompt, cachedTokens: 0, cacheWriteTokens: 0, outputTokens: 0, reasoningTokens: 0 },
  };
}
