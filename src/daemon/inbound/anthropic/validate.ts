/**
 * Shape checks for an Anthropic Messages request body, before conversion. Each failure is a
 * BcError INVALID_REQUEST naming the offending field, as Anthropic itself does
 * (`max_tokens: Field required`), so a client sees which field to fix.
 */
import { invalid, isObject, type Json } from '../validate.js';

export { invalid, isObject, type Json };

export interface ValidatedBody {
  body: Json;
  model: string;
  maxTokens: number;
  messages: Json[];
}

function validateMessages(raw: unknown): Json[] {
  if (!Array.isArray(raw))
    throw invalid('messages', raw === undefined ? 'Field required' : 'must be an array');
  return raw.map((m: unknown, i) => {
    if (!isObject(m)) throw invalid(`messages.${i}`, 'must be an object');
    // `system` inside messages is a mid-conversation system message (beta
    // mid-conversation-system-2026-04-07), which Claude Code sends by default.
    if (m.role !== 'user' && m.role !== 'assistant' && m.role !== 'system') {
      throw invalid(`messages.${i}.role`, 'must be "user", "assistant" or "system"');
    }
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
      throw invalid(`messages.${i}.content`, 'must be a string or an array of content blocks');
    }
    if (Array.isArray(m.content)) {
      (m.content as unknown[]).forEach((b, j) => {
        if (!isObject(b) || typeof b.type !== 'string') {
          throw invalid(`messages.${i}.content.${j}.type`, 'Field required');
        }
      });
    }
    return m;
  });
}

/** `requireMaxTokens` is false for count_tokens, whose body has no max_tokens. */
export function validateBody(
  body: unknown,
  modelOverride: string | undefined,
  requireMaxTokens = true,
): ValidatedBody {
  if (!isObject(body)) throw invalid('body', 'must be a JSON object');
  const model = modelOverride ?? body.model;
  if (typeof model !== 'string' || model.length === 0) {
    throw invalid('model', model === undefined ? 'Field required' : 'must be a non-empty string');
  }
  const maxTokens = body.max_tokens ?? (requireMaxTokens ? undefined : 1);
  if (maxTokens === undefined) throw invalid('max_tokens', 'Field required');
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
    throw invalid('max_tokens', 'must be a positive integer');
  }
  const messages = validateMessages(body.messages);
  if (body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) {
    throw invalid('system', 'must be a string or an array of text blocks');
  }
  if (body.tools !== undefined && !Array.isArray(body.tools)) throw invalid('tools', 'must be an array');
  if (body.stop_sequences !== undefined && !Array.isArray(body.stop_sequences)) {
    throw invalid('stop_sequences', 'must be an array of strings');
  }
  for (const k of ['temperature', 'top_p', 'top_k'] as const) {
    if (body[k] !== undefined && typeof body[k] !== 'number') throw invalid(k, 'must be a number');
  }
  return { body, model, maxTokens, messages };
}
