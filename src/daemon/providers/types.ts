/**
 * What a provider adapter is. One folder per wire protocol under providers/ implements
 * ProviderAdapter; providers/registry.ts is the only file that maps channel types to adapters.
 *
 * The relay speaks OpenAI Chat Completions internally ("all to OpenAI"): an adapter converts an
 * OpenAI chat request into its upstream's HTTP request, and the upstream's answer (JSON or stream
 * events) back into OpenAI completions/chunks. When the inbound protocol equals the adapter's
 * native one (`passthrough`), the relay forwards the client's bytes instead, and the adapter only
 * builds the URL and headers and reads usage on the way.
 */
import type { ChannelType } from '../../shared/control-api.js';
import type { ErrorCategory } from '../../shared/errors.js';
import type { OpenAIChatChunk, OpenAIChatCompletion, OpenAIChatRequest } from './openai/types.js';

export type InboundProtocol = 'openai' | 'anthropic' | 'gemini';

/** Token usage in OpenAI semantics (PROTOCOLS.md 7.4). */
export interface Usage {
  /** every prompt token, cache reads and cache writes included */
  inputTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  /** every generated token, reasoning included */
  outputTokens: number;
  reasoningTokens: number;
}

export const ZERO_USAGE: Readonly<Usage> = Object.freeze({
  inputTokens: 0,
  cachedTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
});

/** The channel as the relay sees it (a snapshot entry, secrets decrypted). */
export interface ChannelTarget {
  id: number;
  name: string;
  type: ChannelType;
  /** resolved: the channel's base URL or the type's default, without a trailing slash */
  baseUrl: string;
  region: string | null;
  apiVersion: string | null;
  timeoutMs: number;
  settings: Record<string, unknown>;
}

/** One attempt's destination: a channel, one of its secrets, and the model name upstream. */
export interface UpstreamTarget {
  channel: ChannelTarget;
  /** plain secret; never logged */
  secret: string;
  upstreamModel: string;
}

export interface UpstreamRequest {
  method: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

/** Collects what a conversion could not carry across; the log row names these fields. */
export interface ConvertContext {
  dropped: string[];
}

/** A decoded stream event: an SSE event or an AWS event-stream message. */
export interface SseEvent {
  kind: 'sse';
  event: string | undefined;
  data: string;
}
export interface EventStreamMessage {
  kind: 'eventstream';
  headers: Record<string, string>;
  payload: Buffer;
}
export type StreamEvent = SseEvent | EventStreamMessage;

/** Converts one upstream stream, event by event. Stateful; one instance per response. */
export interface ChatStreamConverter {
  /** an upstream event -> zero or more OpenAI chunks. Throws UpstreamStreamError for in-stream errors. */
  push(event: StreamEvent): OpenAIChatChunk[];
  /** the upstream ended: trailing chunks (e.g. a finish chunk) */
  end(): OpenAIChatChunk[];
  /** usage seen so far (null when the upstream reported none) */
  usage(): Usage | null;
}

/** What the relay should do about an upstream failure. Decided by the adapter, read by the relay. */
export type FailureAction =
  /** try another channel; cool this one (or this key) down */
  | 'retry'
  /** the upstream rejected the request itself: pass back, do not retry */
  | 'reject'
  /** our credentials or billing failed: auto-disable the key (or channel), then try another */
  | 'disable';

export interface UpstreamFailure {
  status: number;
  action: FailureAction;
  /** a one-line summary, safe to show and log (no secrets) */
  message: string;
  /** from Retry-After / retry-after-ms / RetryInfo, when the upstream said */
  retryAfterMs?: number | undefined;
  /** the upstream's own error body, passed back unchanged on 'reject' when protocols match */
  body?: string | undefined;
  /** the upstream did not answer in time (connect, headers, or a gap in the body): logged `timeout` */
  timedOut?: boolean | undefined;
}

/**
 * The one error category of an upstream failure, as its log row and metrics name it: set where
 * the failure is made (its action, and `timedOut` from the transport), never read back from text.
 */
export function failureCategory(f: UpstreamFailure): ErrorCategory {
  if (f.timedOut) return 'timeout';
  if (f.action === 'reject') return 'upstream_rejected';
  if (f.action === 'disable') return 'upstream_auth';
  return 'upstream';
}

/** Thrown by stream converters when the upstream sends an error event after HTTP 200. */
export class UpstreamStreamError extends Error {
  constructor(readonly failure: UpstreamFailure) {
    super(failure.message);
    this.name = 'UpstreamStreamError';
  }
}

export interface ProviderAdapter {
  readonly types: readonly ChannelType[];
  /** the base URL a channel of this type uses when it names none (null: --base-url is required) */
  defaultBaseUrl(type: ChannelType): string | null;
  /** the inbound protocol whose request bytes this upstream accepts unchanged, if any */
  readonly passthrough: InboundProtocol | null;
  readonly streamFraming: 'sse' | 'aws-eventstream';

  /** OpenAI chat request -> upstream HTTP request (model already mapped to target.upstreamModel). */
  chatRequest(req: OpenAIChatRequest, target: UpstreamTarget, ctx: ConvertContext): UpstreamRequest;
  /** non-stream upstream body (parsed JSON) -> OpenAI completion, usage in OpenAI semantics */
  chatResponse(
    body: unknown,
    target: UpstreamTarget,
    ctx: ConvertContext,
  ): { completion: OpenAIChatCompletion; usage: Usage | null };
  chatStream(target: UpstreamTarget, ctx: ConvertContext): ChatStreamConverter;
  /** any non-2xx upstream answer -> the relay's decision */
  classifyError(
    status: number,
    headers: Record<string, string | string[] | undefined>,
    body: string,
  ): UpstreamFailure;

  /**
   * Passthrough: the URL and headers for forwarding the client's own bytes to `path`
   * (e.g. `/v1/chat/completions`, `/v1/messages`). Only for adapters with `passthrough` set.
   */
  passthroughRequest?(
    path: string,
    body: Buffer,
    target: UpstreamTarget,
    contentType: string,
  ): UpstreamRequest;
  /** usage from a passthrough non-stream body (parsed JSON) */
  usageFromBody?(body: unknown): Usage | null;
  /** usage from one passthrough stream event (most events have none) */
  usageFromEvent?(event: StreamEvent, previous: Usage | null): Usage | null;
  /**
   * The answer text (content, reasoning, tool arguments) of one passthrough stream event's data,
   * read cheaply; without it a passthrough stream's text is read through `chatStream`.
   */
  answerText?(data: string): string;

  /** OpenAI embeddings request -> upstream, and back; absent when the provider has none */
  embeddingsRequest?(
    body: Record<string, unknown>,
    target: UpstreamTarget,
    ctx: ConvertContext,
  ): UpstreamRequest;
  embeddingsResponse?(
    body: unknown,
    target: UpstreamTarget,
    request?: Record<string, unknown>,
  ): { response: unknown; usage: Usage | null };
}
