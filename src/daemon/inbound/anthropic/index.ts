/**
 * The Anthropic inbound codec: lets Anthropic clients (the official SDK, Claude Code) call
 * `/v1/messages` and be served by a channel of any protocol. Requests become canonical OpenAI
 * requests; completions, stream chunks and errors come back in Anthropic's shapes.
 */
import type { OpenAIChatRequest } from '../../providers/openai/types.js';
import type { InboundCodec } from '../types.js';
import { anthropicToOpenAI } from './request.js';
import { completionToMessage } from './response.js';
import { AnthropicStreamEncoder } from './stream.js';
import { anthropicErrorBody } from './errors.js';

export const anthropicCodec: InboundCodec = {
  protocol: 'anthropic',
  toOpenAI: (body, opts) => anthropicToOpenAI(body, opts),
  fromOpenAI: (completion, usage, requestedModel) => completionToMessage(completion, usage, requestedModel),
  streamEncoder: (requestedModel, promptTokens) => new AnthropicStreamEncoder(requestedModel, promptTokens),
  errorBody: (err) => ({ status: err.status, body: anthropicErrorBody(err) }),
  streamEnded: (ev) => ev.kind === 'sse' && ev.event === 'message_stop',
};

/**
 * A `/v1/messages/count_tokens` body (no max_tokens) -> canonical request, for counting tokens
 * locally when the channel cannot count them natively.
 */
export function countTokensToOpenAI(body: unknown, dropped: string[]): OpenAIChatRequest {
  return anthropicToOpenAI(body, { dropped }, false);
}
