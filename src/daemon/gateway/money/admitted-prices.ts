/**
 * The prices a request is billed at, fixed when it is admitted (SPEC section 7). Admission reserves
 * a worst case at the prices in force then; if settlement looked the price up again, a `bc price
 * set`, a group-ratio change, a snapshot rebuild or a dated catalog price switching while the
 * request is in flight would bill more than was reserved and spend could pass the budget. So
 * admission captures the price of every upstream model a candidate channel would serve the request
 * as, and the key's group ratio, and both the reservation and settlement read only those. For a key
 * with a budget a channel whose settlement would have no price is not a candidate at all: served
 * there, the request would settle at cost null and its spend would go uncounted.
 */
import type { PriceRecord } from '../../store/types.js';
import type { RelayContext } from '../context.js';
import type { GatewayState } from '../state.js';
import { drawsOnMoney, type RouteKey } from '../snapshot.js';
import { priceFor } from './worst-case.js';

export interface AdmittedPrices {
  /** the key's group ratio at admission */
  ratio: number;
  /** upstream model a candidate channel maps the request to -> the price settlement bills there */
  byUpstream: Map<string, PriceRecord | undefined>;
  /** the price of a request no channel was reached for (only null vs 0 depends on it) */
  unrouted: PriceRecord | undefined;
  /** the key has a budget: only channels priced at admission may serve the request */
  pricedOnly: boolean;
}

/** The prices in force now for every channel that may serve this request for this key. */
export function capturePrices(state: GatewayState, model: string, key: RouteKey): AdmittedPrices {
  const snap = state.snapshot;
  const group = key.record.group;
  const byUpstream = new Map<string, PriceRecord | undefined>();
  for (const tier of snap.tiersByModel.get(model) ?? []) {
    for (const c of tier.channels) {
      if (!c.groups.has(group)) continue;
      const upstream = c.upstreamModel.get(model) ?? model;
      if (!byUpstream.has(upstream)) byUpstream.set(upstream, priceFor(state, model, upstream));
    }
  }
  return {
    ratio: snap.groupRatios.get(group) ?? 1,
    byUpstream,
    unrouted: priceFor(state, model),
    pricedOnly: drawsOnMoney(key),
  };
}

/**
 * May the request be served as `upstreamModel`? Always for a key without a budget; for one with a
 * budget only where admission found a price (a channel a later rebuild added, or remapped to a
 * model admission did not price, was not reserved for).
 */
export function servable(ctx: RelayContext, upstreamModel: string): boolean {
  const p = ctx.prices;
  return !p?.pricedOnly || p.byUpstream.get(upstreamModel) !== undefined;
}

/** The price and group ratio settlement bills: admission's, else (never admitted) today's. */
export function billedPrice(
  state: GatewayState,
  ctx: RelayContext,
): { price: PriceRecord | undefined; ratio: number } {
  const p = ctx.prices;
  const up = ctx.upstreamModel;
  if (p && (up === null || p.byUpstream.has(up)))
    return { price: up === null ? p.unrouted : p.byUpstream.get(up), ratio: p.ratio };
  const ratio = p?.ratio ?? state.snapshot.groupRatios.get(ctx.key?.record.group ?? '') ?? 1;
  return { price: priceFor(state, ctx.model, up), ratio };
}
