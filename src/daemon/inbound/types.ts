/**
 * Inbound codecs: the non-OpenAI client protocols the gateway serves (Anthropic Messages,
 * Gemini generateContent). A codec converts the client's native request into the canonical
 * OpenAI chat request, and the canonical answer (completion, stream chunks, errors) back into
 * the client's protocol. When the chosen channel speaks the client's protocol natively, the relay
 * forwards bytes instead and the codec is not used for the body.
 */
import type { InboundProtocol, Usage } from '../providers/types.js';
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
  streamEncoder(requestedModel: string, promptTokens?: number | null): InboundStreamEncoder;
  /** an error before any byte was sent -> status + native JSON body */
  errorBody(err: WireError): { status: number; body: unknown };
}
