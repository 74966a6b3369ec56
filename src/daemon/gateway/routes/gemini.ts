/**
 * Gemini-native inbound: `POST /v1beta/models/{model}:generateContent` and
 * `:streamGenerateContent` (SSE), served by any channel type: bytes passed through to `gemini`
 * channels (the model in the path rewritten to the upstream's), converted for the others.
 * `:embedContent` and `:batchEmbedContents` pass through to `gemini` channels and reach
 * OpenAI-protocol channels through `/v1/embeddings`; `:countTokens` is answered by the gateway's
 * own tokenizer, as Anthropic's count_tokens is.
 */
import type { FastifyInstance } from 'fastify';
import { BcError } from '../../../shared/errors.js';
import type { OpenAIChatRequest } from '../../providers/openai/types.js';
import { getCodec } from '../../registry.js';
import type { RequestSpec } from '../context.js';
import type { GatewayState } from '../state.js';
import { answerPromptCount, callFromFastify, handleRelay, parseJsonObject } from '../handler.js';
import {
  geminiEmbedAnswer,
  openaiEmbedBody,
  readEmbedRequest,
  renameEmbedModels,
  type EmbedAction,
} from '../../inbound/gemini/embeddings.js';

const CHAT_ACTIONS = new Set(['generateContent', 'streamGenerateContent']);

export function registerGeminiRoutes(app: FastifyInstance, state: GatewayState): void {
  for (const version of ['v1beta', 'v1']) {
    app.post(`/${version}/models/*`, (req, reply) => {
      const target = (req.params as { '*': string })['*'];
      return handleRelay(state, callFromFastify(req, reply), 'gemini', (raw, ct) =>
        geminiSpec(version, target, raw, ct),
      );
    });
  }
}

/** What every Gemini method's spec shares: the route, the body, the upstream path. */
interface GeminiCall {
  version: string;
  model: string;
  action: string;
  raw: Buffer;
  contentType: string;
}

function sharedSpec(
  c: GeminiCall,
  body: Record<string, unknown>,
  stream: boolean,
): Omit<RequestSpec, 'kind' | 'canonical'> {
  return {
    protocol: 'gemini',
    endpoint: `/${c.version}/models/{model}:${c.action}`,
    model: c.model,
    stream,
    raw: c.raw,
    contentType: c.contentType,
    body,
    clientWantsUsage: false,
    passthroughPath: (up) =>
      `/v1beta/models/${encodeURIComponent(up)}:${c.action}${stream ? '?alt=sse' : ''}`,
  };
}

function geminiSpec(version: string, target: string, raw: Buffer, contentType: string): RequestSpec {
  const colon = target.lastIndexOf(':');
  const model = decodeURIComponent(colon > 0 ? target.slice(0, colon) : target);
  const action = colon > 0 ? target.slice(colon + 1) : '';
  const call: GeminiCall = { version, model, action, raw, contentType };
  if (action === 'embedContent' || action === 'batchEmbedContents') return embedSpec(call, action);
  if (action === 'countTokens') return countSpec(call);
  if (!CHAT_ACTIONS.has(action)) {
    throw new BcError(
      'UNSUPPORTED',
      `unsupported Gemini method "${action}": the gateway serves generateContent, streamGenerateContent, embedContent, batchEmbedContents and countTokens`,
    );
  }
  const stream = action === 'streamGenerateContent';
  const body = parseJsonObject(raw);
  // Converted now, so a body Gemini would refuse gets its 400 whichever channel serves it; what
  // the conversion drops is named only if a converting attempt sends it (conversionDropped).
  const dropped: string[] = [];
  const canonical: OpenAIChatRequest = getCodec('gemini').toOpenAI(body, { model, stream, dropped });
  return {
    ...sharedSpec(call, body, stream),
    kind: 'chat',
    canonical: () => canonical,
    conversionDropped: dropped,
  };
}

function embedSpec(call: GeminiCall, action: EmbedAction): RequestSpec {
  const body = parseJsonObject(call.raw);
  const request = readEmbedRequest(body, action);
  return {
    ...sharedSpec(call, body, false),
    kind: 'forward',
    passthroughBody: (up) => renameEmbedModels(body, action, up),
    viaOpenAI: {
      path: '/v1/embeddings',
      body: (up) => openaiEmbedBody(request, up),
      answer: (answer) => geminiEmbedAnswer(answer, action),
    },
    promptText: request.texts.join('\n'),
    canonical: () => {
      throw new BcError('UNSUPPORTED', `${action} has no chat form`);
    },
  };
}

/** `countTokens` takes `contents` (or a whole `generateContentRequest`); counted like the prompt of a chat. */
function countSpec(call: GeminiCall): RequestSpec {
  const body = parseJsonObject(call.raw);
  const inner = body.generateContentRequest;
  const request = typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : body;
  // Counted by the gateway, sent nowhere: nothing is dropped.
  const canonical = getCodec('gemini').toOpenAI(request, { model: call.model, stream: false, dropped: [] });
  return {
    ...sharedSpec(call, body, false),
    kind: 'chat',
    canonical: () => canonical,
    local: answerPromptCount('totalTokens'),
  };
}
