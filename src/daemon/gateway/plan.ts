/**
 * What one attempt sends upstream: the client's own bytes when the channel speaks the client's
 * protocol (passthrough; the model renamed, a stream's usage asked for and a budget's lowered
 * output limit written only when needed), or the adapter's conversion of the canonical request
 * (with the lowered limit too). Undefined when the channel's type cannot serve the endpoint at all.
 */
import type { ProviderAdapter, UpstreamRequest, UpstreamTarget } from '../providers/types.js';
import type { RelayContext, ViaOpenAI } from './context.js';
import { limitCanonical, limitPassthrough } from './money/output-limit.js';

export interface Plan {
  req: UpstreamRequest;
  passthrough: boolean;
  /** OpenAI stream whose usage the gateway asked for on the client's behalf */
  injectedUsage: boolean;
  /** Gemini embeddings and similar non-chat conversions */
  embeddings: boolean;
  /** the answer of an endpoint served through another (RequestSpec.viaOpenAI), in the client's shape */
  reshape?: ViaOpenAI['answer'];
}

export function planRequest(
  ctx: RelayContext,
  adapter: ProviderAdapter,
  target: UpstreamTarget,
): Plan | undefined {
  const up = target.upstreamModel;
  if (ctx.kind === 'forward') {
    if (adapter.passthrough === ctx.protocol && adapter.passthroughRequest) {
      const body = ctx.passthroughBody?.(up) ?? rewriteBody(ctx, target, false);
      return {
        req: adapter.passthroughRequest(ctx.passthroughPath(up), body, target, ctx.contentType),
        passthrough: true,
        injectedUsage: false,
        embeddings: false,
      };
    }
    const via = ctx.viaOpenAI;
    if (via && adapter.passthrough === 'openai' && adapter.passthroughRequest) {
      const req = adapter.passthroughRequest(via.path, via.body(up), target, 'application/json');
      return { req, passthrough: false, injectedUsage: false, embeddings: false, reshape: via.answer };
    }
    if (ctx.endpoint === '/v1/embeddings' && adapter.embeddingsRequest && ctx.body) {
      const req = adapter.embeddingsRequest({ ...ctx.body, model: up }, target, { dropped: ctx.dropped });
      return { req, passthrough: false, injectedUsage: false, embeddings: true };
    }
    // the Responses API: converted like a chat request, below
    if (!ctx.codec) return undefined;
  }
  if (adapter.passthrough === ctx.protocol && adapter.passthroughRequest) {
    const inject = ctx.protocol === 'openai' && ctx.stream && !ctx.clientWantsUsage;
    const body = rewriteBody(ctx, target, inject);
    const req = adapter.passthroughRequest(ctx.passthroughPath(up), body, target, ctx.contentType);
    if (ctx.forwardHeaders) Object.assign(req.headers, ctx.forwardHeaders);
    return {
      req,
      passthrough: true,
      injectedUsage: inject,
      embeddings: false,
    };
  }
  const limited =
    ctx.outputLimit === null ? ctx.canonical() : limitCanonical(ctx.canonical(), ctx.outputLimit);
  const canonical = { ...limited, model: up };
  for (const f of ctx.conversionDropped ?? []) if (!ctx.dropped.includes(f)) ctx.dropped.push(f);
  return {
    req: adapter.chatRequest(canonical, target, { dropped: ctx.dropped }),
    passthrough: false,
    injectedUsage: false,
    embeddings: false,
  };
}

/**
 * The client's bytes, unless the model must be renamed, the stream asked for usage or the
 * output limit lowered: then the parsed body re-serialised with those changes only.
 */
function rewriteBody(ctx: RelayContext, target: UpstreamTarget, injectUsage: boolean): Buffer {
  const b = ctx.body;
  const up = target.upstreamModel;
  const renames = b !== undefined && typeof b.model === 'string' && b.model !== up;
  const limit = ctx.outputLimit;
  if (!b || (!renames && !injectUsage && limit === null)) return ctx.raw;
  const copy: Record<string, unknown> = { ...b };
  if (renames) copy.model = up;
  if (injectUsage) copy.stream_options = Object.assign({}, b.stream_options, { include_usage: true });
  if (limit !== null) limitPassthrough(ctx, copy, limit, target.channel.type);
  return Buffer.from(JSON.stringify(copy));
}
