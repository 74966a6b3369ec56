/**
 * Anthropic-native inbound: `POST /v1/messages` (stream and not) served by any channel type —
 * bytes passed through to `anthropic` channels (with the client's `anthropic-version` and
 * `anthropic-beta` headers), converted for the others — and `POST /v1/messages/count_tokens`,
 * answered locally by the offline tokenizer so it works whatever channel serves the model.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { OpenAIChatRequest } from '../../providers/openai/types.js';
import { getCodec } from '../../registry.js';
import { countTokensToOpenAI } from '../../inbound/anthropic/index.js';
import type { RequestSpec } from '../context.js';
import { answerPromptCount, parseJsonObject } from '../handler.js';
import type { RelayRoutes } from '../lanes.js';

const FORWARDED = ['anthropic-version', 'anthropic-beta'] as const;

export function registerAnthropicRoutes(routes: RelayRoutes): void {
  routes.post('/v1/messages', 'anthropic', messagesSpec);
  routes.post('/v1/messages/count_tokens', 'anthropic', countSpec);
}

function forwardHeaders(headers: IncomingHttpHeaders): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name of FORWARDED) {
    const v = headers[name];
    if (typeof v === 'string' && v.length > 0) (out ??= {})[name] = v;
  }
  return out;
}

function specOf(
  body: Record<string, unknown>,
  raw: Buffer,
  contentType: string,
  canonical: OpenAIChatRequest,
  dropped: string[],
): RequestSpec {
  return {
    protocol: 'anthropic',
    endpoint: '/v1/messages',
    kind: 'chat',
    model: canonical.model,
    stream: body.stream === true,
    raw,
    contentType,
    body,
    clientWantsUsage: false,
    passthroughPath: () => '/v1/messages',
    canonical: () => canonical,
    // named only by an attempt that converts: a passthrough carries every field unchanged
    conversionDropped: dropped,
  };
}

function messagesSpec(raw: Buffer, contentType: string, headers: IncomingHttpHeaders): RequestSpec {
  const body = parseJsonObject(raw);
  const dropped: string[] = [];
  // converted now so a bad body is a 400 naming the field even when it would pass through untouched
  const canonical = getCodec('anthropic').toOpenAI(body, { dropped });
  return { ...specOf(body, raw, contentType, canonical, dropped), forwardHeaders: forwardHeaders(headers) };
}

function countSpec(raw: Buffer, contentType: string): RequestSpec {
  const body = parseJsonObject(raw);
  const dropped: string[] = [];
  const canonical = countTokensToOpenAI(body, dropped);
  return {
    ...specOf(body, raw, contentType, canonical, dropped),
    endpoint: '/v1/messages/count_tokens',
    stream: false,
    local: answerPromptCount('input_tokens'),
  };
}
