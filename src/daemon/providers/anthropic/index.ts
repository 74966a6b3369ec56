/**
 * The Anthropic Messages adapter (channel type `anthropic`). Converts the canonical OpenAI chat
 * request to `POST /v1/messages` and the answer back, and, when the client itself speaks
 * Anthropic, only builds the URL and headers for forwarding its bytes and reads usage on the way.
 */
import type { ProviderAdapter, StreamEvent, UpstreamRequest, UpstreamTarget, Usage } from '../types.js';
import { ANTHROPIC_VERSION, isRecord } from './types.js';
import { toAnthropicRequest } from './request.js';
import { messageToCompletion, parseMessage } from './response.js';
import { AnthropicStreamConverter } from './stream.js';
import { classifyError } from './errors.js';
import { asAnthropicUsage, mergeUsage, usageFromAnthropic } from './usage.js';

export const DEFAULT_BASE_URL = 'https://api.anthropic.com';

export function anthropicHeaders(
  target: UpstreamTarget,
  contentType = 'application/json',
): Record<string, string> {
  return {
    'x-api-key': target.secret,
    'anthropic-version': ANTHROPIC_VERSION,
    'content-type': contentType,
  };
}

function usageFromBody(body: unknown): Usage | null {
  const u = isRecord(body) ? asAnthropicUsage(body.usage) : null;
  return u ? usageFromAnthropic(u) : null;
}

/** Only message_start and message_delta carry usage; other events are skipped without parsing. */
function usageFromEvent(event: StreamEvent, previous: Usage | null): Usage | null {
  if (event.kind !== 'sse') return previous;
  if (event.event !== undefined && event.event !== 'message_start' && event.event !== 'message_delta')
    return previous;
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    return previous;
  }
  if (!isRecord(data)) return previous;
  if (data.type === 'message_start' && isRecord(data.message)) {
    const u = asAnthropicUsage(data.message.usage);
    return u ? mergeUsage(null, u) : previous;
  }
  if (data.type === 'message_delta') {
    const u = asAnthropicUsage(data.usage);
    return u ? mergeUsage(previous, u) : previous;
  }
  return previous;
}

export const anthropicAdapter: ProviderAdapter = {
  types: ['anthropic'],
  defaultBaseUrl: () => DEFAULT_BASE_URL,
  passthrough: 'anthropic',
  streamFraming: 'sse',

  chatRequest(req, target, ctx): UpstreamRequest {
    const body = toAnthropicRequest(req, target.upstreamModel, ctx.dropped);
    return {
      method: 'POST',
      url: `${target.channel.baseUrl}/v1/messages`,
      headers: anthropicHeaders(target),
      body: JSON.stringify(body),
    };
  },

  chatResponse(body, target) {
    return messageToCompletion(parseMessage(body), target.upstreamModel);
  },

  chatStream(target) {
    return new AnthropicStreamConverter(target.upstreamModel);
  },

  classifyError,

  passthroughRequest(path, body, target, contentType): UpstreamRequest {
    return {
      method: 'POST',
      url: `${target.channel.baseUrl}${path}`,
      headers: anthropicHeaders(target, contentType),
      body,
    };
  },

  usageFromBody,
  usageFromEvent,
};
