/**
 * The state of one gateway request as it moves through the relay: what the client asked for,
 * who asked, and what has happened so far (attempts, channel, first byte, reservation). Built by
 * the route handlers, read and updated by admission, relay, stream pump and settlement.
 */
import type { ServerResponse } from 'node:http';
import type { InboundProtocol, StreamEvent, Usage } from '../providers/types.js';
import type { OpenAIChatRequest } from '../providers/openai/types.js';
import type { RouteChannel, RouteKey } from './snapshot.js';
import type { InboundCodec } from '../inbound/types.js';
import type { AdmittedPrices } from './money/admitted-prices.js';

export type EndpointKind =
  /** chat: convertible across protocols (OpenAI chat, Anthropic messages, Gemini generateContent) */
  | 'chat'
  /**
   * any other endpoint: forwarded to OpenAI-protocol channels; converted for the others only
   * when the spec has a `codec` (the Responses API) or the adapter embeds (embeddings)
   */
  | 'forward';

/** What the route handler learned from the request line and body. */
export interface RequestSpec {
  protocol: InboundProtocol;
  /** the endpoint as logged, e.g. `/v1/chat/completions` */
  endpoint: string;
  kind: EndpointKind;
  model: string;
  stream: boolean;
  raw: Buffer;
  contentType: string;
  /** the parsed JSON body (undefined for multipart/binary bodies) */
  body: Record<string, unknown> | undefined;
  /** OpenAI clients: stream_options.include_usage was asked for */
  clientWantsUsage: boolean;
  /** the upstream path for passthrough, given the upstream model (Gemini puts the model in the path) */
  passthroughPath: (upstreamModel: string) => string;
  /** builds the canonical OpenAI request (cached); throws BcError INVALID_REQUEST */
  canonical: () => OpenAIChatRequest;
  /** endpoint-specific usage readers for passthrough answers (e.g. the Responses API) */
  usageReader?: UsageReader | undefined;
  /** client headers to forward on passthrough (e.g. anthropic-beta) */
  forwardHeaders?: Record<string, string> | undefined;
  /** fields the inbound conversion could not carry (merged into the log row) */
  dropped?: string[];
  /**
   * Fields the inbound codec's conversion could not carry, named in `dropped` only when an attempt
   * converts: a passthrough attempt forwards them unchanged, so its log row must not name them.
   */
  conversionDropped?: string[] | undefined;
  /**
   * The answer's shape when a forwarded endpoint is converted for a channel of another protocol
   * (the Responses API); chat endpoints find theirs by protocol.
   */
  codec?: InboundCodec | undefined;
  /** the passthrough body, when renaming the model takes more than the top-level field (Gemini's embedding batches) */
  passthroughBody?: ((upstreamModel: string) => Buffer) | undefined;
  /**
   * A forwarded endpoint that OpenAI-protocol channels serve through another of their endpoints
   * (Gemini-native embeddings through /v1/embeddings).
   */
  viaOpenAI?: ViaOpenAI | undefined;
  /** the text whose tokens are the request's input, for bodies the generic count does not know */
  promptText?: string | undefined;
  /** answered by the gateway itself, without an upstream (e.g. count_tokens) */
  local?: ((ctx: RelayContext) => Promise<void>) | undefined;
}

export interface ViaOpenAI {
  path: string;
  body: (upstreamModel: string) => Buffer;
  /** the channel's answer in the client's shape, with the usage it reported */
  answer: (body: unknown) => { response: unknown; usage: Usage | null };
}

export interface UsageReader {
  fromBody: (body: unknown) => Usage | null;
  fromEvent: (event: StreamEvent, previous: Usage | null) => Usage | null;
}

export interface RelayContext extends RequestSpec {
  readonly requestId: string;
  readonly startNs: bigint;
  readonly res: ServerResponse;
  readonly clientIp: string;

  key: RouteKey | null;
  dropped: string[];
  attempts: number;
  channel: RouteChannel | null;
  upstreamModel: string | null;
  /** ms from start to the first byte sent to the client */
  ttftMs: number | null;
  /** micro-USD reserved against the key's budget */
  reserved: number;
  /** the prices and group ratio in force at admission, which settlement bills (admitted-prices.ts) */
  prices?: AdmittedPrices | undefined;
  /**
   * The output limit a budget's reservation paid for, sent upstream in place of the client's own
   * and answered in `x-bc-max-tokens`: lower than the client asked near the end of a budget, or
   * the reserved one where the client set none. Null when the client's own limit goes as sent.
   */
  outputLimit: number | null;
  /** outputLimit is lower than the request's own or default limit (logged as max_tokens_clamped) */
  outputLowered?: boolean;
  /** the request holds a rate-limiter slot */
  admitted: boolean;
  /** the request also holds a slot in its user's limiter (a user with limits of their own) */
  userAdmitted?: boolean;
  /** prompt tokens the gateway counted itself (see countedInput); null until counted */
  inputTokens: number | null;
  readonly abort: Aborter;
  clientGone: boolean;
  /** response headers are out: no more retries */
  committed: boolean;
  /** settlement ran (settle.ts): the request is never settled twice */
  settled: boolean;
  /** ns spent waiting for upstream response headers (server-timing) */
  upstreamNs: bigint;
}

export function elapsedMs(ctx: Pick<RelayContext, 'startNs'>): number {
  return Number(process.hrtime.bigint() - ctx.startNs) / 1e6;
}

/**
 * Cancels the upstream request when the client leaves. A request has at most one attempt in
 * flight, so one callback slot is enough: cheaper than an AbortController (an EventTarget) or an
 * EventEmitter on every request.
 */
export class Aborter {
  aborted = false;
  private listener: (() => void) | null = null;

  /** The callback of the attempt in flight; runs at most once, on abort. */
  listen(fn: () => void): void {
    this.listener = fn;
  }

  /** Removes `fn` if it is still the one listening (a finished attempt's cleanup). */
  unlisten(fn: () => void): void {
    if (this.listener === fn) this.listener = null;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const fn = this.listener;
    this.listener = null;
    fn?.();
  }
}
