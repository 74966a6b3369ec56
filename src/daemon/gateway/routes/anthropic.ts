/**
 * Anthropic-native inbound: `POST /v1/messages` (stream and not) served by any channel type —
 * bytes passed through to `anthropic` channels, converted for the others — and
 * `POST /v1/messages/count_tokens`, answered locally by the offline tokenizer so it works
 * whatever channel serves the model.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OpenAIChatRequest } from '../../providers/openai/types.js';
import { getCodec } from '../../providers/registry.js';
import type { RelayContext, RequestSpec } from '../context.js';
import type { GatewayState } from '../state.js';
import { handleRelay, parseJsonObject } from '../handler.js';
import { countChatTokens } from '../tokens.js';
import { sendBody } from '../client-wire.js';

export function registerAnthropicRoutes(app: FastifyInstance, state: GatewayState): void {
  app.post('/v1/messages', (req, reply) => handleRelay(state, req, reply, 'anthropic', messagesSpec));
  app.post('/v1/messages/count_tokens', (req, reply) => countTokens(state, req, reply));
}

function messagesSpec(raw: Buffer, contentType: string, endpoint = '/v1/messages'): RequestSpec {
  const body = parseJsonObject(raw);
  const codec = getCodec('anthropic');
  const dropped: string[] = [];
  // converted now so a bad body is a 400 naming the field even when it would pass through untouched
  const canonical: OpenAIChatRequest = codec.toOpenAI(body, { dropped });
  const model = canonical.model;
  return {
    protocol: 'anthropic',
    endpoint,
    kind: 'chat',
    model,
    stream: body.stream === true,
    raw,
    contentType,
    body,
    clientWantsUsage: false,
    passthroughPath: () => endpoint,
    canonical: () => canonical,
    dropped,
  };
}

async function countTokens(state: GatewayState, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  await handleRelay(state, req, reply, 'anthropic', (raw, ct) => ({
    ...messagesSpec(raw, ct, '/v1/messages/count_tokens'),
    stream: false,
    local: async (ctx: RelayContext) => {
      const tokens = await countChatTokens(ctx.canonical());
      sendBody(ctx, 200, 'application/json', JSON.stringify({ input_tokens: tokens }));
    },
  }));
}
