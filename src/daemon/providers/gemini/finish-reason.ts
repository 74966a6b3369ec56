/**
 * Gemini finishReason -> OpenAI finish_reason (PROTOCOLS.md 7.3). Gemini ends a function call
 * with plain STOP, so a STOP whose candidate held a functionCall part means `tool_calls`.
 * RECITATION counts as a filter (as vercel/ai maps it): the answer was withheld, not finished.
 */
import type { OpenAIFinishReason } from '../openai/types.js';

const FINISH: Record<string, OpenAIFinishReason> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  IMAGE_SAFETY: 'content_filter',
  LANGUAGE: 'content_filter',
};

export function finishFromGemini(reason: string | undefined, hadToolCalls: boolean): OpenAIFinishReason {
  // own keys only: a reason named like an Object property (`toString`) is an unknown reason, not a function
  const mapped = reason !== undefined && Object.hasOwn(FINISH, reason) ? FINISH[reason]! : 'stop';
  return mapped === 'stop' && hadToolCalls ? 'tool_calls' : mapped;
}
