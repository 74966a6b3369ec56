/**
 * Anthropic Messages stream -> OpenAI chat chunks (PROTOCOLS 4.4, 7.2). A state machine over the
 * named events: message_start opens the answer, content blocks become content / tool_calls /
 * reasoning_content deltas, message_delta closes with the finish reason and the final usage.
 * Tool-call indexes count tool blocks (0, 1, ...), not Anthropic's content-block indexes.
 */
import type { ChatStreamConverter, StreamEvent, Usage } from '../types.js';
import { UpstreamStreamError } from '../types.js';
import type { OpenAIChatChunk, OpenAIFinishReason } from '../openai/types.js';
import { JSON_TOOL_NAME, isRecord, num, str } from './types.js';
import { asAnthropicUsage, mergeUsage, toOpenAIUsage } from './usage.js';
import { finishReasonFromAnthropic } from './stop-reason.js';
import { classifyStreamError } from './errors.js';

type Delta = OpenAIChatChunk['choices'][number]['delta'];
type Block =
  | { kind: 'text' | 'thinking' | 'other' }
  | { kind: 'tool'; toolIndex: number; args: number }
  | { kind: 'json' };

/** A frame that is not JSON means the stream is broken (a proxy page, a cut write): fail the attempt. */
function parseEvent(text: string): Record<string, unknown> {
  try {
    const data: unknown = JSON.parse(text);
    if (isRecord(data)) return data;
  } catch {
    // reported below
  }
  throw new UpstreamStreamError({
    status: 502,
    action: 'retry',
    message: `anthropic: unreadable stream event: ${text.slice(0, 80)}`,
  });
}

export class AnthropicStreamConverter implements ChatStreamConverter {
  private id = '';
  private model: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly blocks = new Map<number, Block>();
  private toolCount = 0;
  private sawJsonAnswer = false;
  private current: Usage | null = null;
  private finished = false;
  private stopped = false;

  constructor(model: string) {
    this.model = model;
  }

  push(event: StreamEvent): OpenAIChatChunk[] {
    if (event.kind !== 'sse' || event.data.length === 0) return [];
    const type = event.event ?? '';
    if (type === 'ping') return [];
    if (type === 'error') throw new UpstreamStreamError(classifyStreamError(event.data));
    const data = parseEvent(event.data);
    switch (str(data.type) ?? type) {
      case 'message_start':
        return this.onMessageStart(data.message);
      case 'content_block_start':
        return this.onBlockStart(num(data.index) ?? 0, data.content_block);
      case 'content_block_delta':
        return this.onBlockDelta(num(data.index) ?? 0, data.delta);
      case 'content_block_stop':
        return this.onBlockStop(num(data.index) ?? 0);
      case 'message_delta':
        return this.onMessageDelta(data);
      case 'message_stop':
        this.stopped = true;
        return [];
      case 'error':
        throw new UpstreamStreamError(classifyStreamError(event.data));
      default:
        return [];
    }
  }

  end(): OpenAIChatChunk[] {
    // A stream cut before message_stop is a failed answer, not a short one.
    if (!this.stopped && !this.finished) {
      throw new UpstreamStreamError({
        status: 502,
        action: 'retry',
        message: 'anthropic: stream ended before message_stop',
      });
    }
    return [];
  }

  usage(): Usage | null {
    return this.current;
  }

  private chunk(delta: Delta, finish: OpenAIFinishReason | null = null): OpenAIChatChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }

  private onMessageStart(message: unknown): OpenAIChatChunk[] {
    if (isRecord(message)) {
      this.id = str(message.id) ?? this.id;
      this.model = str(message.model) ?? this.model;
      const u = asAnthropicUsage(message.usage);
      if (u) this.current = mergeUsage(null, u);
    }
    return [this.chunk({ role: 'assistant', content: '' })];
  }

  private onBlockStart(index: number, block: unknown): OpenAIChatChunk[] {
    if (!isRecord(block)) return [];
    if (block.type === 'tool_use' && block.name === JSON_TOOL_NAME) {
      this.sawJsonAnswer = true;
      this.blocks.set(index, { kind: 'json' });
      return [];
    }
    if (block.type === 'tool_use') {
      const toolIndex = this.toolCount++;
      this.blocks.set(index, { kind: 'tool', toolIndex, args: 0 });
      const name = str(block.name) ?? '';
      const call = {
        index: toolIndex,
        id: str(block.id) ?? '',
        type: 'function' as const,
        function: { name, arguments: '' },
      };
      return [this.chunk({ tool_calls: [call] })];
    }
    if (block.type === 'text' || block.type === 'thinking') {
      this.blocks.set(index, { kind: block.type });
      const initial = str(block.type === 'text' ? block.text : block.thinking) ?? '';
      if (initial.length === 0) return [];
      return [this.chunk(block.type === 'text' ? { content: initial } : { reasoning_content: initial })];
    }
    this.blocks.set(index, { kind: 'other' });
    return [];
  }

  private onBlockDelta(index: number, delta: unknown): OpenAIChatChunk[] {
    const block = this.blocks.get(index);
    if (!block || !isRecord(delta)) return [];
    if (delta.type === 'text_delta' && block.kind === 'text') {
      const text = str(delta.text) ?? '';
      return text.length > 0 ? [this.chunk({ content: text })] : [];
    }
    if (delta.type === 'thinking_delta' && block.kind === 'thinking') {
      const text = str(delta.thinking) ?? '';
      return text.length > 0 ? [this.chunk({ reasoning_content: text })] : [];
    }
    if (delta.type === 'input_json_delta') {
      const part = str(delta.partial_json) ?? '';
      if (part.length === 0) return [];
      if (block.kind === 'json') return [this.chunk({ content: part })];
      if (block.kind !== 'tool') return [];
      block.args += part.length;
      return [this.chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: part } }] })];
    }
    // signature_delta and citations_delta have no OpenAI counterpart.
    return [];
  }

  private onBlockStop(index: number): OpenAIChatChunk[] {
    const block = this.blocks.get(index);
    // A tool without arguments streams only `""`; OpenAI clients parse arguments, so send `{}`.
    if (block?.kind === 'tool' && block.args === 0) {
      block.args = 2;
      return [this.chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: '{}' } }] })];
    }
    return [];
  }

  private onMessageDelta(data: Record<string, unknown>): OpenAIChatChunk[] {
    const u = asAnthropicUsage(data.usage);
    if (u) this.current = mergeUsage(this.current, u);
    const delta = isRecord(data.delta) ? data.delta : {};
    const reason = str(delta.stop_reason);
    if (reason === undefined || this.finished) return [];
    this.finished = true;
    const finish = this.sawJsonAnswer && this.toolCount === 0 ? 'stop' : finishReasonFromAnthropic(reason);
    const out = [this.chunk({}, finish)];
    // Usage goes in its own choices:[] chunk, as OpenAI sends it with include_usage; the relay
    // removes it when the client did not ask.
    if (this.current) out.push({ ...this.chunk({}), choices: [], usage: toOpenAIUsage(this.current) });
    return out;
  }
}
