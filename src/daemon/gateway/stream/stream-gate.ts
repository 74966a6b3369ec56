/**
 * Holds a chat stream's opening frames back until the upstream has begun to answer. Upstreams open
 * with frames that carry no answer (Anthropic's message_start and ping, OpenAI's role-only chunk)
 * and may fail right after them (`event: error` overloaded after HTTP 200). While nothing has gone
 * to the client such a failure can still be retried on another channel, so those frames wait here;
 * the first frame with text, reasoning, a tool call or a finish reason lets everything out.
 * Passthrough streams are read on the side by the adapter's own converter (a probe) for this, and
 * only until the answer begins; an event the probe cannot read opens the gate rather than failing
 * a stream the client would have understood.
 */
import type { OpenAIChatChunk } from '../../providers/openai/types.js';
import type { ChatStreamConverter, StreamEvent } from '../../providers/types.js';
import { UpstreamStreamError } from '../../providers/types.js';

/** Whether any of the chunks carries part of the answer (not just a role or usage). */
export function startsAnswer(chunks: OpenAIChatChunk[]): boolean {
  return chunks.some((c) =>
    c.choices.some(
      (ch) =>
        (ch.delta.content ?? '') !== '' ||
        (ch.delta.reasoning_content ?? '') !== '' ||
        (ch.delta.tool_calls?.length ?? 0) > 0 ||
        ch.finish_reason != null,
    ),
  );
}

export class OpeningGate {
  private held: (string | Buffer)[] = [];
  private isOpen: boolean;

  /** `enabled` false: a stream that is not a chat answer, passed on at once */
  constructor(
    enabled: boolean,
    private readonly probe?: ChatStreamConverter,
  ) {
    this.isOpen = !enabled;
  }

  get open(): boolean {
    return this.isOpen;
  }

  /** Open with nothing held: a frame passed now goes out alone, as it is. */
  get passesThrough(): boolean {
    return this.isOpen && this.held.length === 0;
  }

  /** Passthrough: reads events until the answer begins. Throws UpstreamStreamError when it fails first. */
  see(events: StreamEvent[], terminal: (ev: StreamEvent) => boolean): void {
    if (this.isOpen) return;
    for (const ev of events) {
      let chunks: OpenAIChatChunk[];
      try {
        chunks = this.probe ? this.probe.push(ev) : [];
      } catch (err) {
        if (err instanceof UpstreamStreamError) throw err;
        this.isOpen = true;
        return;
      }
      if (startsAnswer(chunks) || terminal(ev) || !this.probe) {
        this.isOpen = true;
        return;
      }
    }
  }

  /** Converted streams: the converter's own chunks. */
  saw(chunks: OpenAIChatChunk[]): void {
    if (!this.isOpen && startsAnswer(chunks)) this.isOpen = true;
  }

  /** Once open, what is held plus `data`; before, `data` is held and nothing is returned. */
  pass(data: string | Buffer): (string | Buffer)[] {
    if (!this.isOpen) {
      this.held.push(data);
      return [];
    }
    const out = this.held.length > 0 ? [...this.held, data] : [data];
    this.held = [];
    return out;
  }

  /** The stream ended: whatever is still held. */
  drain(): (string | Buffer)[] {
    this.isOpen = true;
    const out = this.held;
    this.held = [];
    return out;
  }
}
