/**
 * The adapter for every channel type that speaks OpenAI Chat Completions: OpenAI itself and the
 * compatible servers (Qwen compatible mode, DeepSeek, Groq, Mistral, OpenRouter, xAI, Together,
 * Ollama, vLLM, any other). OpenAI clients get passthrough (their bytes, our URL and key); other
 * clients go through the canonical OpenAI shape, which here needs only light normalisation.
 */
import type { ChannelType } from '../../../shared/control-api.js';
import type { ProviderAdapter } from '../types.js';
import { classifyOpenAIError } from './errors.js';
import { answerText, usageFromOpenAIBody, usageFromOpenAIEvent } from './frames.js';
import { chatRequest, embeddingsRequest, passthroughRequest } from './request.js';
import { chatResponse, embeddingsResponse } from './response.js';
import { createOpenAIStreamConverter } from './stream.js';

/** base URL per type, as the type's official SDK takes it (version prefix included) */
export const OPENAI_FAMILY_BASE_URLS = {
  openai: 'https://api.openai.com/v1',
  qwen: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
  deepseek: 'https://api.deepseek.com/v1',
  groq: 'https://api.groq.com/openai/v1',
  mistral: 'https://api.mistral.ai/v1',
  openrouter: 'https://openrouter.ai/api/v1',
  xai: 'https://api.x.ai/v1',
  together: 'https://api.together.xyz/v1',
  ollama: 'http://127.0.0.1:11434/v1',
  vllm: 'http://127.0.0.1:8000/v1',
  'openai-compatible': null,
} as const satisfies Partial<Record<ChannelType, string | null>>;

const TYPES = Object.keys(OPENAI_FAMILY_BASE_URLS) as (keyof typeof OPENAI_FAMILY_BASE_URLS)[];

function isOpenAIFamily(type: ChannelType): type is keyof typeof OPENAI_FAMILY_BASE_URLS {
  return Object.hasOwn(OPENAI_FAMILY_BASE_URLS, type);
}

export const openaiAdapter: ProviderAdapter = {
  types: TYPES,
  defaultBaseUrl: (type: ChannelType) => (isOpenAIFamily(type) ? OPENAI_FAMILY_BASE_URLS[type] : null),
  passthrough: 'openai',
  streamFraming: 'sse',
  chatRequest,
  chatResponse: (body, target) => chatResponse(body, target),
  chatStream: createOpenAIStreamConverter,
  classifyError: classifyOpenAIError,
  passthroughRequest,
  usageFromBody: usageFromOpenAIBody,
  usageFromEvent: usageFromOpenAIEvent,
  answerText,
  embeddingsRequest,
  embeddingsResponse: (body) => embeddingsResponse(body),
};

export { classifyOpenAIError, parseOpenAIErrorMessage } from './errors.js';
export { isUsageOnlyChunk, usageFromChunkData } from './frames.js';
export { createOpenAIStreamConverter } from './stream.js';
export { usageFromOpenAI } from './usage.js';
