/**
 * The effective price of every model the gateway serves: a `bc price set` override first, else
 * the catalog's price in force now for the upstream model as the serving channels' providers
 * price it, else the supplement's row (data/prices.json). Catalog prices are resolved when first
 * asked for and kept until the catalog's next dated or time-of-day change for that model, so a
 * daemon running across a price change bills the new price from that instant without a restart.
 * The gateway's snapshot holds one book, rebuilt with the snapshot on every control change.
 */
import type { ChannelType } from '../../shared/control-api.js';
import type { ChannelRecord, PriceRecord } from '../store/types.js';
import { catalogPrices, catalogSource, matchCatalog } from './catalog.js';
import { catalogPriceAt } from './catalog-price.js';
import { outputLimit } from './output-limits.js';
import { supplement } from './supplement.js';

interface Resolved {
  price: PriceRecord | undefined;
  catalogModel: string | undefined;
  until: number;
}

export class PriceBook {
  private readonly overrides = new Map<string, PriceRecord>();
  private readonly resolved = new Map<string, Resolved>();

  /**
   * @param overrides the store's `bc price set` rows
   * @param served upstream model name -> the types of the channels serving it, in routing order
   */
  constructor(
    overrides: readonly PriceRecord[],
    private readonly served: ReadonlyMap<string, readonly ChannelType[]>,
  ) {
    for (const o of overrides) this.overrides.set(o.model, o);
  }

  static empty(): PriceBook {
    return new PriceBook([], new Map());
  }

  /** The effective price of `model` at `now`, or undefined when it is unpriced. */
  get(model: string, now = Date.now()): PriceRecord | undefined {
    const own = this.overrides.get(model);
    if (own) {
      if (own.maxOutputTokens !== null || !this.served.has(model)) return own;
      return { ...own, maxOutputTokens: this.lookup(model, now).price?.maxOutputTokens ?? null };
    }
    return this.served.has(model) ? this.lookup(model, now).price : undefined;
  }

  /** The catalog model `model` is priced as (catalog rows only). */
  catalogModel(model: string, now = Date.now()): string | undefined {
    return this.served.has(model) && !this.overrides.has(model)
      ? this.lookup(model, now).catalogModel
      : undefined;
  }

  private lookup(model: string, now: number): Resolved {
    let r = this.resolved.get(model);
    if (r === undefined || now >= r.until) {
      r = resolve(model, this.served.get(model) ?? [], now);
      this.resolved.set(model, r);
    }
    return r;
  }
}

/** The catalog's price for an upstream model served by channels of these types, else the supplement's. */
export function resolve(model: string, types: readonly ChannelType[], now: number): Resolved {
  // self-hosted channels (ollama, vllm) have no list price: only an override prices them
  if (types.length > 0 && !types.some(catalogPrices))
    return { price: undefined, catalogModel: undefined, until: Infinity };
  const hit = matchCatalog(model, types);
  const at = hit && catalogPriceAt(hit.model, now);
  if (hit && at) {
    const price: PriceRecord = {
      model,
      ...at.price,
      maxOutputTokens: outputLimit(model, hit.model.id),
      source: catalogSource(),
    };
    return { price, catalogModel: hit.model.id, until: at.until };
  }
  const row = supplement().rows.find((r) => r.model === model);
  return { price: row, catalogModel: undefined, until: Infinity };
}

/**
 * Upstream model name -> channel types serving it, channels in the router's order (priority,
 * highest first, then oldest first), so the first type is that of the channel tried first.
 */
export function servedModels(channels: readonly ChannelRecord[]): Map<string, ChannelType[]> {
  const ordered = [...channels].sort((a, b) => b.priority - a.priority || a.id - b.id);
  const served = new Map<string, ChannelType[]>();
  for (const c of ordered) {
    for (const upstream of [...c.models, ...Object.values(c.map)]) {
      const types = served.get(upstream) ?? [];
      if (!types.includes(c.type)) types.push(c.type);
      served.set(upstream, types);
    }
  }
  return served;
}
