/**
 * The Responses codec: lets OpenAI Responses clients (`POST /v1/responses`) be served by a
 * channel of any protocol. OpenAI-protocol channels get the request as sent (passthrough); for the
 * others the request becomes a canonical chat request and the answer a Response object or event
 * stream. One codec per request, because a Response echoes what its request asked for.
 */
import type { InboundCodec } from '../types.js';
import { openaiErrorBody } from '../openai/codec.js';
import type { Json } from '../validate.js';
import { responsesToOpenAI } from './request.js';
import { completionToResponse, echoOf } from './response.js';
import { ResponsesStreamEncoder } from './stream.js';
import { toolMapOf, type ToolMap } from './tools.js';

export function responsesCodec(body: Json): InboundCodec {
  const echo = echoOf(body);
  let map: ToolMap | undefined;
  // built on first use: a passthrough request never needs it
  const tools = (): ToolMap => (map ??= toolMapOf(body));
  return {
    protocol: 'openai',
    toOpenAI: (raw, opts) => responsesToOpenAI(raw as Json, opts.dropped),
    fromOpenAI: (completion, usage, requestedModel) =>
      completionToResponse(completion, usage, requestedModel, echo, tools()),
    streamEncoder: (requestedModel) => new ResponsesStreamEncoder(requestedModel, echo, tools()),
    errorBody: openaiErrorBody,
    streamEnded: (ev) => ev.kind === 'sse' && ev.event === 'response.completed',
  };
}
