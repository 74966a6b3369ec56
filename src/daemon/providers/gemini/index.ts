/**
 * The Gemini (generativelanguage) adapter: OpenAI chat <-> generateContent, passthrough for
 * Gemini-native clients, and embeddings through batchEmbedContents. The pieces live beside this
 * file (request, response, stream, errors, embeddings); this module only wires them to the
 * ProviderAdapter contract and reads usage on the passthrough path.
 */
import type { OpenAIChatRequest } from '../openai/types.js';
import type {
  ConvertContext,
  ProviderAdapter,
  StreamEvent,
  UpstreamRequest,
  UpstreamTarget,
  Usage,
} from '../types.js';
import { geminiEmbeddingsRequest, geminiEmbeddingsResponse } from './embeddings.js';
import { classifyGeminiError } from './errors.js';
import { toGeminiRequest } from './request.js';
import { asGeminiResponse, fromGeminiResponse } from './response.js';
import { createGeminiStreamConverter } from './stream.js';
import { geminiHeaders, modelUrl, passthroughUrl } from './urls.js';
import { usageFromGemini } from './usage.js';

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

function chatRequest(req: OpenAIChatRequest, target: UpstreamTarget, ctx: ConvertContext): UpstreamRequest {
  const method = req.stream === true ? 'streamGenerateContent?alt=sse' : 'generateContent';
  return {
    method: 'POST',
    url: modelUrl(target, method),
    headers: geminiHeaders(target),
    body: JSON.stringify(toGeminiRequest(req, ctx)),
  };
}

function passthroughRequest(
  path: string,
  body: Buffer,
  target: UpstreamTarget,
  contentType: string,
): UpstreamRequest {
  return {
    method: 'POST',
    url: passthroughUrl(path, target),
    headers: geminiHeaders(target, contentType),
    body,
  };
}

function usageFromBody(body: unknown): Usage | null {
  return usageFromGemini(asGeminiResponse(body).usageMetadata);
}

/** Every stream chunk repeats usageMetadata, growing; the last one holds the totals. */
function usageFromEvent(event: StreamEvent, previous: Usage | null): Usage | null {
  if (event.kind !== 'sse' || !event.data.includes('"usageMetadata"')) return previous;
  try {
    return usageFromGemini(asGeminiResponse(JSON.parse(event.data)).usageMetadata) ?? previous;
  } catch {
    return previous;
  }
}

export const geminiAdapter: ProviderAdapter = {
  types: ['gemini'],
  defaultBaseUrl: () => GEMINI_DEFAULT_BASE_URL,
  passthrough: 'gemini',
  streamFraming: 'sse',
  chatRequest,
  chatResponse: (body, target) => fromGeminiResponse(body, target),
  chatStream: (target) => createGeminiStreamConverter(target),
  classifyError: classifyGeminiError,
  passthroughRequest,
  usageFromBody,
  usageFromEvent,
  embeddingsRequest: geminiEmbeddingsRequest,
  embeddingsResponse: geminiEmbeddingsResponse,
};
