/**
 * Canonical OpenAI chunks -> Anthropic stream frames, in the exact order the SDK and Claude Code
 * expect: message_start, then per block content_block_start / _delta / _stop with consecutive
 * indexes (a new block whenever the kind of delta changes: thinking, text, or a new tool call),
 * then message_delta (stop_reason, usage) and message_stop.
 */
import type { Usage } from '../../providers/types.js';
import type {
  OpenAIChatChunk,
  OpenAIChunkToolCall,
  OpenAIFinishReason,
} from '../../providers/openai/types.js';
import { stopReasonFromOpenAI } from '../../providers/anthropic/stop-reason.js';
import { sseFrame } from '../../streams/sse.js';
import type { InboundStreamEncoder, WireError } from '../types.js';
import { anthropicErrorBody } from './errors.js';
import { messageId, toAnthropicUsage, toolUseId, usageFromOpenAI } from './response.js';

type OpenBlock = { kind: 'text' | 'thinking' } | { kind: 'tool'; key: number };

function frame(payload: { type: string } & Record<string, unknown>): string {
  return sseFrame(JSON.stringify(payload), payload.type);
}

export class AnthropicStreamEncoder implements InboundStreamEncoder {
  private started = false;
  private nextIndex = 0;
  private open: OpenBlock | null = null;
  private readonly seenTools = new Set<number>();
  private finish: OpenAIFinishReason | null = null;
  private lastUsage: Usage | null = null;

  /**
   * `promptTokens` fills message_start's input_tokens when the upstream has not reported usage by
   * the first chunk (OpenAI-protocol upstreams report it only at the end): Anthropic states the
   * prompt's size there, and clients such as LangChain read it from nowhere else. message_delta
   * then carries the upstream's own figures, which billing uses.
   */
  constructor(
    private readonly model: string,
    private readonly promptTokens: number | null = null,
  ) {}

  push(chunk: OpenAIChatChunk): string[] {
    const out: string[] = [];
    if (chunk.usage) this.lastUsage = usageFromOpenAI(chunk.usage);
    if (!this.started) out.push(...this.start(chunk.id));
    const choice = chunk.choices[0];
    if (!choice) return out;
    const d = choice.delta;
    if (d.reasoning_content) {
      out.push(...this.ensure('thinking'));
      out.push(this.delta({ type: 'thinking_delta', thinking: d.reasoning_content }));
    }
    if (d.content) {
      out.push(...this.ensure('text'));
      out.push(this.delta({ type: 'text_delta', text: d.content }));
    }
    for (const tc of d.tool_calls ?? []) out.push(...this.toolDelta(tc));
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  end(usage: Usage | null): string[] {
    const out = this.started ? [] : this.start(undefined);
    out.push(...this.close());
    let stop = stopReasonFromOpenAI(this.finish);
    if (stop === 'end_turn' && this.seenTools.size > 0) stop = 'tool_use';
    out.push(
      frame({
        type: 'message_delta',
        delta: { stop_reason: stop, stop_sequence: null },
        usage: toAnthropicUsage(usage ?? this.lastUsage),
      }),
    );
    out.push(frame({ type: 'message_stop' }));
    return out;
  }

  error(err: WireError): string[] {
    return [frame({ ...anthropicErrorBody(err) })];
  }

  private start(id: string | undefined): string[] {
    this.started = true;
    const message = {
      id: messageId(id),
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: this.lastUsage
        ? toAnthropicUsage(this.lastUsage)
        : { ...toAnthropicUsage(null), input_tokens: this.promptTokens ?? 0 },
    };
    return [frame({ type: 'message_start', message }), frame({ type: 'ping' })];
  }

  private delta(delta: Record<string, unknown>): string {
    return frame({ type: 'content_block_delta', index: this.nextIndex - 1, delta });
  }

  private close(): string[] {
    if (!this.open) return [];
    this.open = null;
    return [frame({ type: 'content_block_stop', index: this.nextIndex - 1 })];
  }

  private openBlock(block: OpenBlock, content: Record<string, unknown>): string[] {
    const out = this.close();
    out.push(frame({ type: 'content_block_start', index: this.nextIndex, content_block: content }));
    this.nextIndex += 1;
    this.open = block;
    return out;
  }

  private ensure(kind: 'text' | 'thinking'): string[] {
    if (this.open?.kind === kind) return [];
    const content =
      kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
    return this.openBlock({ kind }, content);
  }

  /**
   * OpenAI streams one tool call after another, keyed by index. Anthropic cannot reopen a closed
   * block, so fragments for a tool call whose block was already closed cannot be placed; upstreams
   * seen in practice never interleave them.
   */
  private toolDelta(tc: OpenAIChunkToolCall): string[] {
    const out: string[] = [];
    const isOpen = this.open?.kind === 'tool' && this.open.key === tc.index;
    if (!isOpen) {
      if (this.seenTools.has(tc.index)) return out;
      this.seenTools.add(tc.index);
      const block = { type: 'tool_use', id: toolUseId(tc.id), name: tc.function?.name ?? '', input: {} };
      out.push(...this.openBlock({ kind: 'tool', key: tc.index }, block));
    }
    const args = tc.function?.arguments;
    if (args) out.push(this.delta({ type: 'input_json_delta', partial_json: args }));
    return out;
  }
}
