/**
 * The Gemini inbound codec: lets Gemini clients (`@google/genai`, gemini-cli) call
 * `/v1beta/models/{model}:generateContent` and `:streamGenerateContent` and be served by a
 * channel of any protocol. Requests become canonical OpenAI requests; completions, stream chunks
 * and errors come back in Gemini's shapes.
 */
import type { InboundCodec } from '../types.js';
import { geminiErrorBody } from './errors.js';
import { geminiToOpenAI } from './request.js';
import { completionToGemini } from './response.js';
import { GeminiStreamEncoder } from './stream.js';

export const geminiCodec: InboundCodec = {
  protocol: 'gemini',
  toOpenAI: (body, opts) => geminiToOpenAI(body, opts),
  fromOpenAI: (completion, usage, requestedModel) => completionToGemini(completion, usage, requestedModel),
  streamEncoder: (requestedModel) => new GeminiStreamEncoder(requestedModel),
  errorBody: (err) => ({ status: err.status, body: geminiErrorBody(err) }),
  // a Gemini stream has no end event: it ends with the body
  streamEnded: () => false,
};

export { geminiFrame } from './stream.js';
export { geminiStatusName } from './errors.js';
