/**
 * The canonical OpenAI completion -> a Gemini GenerateContentResponse for Gemini-native clients:
 * reasoning as thought parts, text, tool calls as functionCall parts with parsed arguments (and
 * their thoughtSignature when one rode along), the finish reason in Gemini's words, and usage in
 * Gemini's semantics, where candidatesTokenCount excludes the thoughts counted beside it.
 */
import type {
  OpenAIChatCompletion,
  OpenAIFinishReason,
  OpenAIToolCall,
} from '../../providers/openai/types.js';
import { usageFromOpenAI } from '../../providers/openai/usage.js';
import { signatureOf } from '../../providers/gemini/thought-signature.js';
import type { GeminiPart, GeminiResponse, GeminiUsageMetadata } from '../../providers/gemini/types.js';
import type { Usage } from '../../providers/types.js';

const FINISH: Record<OpenAIFinishReason, string> = {
  stop: 'STOP',
  length: 'MAX_TOKENS',
  tool_calls: 'STOP',
  function_call: 'STOP',
  content_filter: 'SAFETY',
};

export function finishToGemini(reason: OpenAIFinishReason | null | undefined): string {
  return (reason === null || reason === undefined ? undefined : FINISH[reason]) ?? 'STOP';
}

export function usageMetadata(u: Usage): GeminiUsageMetadata {
  const meta: GeminiUsageMetadata = {
    promptTokenCount: u.inputTokens,
    candidatesTokenCount: Math.max(0, u.outputTokens - u.reasoningTokens),
    totalTokenCount: u.inputTokens + u.outputTokens,
  };
  if (u.reasoningTokens > 0) meta.thoughtsTokenCount = u.reasoningTokens;
  if (u.cachedTokens > 0) meta.cachedContentTokenCount = u.cachedTokens;
  return meta;
}

function parseArgs(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function functionCallPart(call: Pick<OpenAIToolCall, 'id' | 'function'>): GeminiPart {
  const part: GeminiPart = {
    functionCall: { id: call.id, name: call.function.name, args: parseArgs(call.function.arguments) },
  };
  const sig = signatureOf(call);
  if (sig !== undefined) part.thoughtSignature = sig;
  return part;
}

export function completionToGemini(
  completion: OpenAIChatCompletion,
  usage: Usage | null,
  requestedModel: string,
): GeminiResponse {
  const choice = completion.choices[0];
  const message = choice?.message;
  const parts: GeminiPart[] = [];
  if (typeof message?.reasoning_content === 'string' && message.reasoning_content !== '') {
    parts.push({ text: message.reasoning_content, thought: true });
  }
  if (typeof message?.content === 'string' && message.content !== '') parts.push({ text: message.content });
  for (const call of message?.tool_calls ?? []) parts.push(functionCallPart(call));
  if (parts.length === 0) parts.push({ text: '' });
  const res: GeminiResponse = {
    candidates: [
      { content: { role: 'model', parts }, finishReason: finishToGemini(choice?.finish_reason), index: 0 },
    ],
  };
  const u = usage ?? usageFromOpenAI(completion.usage);
  if (u !== null) res.usageMetadata = usageMetadata(u);
  res.modelVersion = requestedModel;
  res.responseId = completion.id;
  return res;
}
