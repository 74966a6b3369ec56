/**
 * Gemini GenerateContentResponse -> OpenAI chat.completion. Only the first candidate is read
 * (the request never asks for more). Thought-summary parts become `reasoning_content`, function
 * calls become tool calls with ids made up here because Gemini sends none, and a prompt blocked
 * before any candidate becomes an empty answer with finish_reason `content_filter`. A 200 body
 * that is no GenerateContentResponse at all is an upstream failure.
 */
import { randomBytes } from 'node:crypto';
import type { OpenAIChatCompletion, OpenAIToolCall } from '../openai/types.js';
import { UpstreamStreamError, type UpstreamTarget, type Usage } from '../types.js';
import { finishFromGemini } from './finish-reason.js';
import { signatureExtra, type ToolCallExtra } from './thought-signature.js';
import type { GeminiFunctionCall, GeminiPart, GeminiResponse } from './types.js';
import { openAIUsage } from '../openai/usage.js';
import { usageFromGemini } from './usage.js';

export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}

export function newCompletionId(responseId: unknown): string {
  return `chatcmpl-${typeof responseId === 'string' && responseId !== '' ? responseId : randomBytes(12).toString('hex')}`;
}

export function toolCallFromGemini(fc: GeminiFunctionCall, part: GeminiPart): OpenAIToolCall & ToolCallExtra {
  return {
    id: typeof fc.id === 'string' && fc.id !== '' ? fc.id : newToolCallId(),
    type: 'function',
    function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) },
    ...signatureExtra(typeof part.thoughtSignature === 'string' ? part.thoughtSignature : undefined),
  };
}

export function asGeminiResponse(body: unknown): GeminiResponse {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as GeminiResponse) : {};
}

export function fromGeminiResponse(
  body: unknown,
  target: UpstreamTarget,
): { completion: OpenAIChatCompletion; usage: Usage | null } {
  const res = asGeminiResponse(body);
  if (!Array.isArray(res.candidates) && res.promptFeedback === undefined) {
    // e.g. an HTML page or another API's JSON from a proxy, sent with status 200
    throw new UpstreamStreamError({
      status: 502,
      action: 'retry',
      message: 'gemini answered 200 with a body that is not a GenerateContentResponse',
    });
  }
  const candidate = res.candidates?.[0];
  const parts = candidate?.content?.parts ?? [];
  let text = '';
  let reasoning = '';
  const toolCalls: OpenAIToolCall[] = [];
  for (const part of parts) {
    if (part.functionCall !== undefined) toolCalls.push(toolCallFromGemini(part.functionCall, part));
    else if (typeof part.text === 'string') {
      if (part.thought === true) reasoning += part.text;
      else text += part.text;
    }
  }
  const blocked = candidate === undefined && res.promptFeedback?.blockReason !== undefined;
  const usage = usageFromGemini(res.usageMetadata);
  const message: OpenAIChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
  };
  if (reasoning !== '') message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const completion: OpenAIChatCompletion = {
    id: newCompletionId(res.responseId),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof res.modelVersion === 'string' ? res.modelVersion : target.upstreamModel,
    choices: [
      {
        index: 0,
        message,
        finish_reason: blocked
          ? 'content_filter'
          : finishFromGemini(candidate?.finishReason, toolCalls.length > 0),
      },
    ],
  };
  if (usage !== null) completion.usage = openAIUsage(usage);
  return { completion, usage };
}
