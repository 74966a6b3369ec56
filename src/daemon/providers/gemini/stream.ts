/**
 * Gemini `streamGenerateContent?alt=sse` -> OpenAI chunks. Each SSE data payload is a partial
 * GenerateContentResponse holding only the new parts; there is no [DONE], the finishReason rides
 * on the last chunk, and usageMetadata is repeated on every chunk (prompt-only at first), so the
 * last one seen is the answer. Function calls arrive whole, so each becomes one complete
 * tool-call delta. An `{"error":{...}}` payload is an in-stream failure.
 */
import type { OpenAIChatChunk, OpenAIFinishReason } from '../openai/types.js';
import {
  UpstreamStreamError,
  type ChatStreamConverter,
  type StreamEvent,
  type UpstreamTarget,
  type Usage,
} from '../types.js';
import { failureFromStreamError } from './errors.js';
import { finishFromGemini } from './finish-reason.js';
import { asGeminiResponse, newCompletionId, toolCallFromGemini } from './response.js';
import type { GeminiPart, GeminiResponse } from './types.js';
import { usageFromGemini } from './usage.js';

type Delta = OpenAIChatChunk['choices'][number]['delta'];

function parse(data: string): GeminiResponse & { error?: unknown } {
  try {
    return asGeminiResponse(JSON.parse(data));
  } catch {
    throw new UpstreamStreamError({
      status: 502,
      action: 'retry',
      message: 'gemini: malformed stream event (not JSON)',
    });
  }
}

class GeminiStreamConverter implements ChatStreamConverter {
  private id: string | undefined;
  private model: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private started = false;
  private finished = false;
  private toolIndex = 0;
  private lastUsage: Usage | null = null;

  constructor(target: UpstreamTarget) {
    this.model = target.upstreamModel;
  }

  push(event: StreamEvent): OpenAIChatChunk[] {
    if (event.kind !== 'sse' || event.data.trim() === '') return [];
    const res = parse(event.data);
    if (typeof res.error === 'object' && res.error !== null) {
      throw new UpstreamStreamError(failureFromStreamError(res.error));
    }
    this.lastUsage = usageFromGemini(res.usageMetadata) ?? this.lastUsage;
    this.id ??= newCompletionId(res.responseId);
    if (typeof res.modelVersion === 'string') this.model = res.modelVersion;
    const out: OpenAIChatChunk[] = [];
    const candidate = res.candidates?.[0];
    for (const part of candidate?.content?.parts ?? []) {
      const delta = this.deltaOf(part);
      if (delta !== undefined) this.emit(out, delta, null);
    }
    if (!this.finished) {
      if (candidate?.finishReason !== undefined) {
        this.emit(out, {}, finishFromGemini(candidate.finishReason, this.toolIndex > 0));
      } else if (candidate === undefined && res.promptFeedback?.blockReason !== undefined) {
        this.emit(out, {}, 'content_filter');
      }
    }
    return out;
  }

  end(): OpenAIChatChunk[] {
    // Gemini has no [DONE]: the last chunk's finishReason is the only sign the answer is whole.
    if (!this.finished) {
      throw new UpstreamStreamError({
        status: 502,
        action: 'retry',
        message: 'gemini: stream ended before a finishReason (answer cut off)',
      });
    }
    return [];
  }

  usage(): Usage | null {
    return this.lastUsage;
  }

  private deltaOf(part: GeminiPart): Delta | undefined {
    if (part.functionCall !== undefined) {
      const call = toolCallFromGemini(part.functionCall, part);
      return { tool_calls: [{ index: this.toolIndex++, ...call }] };
    }
    if (typeof part.text !== 'string' || part.text === '') return undefined;
    return part.thought === true ? { reasoning_content: part.text } : { content: part.text };
  }

  private emit(out: OpenAIChatChunk[], delta: Delta, finish: OpenAIFinishReason | null): void {
    if (!this.started) {
      this.started = true;
      out.push(this.chunk({ role: 'assistant', content: '' }, null));
    }
    if (finish !== null) this.finished = true;
    out.push(this.chunk(delta, finish));
  }

  private chunk(delta: Delta, finish: OpenAIFinishReason | null): OpenAIChatChunk {
    return {
      id: this.id ?? newCompletionId(undefined),
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }
}

export function createGeminiStreamConverter(target: UpstreamTarget): ChatStreamConverter {
  return new GeminiStreamConverter(target);
}
