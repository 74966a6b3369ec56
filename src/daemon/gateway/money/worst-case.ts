/**
 * A request's worst case, as admission reserves it against a budget (SPEC section 7): the most
 * that any way of serving it could settle for. The price is the dearest that settlement could
 * apply on any channel that may serve the request (failover may pick any of them, and an alias may
 * map to a dearer upstream model), found with the same function settlement uses. The prompt is
 * bounded as another tokenizer may count it (meter.ts worstInput). The output is the limit per
 * answer times the answers billed (`n`, `best_of`, `candidateCount`) when some channel takes the
 * request as sent, since conversions drop those fields; plus, on top of the limit, what a
 * conversion or the upstream may add (thinking a Claude conversion puts above the limit, the
 * rejected tokens of an OpenAI prediction).
 */
import { BcError } from '../../../shared/errors.js';
import type { PriceRecord } from '../../store/types.js';
import { getAdapter } from '../../registry.js';
import type { RelayContext } from '../context.js';
import type { GatewayState } from '../state.js';
import type { RouteKey } from '../snapshot.js';
import {
  costTerms,
  dearestOf,
  DEFAULT_OUTPUT_LIMIT,
  worstInput,
  type CostTerms,
  type OutputAsk,
} from './meter.js';
import { readOutputRequest, type OutputRequest } from './output-limit.js';
import { countTextTokens } from '../tokens/tokens.js';

/** A lowered output limit keeps at least this many tokens beyond any thinking budget (SPEC 7). */
export const MIN_LOWERED_OUTPUT = 1024;

/**
 * The price settlement bills for `model` served as `upstreamModel`: the model's own row (an
 * override, or a model a channel serves under that name), else the upstream model's. Without an
 * upstream model (no channel was reached), the first priced upstream model of its channels.
 */
export function priceFor(
  state: GatewayState,
  model: string,
  upstreamModel?: string | null,
): PriceRecord | undefined {
  const prices = state.snapshot.prices;
  const own = prices.get(model) ?? (upstreamModel ? prices.get(upstreamModel) : undefined);
  if (own || upstreamModel) return own;
  for (const tier of state.snapshot.tiersByModel.get(model) ?? []) {
    for (const c of tier.channels) {
      const p = prices.get(c.upstreamModel.get(model) ?? model);
      if (p) return p;
    }
  }
  return undefined;
}

/** The channels that may serve a request for a key's group, as far as money is concerned. */
interface Routes {
  /** the price settlement would bill on each of them (priced ones only) */
  prices: PriceRecord[];
  /** one of them speaks the client's protocol: the body goes as sent, n and all */
  passthrough: boolean;
  /** one of them speaks another protocol: the request is converted */
  converts: boolean;
}

function routesOf(state: GatewayState, ctx: RelayContext, group: string): Routes {
  const out: Routes = { prices: [], passthrough: false, converts: false };
  for (const tier of state.snapshot.tiersByModel.get(ctx.model) ?? []) {
    for (const c of tier.channels) {
      if (!c.groups.has(group)) continue;
      const upstream = c.upstreamModel.get(ctx.model) ?? ctx.model;
      // the prices admission captured, which settlement bills (admitted-prices.ts)
      const price = ctx.prices ? ctx.prices.byUpstream.get(upstream) : priceFor(state, ctx.model, upstream);
      // an unpriced channel is no candidate for a key with a budget: it adds no way of serving
      if (!price) continue;
      out.prices.push(price);
      if (getAdapter(c.record.type).passthrough === ctx.protocol) out.passthrough = true;
      else out.converts = true;
    }
  }
  return out;
}

export interface WorstCase {
  terms: CostTerms;
  ask: OutputAsk;
  wants: OutputRequest;
}

/** The worst case of a request by a key with a budget; throws MODEL_NOT_PRICED. */
export async function worstCase(
  state: GatewayState,
  ctx: RelayContext,
  key: RouteKey,
  counted: number,
): Promise<WorstCase> {
  const routes = routesOf(state, ctx, key.record.group);
  const price = dearestOf(routes.prices);
  if (!price) {
    throw new BcError(
      'MODEL_NOT_PRICED',
      `model "${ctx.model}" has no price and this key draws on a budget or a balance: set one with \`bc price set\``,
    );
  }
  const ratio = ctx.prices?.ratio ?? state.snapshot.groupRatios.get(key.record.group) ?? 1;
  // a JSON body's bytes bound what the local count may miss; other bodies are counted from bytes already
  const input = ctx.body === undefined ? counted : worstInput(counted, ctx.raw.length);
  const wants = readOutputRequest(ctx);
  const ask = await outputAsk(key, wants, price, routes);
  return { terms: costTerms(input, price, ratio), ask, wants };
}

/**
 * The output a request reserves and how far it may be lowered. A reasoning effort that a channel
 * serving this model would convert into Claude thinking is reserved on top of the limit (such a
 * channel may put it there), and is the thinking budget a lowered limit must leave room for.
 */
async function outputAsk(
  key: RouteKey,
  wants: OutputRequest,
  price: PriceRecord,
  routes: Routes,
): Promise<OutputAsk> {
  const limit = wants.asked ?? price.maxOutputTokens ?? DEFAULT_OUTPUT_LIMIT;
  const effort = wants.effortThinking > 0 && routes.converts ? wants.effortThinking : 0;
  // a prediction reaches only an OpenAI-protocol upstream; conversions drop it
  const predicted = routes.passthrough && wants.prediction ? await countTextTokens(wants.prediction) : 0;
  const thinking = Math.max(wants.nativeThinking, effort);
  const lowerable = wants.writable && !key.record.strictBudget;
  return {
    limit,
    choices: routes.passthrough ? wants.choices : 1,
    extra: effort + predicted,
    clamp: lowerable ? { min: thinking + MIN_LOWERED_OUTPUT, max: limit } : null,
  };
}
