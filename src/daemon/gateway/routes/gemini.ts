/**
 * Gemini-native inbound: `POST /v1beta/models/{model}:generateContent` and
 * `:streamGenerateContent` (SSE), served by any channel type: bytes passed through to `gemini`
 * channels (the model in the path rewritten to the upstream's), converted for the others.
 */
import type { FastifyInstance } from 'fastify';
import { BcError } from '../../../shared/errors.js';
import type { OpenAIChatRequest } from '../../providers/openai/types.js';
import { getCodec } from '../../providers/registry.js';
import type { RequestSpec } from '../context.js';
import type { GatewayState } from '../state.js';
import { callFromFastify, handleRelay, parseJsonObject } from '../handler.js';

const ACTIONS = new Set(['generateContent', 'streamGenerateContent']);

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

function geminiSpec(version: string, target: string, raw: Buffer, contentType: string): RequestSpec {
  const colon = target.lastIndexOf(':');
  const model = decodeURIComponent(colon > 0 ? target.slice(0, colon) : target);
  const action = colon > 0 ? target.slice(colon + 1) : '';
  if (!ACTIONS.has(action)) {
    throw new BcError(
      'UNSUPPORTED',
      `unsupported Gemini method "${action}": use generateContent or streamGenerateContent`,
    );
  }
  const stream = action === 'streamGenerateContent';
  const body = parseJsonObject(raw);
  const dropped: string[] = [];
  const canonical: OpenAIChatRequest = getCodec('gemini').toOpenAI(body, { model, stream, dropped });
  return {
    protocol: 'gemini',
    endpoint: `/${version}/models/{model}:${action}`,
    kind: 'chat',
    model,
    stream,
    raw,
    contentType,
    body,
    clientWantsUsage: false,
    passthroughPath: (up) => `/v1beta/models/${encodeURIComponent(up)}:${action}${stream ? '?alt=sse' : ''}`,
    canonical: () => canonical,
    dropped,
  };
}
