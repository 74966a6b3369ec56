/**
 * The OpenAI chat codec, the identity: the canonical request is OpenAI's own (canonicalChat only
 * rewrites the older and newer shapes the adapters do not read), a completion goes back as it
 * is, and a stream carries the usage chunk only when the client asked for it. Being a codec like
 * the others, OpenAI needs no special case where the relay, the pump or the error writer meet a
 * protocol.
 */
import type { StreamEvent } from '../../providers/types.js';
import type { InboundCodec, WireError } from '../types.js';
import type { Json } from '../validate.js';
import { canonicalChat } from './chat.js';
import { openaiStreamEncoder } from './stream.js';

/** OpenAI's error body: `{ error: { message, type, code, param } }`. */
export function openaiErrorBody(err: WireError): { status: number; body: unknown } {
  return {
    status: err.status,
    body: { error: { message: err.message, type: err.type, code: err.code, param: err.param ?? null } },
  };
}

/** A chat completions stream ends with `data: [DONE]`. */
export function openaiChatEnded(ev: StreamEvent): boolean {
  return ev.kind === 'sse' && ev.data === '[DONE]';
}

export const openaiCodec: InboundCodec = {
  protocol: 'openai',
  toOpenAI: (body, opts) => canonicalChat(body as Json, opts.dropped),
  fromOpenAI: (completion) => completion,
  streamEncoder: (requestedModel, _promptTokens, includeUsage) =>
    openaiStreamEncoder(requestedModel, includeUsage === true),
  errorBody: openaiErrorBody,
  streamEnded: openaiChatEnded,
};
