/**
 * OpenAI chat request -> Azure OpenAI request. The body stays OpenAI's, built by the OpenAI
 * family's builder (model set, usage asked for on streams), with two Azure-facing adjustments:
 * reasoning deployments (o-series, gpt-5) reject `max_tokens` while every deployment on the
 * default API version takes `max_completion_tokens`, and Azure's schema validation rejects
 * message fields it does not know, such as another provider's `reasoning_content`.
 */
import { buildChatBody, renameMaxTokens, stripReasoning } from '../openai/request.js';
import type { OpenAIChatRequest } from '../openai/types.js';
import type { ConvertContext, UpstreamRequest, UpstreamTarget } from '../types.js';
import { azureHeaders, azureUrl } from './urls.js';

export function azureChatBody(
  req: OpenAIChatRequest,
  target: UpstreamTarget,
  ctx: ConvertContext,
): OpenAIChatRequest {
  const body = buildChatBody(req, target, ctx);
  renameMaxTokens(body);
  body.messages = stripReasoning(body.messages, ctx);
  return body;
}

export function azureChatRequest(
  req: OpenAIChatRequest,
  target: UpstreamTarget,
  ctx: ConvertContext,
): UpstreamRequest {
  return {
    method: 'POST',
    url: azureUrl(target, '/chat/completions'),
    headers: {
      ...azureHeaders(target, 'application/json'),
      accept: req.stream === true ? 'text/event-stream' : 'application/json',
    },
    body: JSON.stringify(azureChatBody(req, target, ctx)),
  };
}

export function azureEmbeddingsRequest(
  body: Record<string, unknown>,
  target: UpstreamTarget,
  _ctx: ConvertContext,
): UpstreamRequest {
  return {
    method: 'POST',
    url: azureUrl(target, '/embeddings'),
    headers: azureHeaders(target, 'application/json'),
    body: JSON.stringify({ ...body, model: target.upstreamModel }),
  };
}
