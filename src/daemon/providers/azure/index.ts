/**
 * The Azure OpenAI adapter. Azure speaks OpenAI's wire format at different URLs (deployment in
 * the path, `api-version` in the query) with an `api-key` header, so OpenAI clients get
 * passthrough and everything else reuses the OpenAI family's response, stream and usage readers;
 * the stream normaliser already skips Azure's opening empty-choices filter chunk. Only the URLs,
 * the request tweaks and the error codes are Azure's own.
 */
import { answerText, usageFromOpenAIBody, usageFromOpenAIEvent } from '../openai/frames.js';
import { chatResponse, embeddingsResponse } from '../openai/response.js';
import { createOpenAIStreamConverter } from '../openai/stream.js';
import type { ProviderAdapter, UpstreamRequest, UpstreamTarget } from '../types.js';
import { classifyAzureError } from './errors.js';
import { azureChatRequest, azureEmbeddingsRequest } from './request.js';
import { azureHeaders, azurePassthroughUrl } from './urls.js';

function passthroughRequest(
  path: string,
  body: Buffer,
  target: UpstreamTarget,
  contentType: string,
): UpstreamRequest {
  // The content type goes through as given so multipart boundaries (audio uploads) still match.
  return {
    method: 'POST',
    url: azurePassthroughUrl(path, target),
    headers: azureHeaders(target, contentType),
    body,
  };
}

export const azureAdapter: ProviderAdapter = {
  types: ['azure'],
  defaultBaseUrl: () => null,
  passthrough: 'openai',
  streamFraming: 'sse',
  chatRequest: azureChatRequest,
  chatResponse: (body, target) => chatResponse(body, target),
  chatStream: createOpenAIStreamConverter,
  classifyError: classifyAzureError,
  passthroughRequest,
  usageFromBody: usageFromOpenAIBody,
  usageFromEvent: usageFromOpenAIEvent,
  answerText,
  embeddingsRequest: azureEmbeddingsRequest,
  embeddingsResponse: (body) => embeddingsResponse(body),
};

export { AZURE_DEFAULT_API_VERSION } from './urls.js';
