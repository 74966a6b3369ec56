/**
 * OpenAI-compatible endpoints. Chat completions are convertible to every channel type; the other
 * endpoints are forwarded to channels that speak OpenAI's protocol (and embeddings also to
 * providers with an embeddings adapter).
 */
import { BcError } from '../../../shared/errors.js';
import type { OpenAIChatRequest } from '../../providers/openai/types.js';
import type { RequestSpec } from '../context.js';
import { parseJsonObject } from '../handler.js';
import type { RelayRoutes } from '../lanes.js';
import { STREAM_FIELD, checkFields, requireModel, validateChat } from '../intake/validate.js';
import { responsesUsage } from '../responses-usage.js';
import { responsesCodec } from '../../inbound/responses/index.js';
import { canonicalChat } from '../../inbound/openai/chat.js';
import { legacyFunctionsCodec, usesLegacyFunctions } from '../../inbound/openai/legacy.js';

/** Forwarded JSON endpoints and the model assumed when the client names none. */
const FORWARDED: Record<string, string | null> = {
  '/v1/completions': null,
  '/v1/embeddings': null,
  '/v1/responses': null,
  '/v1/images/generations': null,
  '/v1/audio/speech': null,
  '/v1/moderations': 'omni-moderation-latest',
  '/v1/rerank': null,
};

export function registerOpenAIRoutes(routes: RelayRoutes): void {
  routes.post('/v1/chat/completions', 'openai', chatSpec);
  for (const [path, defaultModel] of Object.entries(FORWARDED)) {
    routes.post(path, 'openai', (raw, ct) => forwardSpec(path, defaultModel, raw, ct));
  }
  for (const path of ['/v1/audio/transcriptions', '/v1/audio/translations']) {
    routes.post(path, 'openai', (raw, ct) => multipartSpec(path, raw, ct));
  }
}

function chatSpec(raw: Buffer, contentType: string): RequestSpec {
  const body = parseJsonObject(raw);
  const model = validateChat(body);
  const opts = body.stream_options as { include_usage?: unknown } | null | undefined;
  // Legacy function calling and custom tools are rewritten for converting channels only (and a
  // legacy client answered in its own shape); passthrough forwards the body as it came.
  const conversionDropped: string[] = [];
  let canonical: OpenAIChatRequest | undefined;
  return {
    protocol: 'openai',
    endpoint: '/v1/chat/completions',
    kind: 'chat',
    model,
    stream: body.stream === true,
    raw,
    contentType,
    body,
    clientWantsUsage: opts?.include_usage === true,
    passthroughPath: () => '/v1/chat/completions',
    canonical: () => (canonical ??= canonicalChat(body, conversionDropped)),
    conversionDropped,
    ...(usesLegacyFunctions(body) ? { codec: legacyFunctionsCodec(opts?.include_usage === true) } : {}),
  };
}

function forwardSpec(
  path: string,
  defaultModel: string | null,
  raw: Buffer,
  contentType: string,
): RequestSpec {
  const body = parseJsonObject(raw);
  if (body.model === undefined && defaultModel) body.model = defaultModel;
  const model = requireModel(body);
  checkFields(body, STREAM_FIELD);
  return {
    protocol: 'openai',
    endpoint: path,
    kind: 'forward',
    model,
    stream: body.stream === true,
    raw,
    contentType,
    body,
    clientWantsUsage: false,
    passthroughPath: () => path,
    canonical: () => {
      throw new BcError('UNSUPPORTED', `${path} has no chat form`);
    },
    usageReader: path === '/v1/responses' ? responsesUsage : undefined,
    ...(path === '/v1/responses' ? convertibleResponses(body) : {}),
  };
}

/**
 * The Responses API passes through to OpenAI-protocol channels; for the others it is converted
 * (lazily: only a request that reaches such a channel is held to what conversion can carry).
 */
function convertibleResponses(
  body: Record<string, unknown>,
): Pick<RequestSpec, 'canonical' | 'codec' | 'dropped'> {
  const codec = responsesCodec(body);
  const dropped: string[] = [];
  let canonical: OpenAIChatRequest | undefined;
  return { codec, dropped, canonical: () => (canonical ??= codec.toOpenAI(body, { dropped })) };
}

function multipartSpec(path: string, raw: Buffer, contentType: string): RequestSpec {
  if (!/multipart\/form-data/i.test(contentType)) {
    throw new BcError(
      'INVALID_REQUEST',
      'this endpoint takes multipart/form-data with a "file" and a "model" field',
    );
  }
  const model = /name="model"\r\n(?:[^\r\n]+\r\n)*\r\n([^\r\n]+)/.exec(raw.toString('latin1'))?.[1]?.trim();
  if (!model)
    throw new BcError('INVALID_REQUEST', 'model: the multipart form needs a "model" field', {
      param: 'model',
    });
  return {
    protocol: 'openai',
    endpoint: path,
    kind: 'forward',
    model,
    stream: false,
    raw,
    contentType,
    body: undefined,
    clientWantsUsage: false,
    passthroughPath: () => path,
    canonical: () => {
      throw new BcError('UNSUPPORTED', 'audio has no chat form');
    },
  };
}
