/**
 * ConverseStream events (decoded event-stream messages) -> OpenAI chat chunks (PROTOCOLS.md 6.3,
 * 7.6). Text deltas arrive without a contentBlockStart, tool calls open with one, and usage comes
 * in `metadata` after `messageStop`: the finish chunk goes out at messageStop and the usage is
 * kept for usage(), which the relay reads at the end (its client encoder writes the usage chunk
 * when the client asked for one, as with every other converter). `:message-type: exception`
 * frames become UpstreamStreamError. The `"p"` padding field on every payload is never read.
 */
import { UpstreamStreamError } from '../types.js';
import type { ChatStreamConverter, StreamEvent, Usage } from '../types.js';
import type { OpenAIChatChunk, OpenAIFinishReason } from '../openai/types.js';
import type { ConverseUsage } from './converse-types.js';
import { streamExceptionFailure } from './errors.js';
import { completionId, finishReason, usageFromConverse } from './response.js';

interface StreamPayload {
  contentBlockIndex?: number;
  start?: { toolUse?: { toolUseId?: string; name?: string } };
  delta?: {
    text?: string;
    toolUse?: { input?: string };
    reasoningContent?: { text?: string; signature?: string };
  };
  stopReason?: string;
  usage?: ConverseUsage;
}

type Delta = OpenAIChatChunk['choices'][number]['delta'];
type ChunkBase = Pick<OpenAIChatChunk, 'id' | 'object' | 'created' | 'model'>;

class ConverseStreamConverter implements ChatStreamConverter {
  private readonly id = completionId();
  private readonly created = Math.floor(Date.now() / 1000);
  /** Converse content block index -> OpenAI tool_calls index */
  private readonly toolIndex = new Map<number, number>();
  private seenUsage: Usage | null = null;
  /** messageStop arrived: the answer is whole (metadata with the usage may follow) */
  private stopped = false;

  constructor(private readonly model: string) {}

  push(event: StreamEvent): OpenAIChatChunk[] {
    if (event.kind !== 'eventstream') return [];
    const messageType = event.headers[':message-type'] ?? 'event';
    if (messageType === 'exception' || messageType === 'error') {
      const type = event.headers[':exception-type'] ?? event.headers[':error-code'] ?? 'UnknownException';
      const payload = event.headers[':error-message'] ?? event.payload.toString('utf8');
      throw new UpstreamStreamError(streamExceptionFailure(type, payload));
    }
    const payload = parsePayload(event.payload);
    switch (event.headers[':event-type']) {
      case 'messageStart':
        return [this.chunk({ role: 'assistant', content: '' })];
      case 'contentBlockStart':
        return this.blockStart(payload);
      case 'contentBlockDelta':
        return this.blockDelta(payload);
      case 'messageStop':
        this.stopped = true;
        return [this.chunk({}, finishReason(payload.stopReason))];
      case 'metadata':
        return this.metadata(payload);
      default:
        return [];
    }
  }

  end(): OpenAIChatChunk[] {
    // a body that ends before messageStop (a proxy closing cleanly) is a failed answer, not a short one
    if (!this.stopped) {
      throw new UpstreamStreamError({
        status: 502,
        action: 'retry',
        message: 'bedrock: stream ended before messageStop',
      });
    }
    return [];
  }

  usage(): Usage | null {
    return this.seenUsage;
  }

  private blockStart(p: StreamPayload): OpenAIChatChunk[] {
    const tool = p.start?.toolUse;
    if (!tool) return [];
    const index = this.indexFor(p.contentBlockIndex);
    return [
      this.chunk({
        tool_calls: [
          {
            index,
            id: tool.toolUseId ?? `call_${index}`,
            type: 'function',
            function: { name: tool.name ?? '', arguments: '' },
          },
        ],
      }),
    ];
  }

  private blockDelta(p: StreamPayload): OpenAIChatChunk[] {
    const d = p.delta;
    if (!d) return [];
    const out: OpenAIChatChunk[] = [];
    if (typeof d.text === 'string' && d.text !== '') out.push(this.chunk({ content: d.text }));
    const reasoning = d.reasoningContent?.text;
    if (typeof reasoning === 'string' && reasoning !== '')
      out.push(this.chunk({ reasoning_content: reasoning }));
    const input = d.toolUse?.input;
    if (typeof input === 'string') {
      out.push(
        this.chunk({
          tool_calls: [{ index: this.indexFor(p.contentBlockIndex), function: { arguments: input } }],
        }),
      );
    }
    return out;
  }

  private metadata(p: StreamPayload): OpenAIChatChunk[] {
    this.seenUsage = usageFromConverse(p.usage) ?? this.seenUsage;
    return [];
  }

  /** OpenAI numbers tool calls 0,1,2 in order of appearance, whatever their Converse block index. */
  private indexFor(block: number | undefined): number {
    const key = block ?? -1;
    let index = this.toolIndex.get(key);
    if (index === undefined) {
      index = this.toolIndex.size;
      this.toolIndex.set(key, index);
    }
    return index;
  }

  private base(): ChunkBase {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model };
  }

  private chunk(delta: Delta, finish: OpenAIFinishReason | null = null): OpenAIChatChunk {
    return { ...this.base(), choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}

function parsePayload(payload: Buffer): StreamPayload {
  if (payload.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(payload.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' ? parsed : {};
  } catch {
    throw new UpstreamStreamError({
      status: 502,
      action: 'retry',
      message: 'bedrock stream: event payload is not JSON',
    });
  }
}

export function converseStreamConverter(model: string): ChatStreamConverter {
  return new ConverseStreamConverter(model);
}
