/**
 * Inbound codecs: the client protocols the gateway serves (OpenAI chat, the identity; Anthropic
 * Messages; Gemini generateContent; and per request the Responses API and legacy function
 * calling). A codec converts the client's native request into the canonical OpenAI chat request,
 * and the canonical answer (completion, stream chunks, errors) back into the client's protocol,
 * and knows its own stream's end event. When the chosen channel speaks the client's protocol
 * natively, the relay forwards bytes instead and the codec is not used for the body.
 */
import type { InboundProtocol, StreamEvent, Usage } from '../providers/types.js';
import type { OpenAIChatChunk, OpenAIChatCompletion, OpenAIChatRequest } from '../providers/openai/types.js';

/** An error as the client must see it, before protocol shaping. */
export interface WireError {
  status: number;
  /** OpenAI-style code, e.g. `invalid_api_key`, `rate_limit_exceeded` */
  code: string;
  /** OpenAI-style type, e.g. `invalid_request_error` */
  type: string;
  message: string;
  param?: string | undefined;
}

/** Turns canonical OpenAI chunks into the client's stream frames (complete SSE text). */
export interface InboundStreamEncoder {
  /** one OpenAI chunk -> zero or more wire frames, each a complete `event:/data:` block ending in a blank line */
  push(chunk: OpenAIChatChunk): string[];
  /** end of stream: closing frames (e.g. message_delta + message_stop), given the final usage */
  end(usage: Usage | null): string[];
  /** an error after the stream began: the protocol's in-stream error frame(s) */
  error(err: WireError): string[];
}

export interface InboundCodec {
  readonly protocol: InboundProtocol;
  /**
   * The client's native request -> canonical OpenAI request. `model` and `stream` come from the
   * URL for Gemini, from the body for Anthropic. Throws BcError INVALID_REQUEST naming the field.
   */
  toOpenAI(body: unknown, opts: { model?: string; stream?: boolean; dropped: string[] }): OpenAIChatRequest;
  /** canonical completion -> the client's native response body */
  fromOpenAI(completion: OpenAIChatCompletion, usage: Usage | null, requestedModel: string): unknown;
  /**
   * `promptTokens`: the gateway's own count of the prompt, for a protocol whose stream states the
   * prompt's size before the upstream has reported any usage (Anthropic's message_start).
   */
  streamEncoder(
    requestedModel: string,
    promptTokens?: number | null,
    includeUsage?: boolean,
  ): InboundStreamEncoder;
  /** an error before any byte was sent -> status + native JSON body */
  errorBody(err: WireError): { status: number; body: unknown };
  /**
   * Whether an event of a stream in this protocol is its last (OpenAI's `[DONE]`, Anthropic's
   * `message_stop`): a forwarded stream's end is held back until the request's row is committed.
   * Gemini's streams have none: they end with the body.
   */
  streamEnded(event: StreamEvent): boolean;
}
