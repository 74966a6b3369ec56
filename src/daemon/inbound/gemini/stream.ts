/**
 * Canonical OpenAI chunks -> Gemini `alt=sse` frames (`data: {...}` separated by `\r\n\r\n`, no
 * [DONE]), each a partial GenerateContentResponse as Gemini sends it. Text and thoughts go out as
 * they come. Gemini delivers a function call whole, so argument fragments are buffered per tool
 * index and each call is sent complete once the finish chunk shows the arguments are done; the
 * last frame carries finishReason and usageMetadata.
 */
import type { OpenAIChatChunk, OpenAIFinishReason } from '../../providers/openai/types.js';
import { usageFromOpenAI } from '../../providers/openai/usage.js';
import { signatureOf } from '../../providers/gemini/thought-signature.js';
import type { GeminiPart, GeminiResponse } from '../../providers/gemini/types.js';
import type { Usage } from '../../providers/types.js';
import type { InboundStreamEncoder, WireError } from '../types.js';
import { geminiErrorBody } from './errors.js';
import { finishToGemini, functionCallPart, usageMetadata } from './response.js';

interface PendingCall {
  id: string;
  name: string;
  args: string;
  signature: string | undefined;
}

export function geminiFrame(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\r\n\r\n`;
}

export class GeminiStreamEncoder implements InboundStreamEncoder {
  private readonly calls = new Map<number, PendingCall>();
  private finish: OpenAIFinishReason | null = null;
  private usage: Usage | null = null;
  private responseId: string | undefined;

  constructor(private readonly model: string) {}

  push(chunk: OpenAIChatChunk): string[] {
    if (this.responseId === undefined && chunk.id !== '') this.responseId = chunk.id;
    this.usage = usageFromOpenAI(chunk.usage) ?? this.usage;
    const choice = chunk.choices[0];
    if (choice === undefined) return [];
    const parts: GeminiPart[] = [];
    const { delta } = choice;
    if (typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '') {
      parts.push({ text: delta.reasoning_content, thought: true });
    }
    if (typeof delta.content === 'string' && delta.content !== '') parts.push({ text: delta.content });
    for (const tc of delta.tool_calls ?? []) this.collect(tc);
    const frames = parts.length > 0 ? [this.frame(parts)] : [];
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
      this.finish = choice.finish_reason;
      frames.push(...this.flushCalls());
    }
    return frames;
  }

  end(usage: Usage | null): string[] {
    const frames = this.flushCalls();
    const u = usage ?? this.usage;
    const last = this.response([{ text: '' }]);
    const candidate = last.candidates?.[0];
    if (candidate !== undefined) candidate.finishReason = finishToGemini(this.finish);
    if (u !== null) last.usageMetadata = usageMetadata(u);
    frames.push(geminiFrame(last));
    return frames;
  }

  error(err: WireError): string[] {
    return [geminiFrame(geminiErrorBody(err))];
  }

  private collect(tc: NonNullable<OpenAIChatChunk['choices'][number]['delta']['tool_calls']>[number]): void {
    const known = this.calls.get(tc.index);
    const args = tc.function?.arguments ?? '';
    if (known === undefined) {
      this.calls.set(tc.index, {
        id: tc.id ?? `call_${tc.index}`,
        name: tc.function?.name ?? '',
        args,
        signature: signatureOf(tc),
      });
    } else {
      known.args += args;
      if (tc.function?.name !== undefined && known.name === '') known.name = tc.function.name;
    }
  }

  private flushCalls(): string[] {
    if (this.calls.size === 0) return [];
    const ordered = [...this.calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
    this.calls.clear();
    const parts = ordered.map((c) =>
      functionCallPart({
        id: c.id,
        function: { name: c.name, arguments: c.args },
        ...(c.signature === undefined
          ? {}
          : { extra_content: { google: { thought_signature: c.signature } } }),
      }),
    );
    return [this.frame(parts)];
  }

  private response(parts: GeminiPart[]): GeminiResponse {
    const res: GeminiResponse = {
      candidates: [{ content: { role: 'model', parts }, index: 0 }],
      modelVersion: this.model,
    };
    if (this.responseId !== undefined) res.responseId = this.responseId;
    return res;
  }

  private frame(parts: GeminiPart[]): string {
    return geminiFrame(this.response(parts));
  }
}
