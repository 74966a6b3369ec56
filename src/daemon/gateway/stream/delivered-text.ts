/**
 * What a stream delivered to the client, counted for the usage estimate when an upstream reports
 * none (a stream cut short): the text, reasoning and tool arguments of converted chunks
 * (`collectText`), and for passthrough streams the text of the relayed events (`DeliveredText`).
 */
import type { OpenAIChatChunk } from '../../providers/openai/types.js';
import type { ChatStreamConverter, ProviderAdapter, UpstreamTarget } from '../../providers/types.js';

/** The output a chunk delivers (text, reasoning, tool arguments), for the no-usage estimate. */
export function collectText(chunk: OpenAIChatChunk, into: string[]): void {
  for (const choice of chunk.choices) {
    const d = choice.delta;
    if (d.content) into.push(d.content);
    if (d.reasoning_content) into.push(d.reasoning_content);
    for (const tc of d.tool_calls ?? []) if (tc.function?.arguments) into.push(tc.function.arguments);
  }
}

/**
 * The text a passthrough stream delivered, kept for one purpose: estimating output tokens when the
 * upstream never reports usage (a stream cut short). An adapter that reads an event's text cheaply
 * (`answerText`) gives it at once; otherwise events are held raw and, past a few KB, reduced to
 * their text through the adapter's converter. Either way a long-running stream holds its text,
 * not every frame's JSON envelope.
 */
export class DeliveredText {
  private raw: string[] = [];
  private rawChars = 0;
  private readonly parts: string[] = [];
  private conv: ChatStreamConverter | undefined;

  constructor(
    private readonly adapter: ProviderAdapter,
    private readonly target: UpstreamTarget,
  ) {}

  add(data: string): void {
    if (this.adapter.answerText) {
      const text = this.adapter.answerText(data);
      if (text !== '') this.parts.push(text);
      return;
    }
    this.raw.push(data);
    this.rawChars += data.length;
    if (this.rawChars > DELIVERED_RAW_CHARS) this.reduce();
  }

  text(): string {
    this.reduce();
    return this.parts.join('');
  }

  private reduce(): void {
    if (this.raw.length === 0) return;
    this.conv ??= this.adapter.chatStream(this.target, { dropped: [] });
    for (const data of this.raw) {
      try {
        for (const c of this.conv.push({ kind: 'sse', event: undefined, data })) collectText(c, this.parts);
      } catch {
        // an event the converter rejects delivered no countable text
      }
    }
    this.raw = [];
    this.rawChars = 0;
  }
}

/** Raw event data a stream holds before reducing it to text (see DeliveredText). */
const DELIVERED_RAW_CHARS = 4096;
