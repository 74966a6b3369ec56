/**
 * The three ways a stream goes from the upstream to the client, one small reader each; the pump
 * (stream-pump.ts) drives whichever the plan chose and owns writing, settlement hand-off and errors.
 *  - raw: same protocol and nothing to change: the upstream's bytes go out as received, decoded on
 *    the side only to read usage, the delivered text, the protocol's end event and error events;
 *  - filtered: OpenAI passthrough where the gateway asked for usage the client did not: frames are
 *    re-emitted unchanged except the extra usage chunk;
 *  - convert: upstream events -> canonical OpenAI chunks -> the client's protocol encoder.
 * Each reader turns one upstream chunk into what goes out, and says when the protocol's end event
 * passed (`ended`): that chunk is held back until the request's row is committed.
 */
import { SseDecoder, sseFrame } from '../../streams/sse.js';
import { EventStreamDecoder } from '../../streams/eventstream.js';
import { isUsageOnlyChunk } from '../../providers/openai/frames.js';
import type { InboundCodec, InboundStreamEncoder } from '../../inbound/types.js';
import type {
  ChatStreamConverter,
  ProviderAdapter,
  StreamEvent,
  UpstreamTarget,
  Usage,
} from '../../providers/types.js';
import type { OpenAIChatChunk } from '../../providers/openai/types.js';
import type { RelayContext } from '../context.js';
import type { OpeningGate } from './stream-gate.js';
import { isErrorEvent } from '../redact.js';
import { collectText, DeliveredText } from './delivered-text.js';

export type Mode = 'raw' | 'filtered' | 'convert';

export interface StreamReader {
  /** one upstream chunk -> what goes to the client now (undefined: nothing) */
  take(chunk: Buffer): string | Buffer | undefined;
  /**
   * The upstream body ended: the closing frames that go out once the row is committed, or
   * undefined when the stream carried nothing the client could use (a retry is still possible).
   */
  finish(): string | undefined;
  /** the protocol's end event has passed */
  readonly ended: boolean;
  /** the upstream relayed an error event: the row says failed, not 200 */
  readonly relayedError: boolean;
  readonly usage: () => Usage | null;
  readonly deliveredText: () => string;
  /** the client-side encoder, when this mode has one (convert) */
  readonly encoder: InboundStreamEncoder | undefined;
}

interface Decoder {
  push(chunk: Buffer): StreamEvent[];
  end(): StreamEvent[];
}

function decoderFor(adapter: ProviderAdapter): Decoder {
  if (adapter.streamFraming === 'sse') return new SseDecoder();
  const d = new EventStreamDecoder();
  return { push: (c) => d.push(c), end: () => (d.end(), []) };
}

export interface ReaderArgs {
  ctx: RelayContext;
  adapter: ProviderAdapter;
  target: UpstreamTarget;
  /** the client's protocol: its end event */
  codec: InboundCodec;
  gate: OpeningGate;
  /** convert only: the client-side encoder */
  encoder?: InboundStreamEncoder | undefined;
}

/** Usage from a passthrough event: the endpoint's own reader (Responses) or the adapter's. */
function usageReader(a: ReaderArgs): (ev: StreamEvent, prev: Usage | null) => Usage | null {
  const fromEvent = a.ctx.usageReader?.fromEvent;
  if (fromEvent) return (ev, prev) => fromEvent(ev, prev) ?? prev;
  const adapterReads = a.adapter.usageFromEvent?.bind(a.adapter);
  return adapterReads ? (ev, prev) => adapterReads(ev, prev) ?? prev : (_ev, prev) => prev;
}

/**
 * What the raw and filtered readers share: a forwarded stream decoded on the side for its usage,
 * the text it delivered, the protocol's end event and the upstream's error events.
 */
abstract class ForwardedReader {
  ended = false;
  relayedError = false;
  readonly encoder = undefined;
  protected readonly decoder: Decoder;
  private readonly readUsage: (ev: StreamEvent, prev: Usage | null) => Usage | null;
  private readonly seen: DeliveredText;
  private current: Usage | null = null;

  constructor(protected readonly a: ReaderArgs) {
    this.decoder = decoderFor(a.adapter);
    this.readUsage = usageReader(a);
    this.seen = new DeliveredText(a.adapter, a.target);
  }

  readonly isEnd = (ev: StreamEvent): boolean => this.a.codec.streamEnded(ev);

  /** Reads one event on the side; true when it is the upstream's error event. */
  protected read(ev: StreamEvent): boolean {
    this.current = this.readUsage(ev, this.current);
    if (ev.kind === 'sse') this.seen.add(ev.data);
    if (this.isEnd(ev)) this.ended = true;
    const error = isErrorEvent(ev);
    if (error) this.relayedError = true;
    return error;
  }

  finish(): string | undefined {
    for (const ev of this.decoder.end()) this.current = this.readUsage(ev, this.current);
    return this.a.ctx.committed ? '' : undefined;
  }

  readonly usage = (): Usage | null => this.current;
  readonly deliveredText = (): string => this.seen.text();
}

/** Raw: the upstream's bytes as they came; an error event's chunk goes out with secrets taken out. */
class RawReader extends ForwardedReader implements StreamReader {
  take(chunk: Buffer): Buffer | string {
    const events = this.decoder.push(chunk);
    let upstreamError = false;
    for (const ev of events) if (this.read(ev)) upstreamError = true;
    this.a.gate.see(events, this.isEnd);
    return upstreamError ? redactChunk(this.a.ctx, chunk) : chunk;
  }
}

/** Filtered: OpenAI frames re-emitted, less the usage chunk the client did not ask for. */
class FilteredReader extends ForwardedReader implements StreamReader {
  take(chunk: Buffer): string | undefined {
    const events = this.decoder.push(chunk);
    this.a.gate.see(events, this.isEnd);
    let out = '';
    for (const ev of events) {
      if (ev.kind !== 'sse') continue;
      const error = this.read(ev);
      if (!this.isEnd(ev) && isUsageOnlyChunk(ev.data)) continue;
      const data = error && this.a.ctx.channel ? this.a.ctx.channel.redact(ev.data) : ev.data;
      out += sseFrame(data, ev.event);
    }
    return out.length > 0 ? out : undefined;
  }
}

export function rawReader(a: ReaderArgs): StreamReader {
  return new RawReader(a);
}

export function filteredReader(a: ReaderArgs): StreamReader {
  return new FilteredReader(a);
}

/** Convert: upstream events through the adapter's converter and out through the client's encoder. */
export function convertReader(a: ReaderArgs, encoder: InboundStreamEncoder): StreamReader {
  const decoder = decoderFor(a.adapter);
  const converter: ChatStreamConverter = a.adapter.chatStream(a.target, { dropped: a.ctx.dropped });
  const delivered: string[] = [];
  const encode = (chunks: OpenAIChatChunk[]): string => {
    let out = '';
    for (const c of chunks) out += encodeChunk(encoder, c, delivered);
    return out;
  };
  return {
    ended: false,
    relayedError: false,
    encoder,
    take(chunk: Buffer): string | undefined {
      let out = '';
      for (const ev of decoder.push(chunk)) {
        const chunks = converter.push(ev);
        a.gate.saw(chunks);
        out += encode(chunks);
      }
      return out.length > 0 ? out : undefined;
    },
    finish(): string | undefined {
      let out = a.gate.drain().join('');
      for (const ev of decoder.end()) out += encode(converter.push(ev));
      out += encode(converter.end());
      return a.ctx.committed || out.length > 0 ? out : undefined;
    },
    usage: () => converter.usage(),
    deliveredText: () => delivered.join(''),
  };
}

function encodeChunk(encoder: InboundStreamEncoder, chunk: OpenAIChatChunk, delivered: string[]): string {
  // usage travels through converter.usage() to the encoder's end(); a converter's own usage-only
  // chunk would reach clients that did not ask for it, or twice those that did
  if (chunk.choices.length === 0) return '';
  collectText(chunk, delivered);
  return encoder.push(chunk).join('');
}

/** A raw chunk holding an upstream error event, with the channel's secrets taken out. */
function redactChunk(ctx: RelayContext, chunk: Buffer): Buffer | string {
  if (!ctx.channel) return chunk;
  const text = chunk.toString('utf8');
  const clean = ctx.channel.redact(text);
  return clean === text ? chunk : clean;
}
