/**
 * `bc price list`: one row per model a channel serves, plus one per override of a model no channel
 * serves, each with the price the gateway would bill now and where it comes from. An alias with
 * no price of its own shows the price of the upstream model it is sent as, the way the relay
 * prices it (the first channel, in routing order, whose upstream model has a price).
 */
import type { ChannelRecord, PriceRecord } from '../store/types.js';
import { PriceBook, servedModels } from './price-book.js';

export interface PriceListing {
  model: string;
  /** undefined: unpriced */
  price: PriceRecord | undefined;
  catalogModel: string | undefined;
  /** the upstream model whose price applies, for an alias priced through it */
  via: string | undefined;
  channels: string[];
}

export function priceListing(
  channels: readonly ChannelRecord[],
  overrides: readonly PriceRecord[],
  now = Date.now(),
): PriceListing[] {
  const book = new PriceBook(overrides, servedModels(channels));
  const names = new Map<string, { upstreams: string[]; channels: string[] }>();
  const ordered = [...channels].sort((a, b) => b.priority - a.priority || a.id - b.id);
  for (const c of ordered) {
    for (const name of new Set([...c.models, ...Object.keys(c.map)])) {
      const entry = names.get(name) ?? { upstreams: [], channels: [] };
      entry.upstreams.push(c.map[name] ?? name);
      entry.channels.push(c.name);
      names.set(name, entry);
    }
  }
  for (const o of overrides) if (!names.has(o.model)) names.set(o.model, { upstreams: [], channels: [] });
  return [...names.keys()]
    .sort((a, b) => a.localeCompare(b))
    .map((model) => {
      const { upstreams, channels: serving } = names.get(model)!;
      return { model, channels: serving, ...effective(book, model, upstreams, now) };
    });
}

function effective(
  book: PriceBook,
  model: string,
  upstreams: readonly string[],
  now: number,
): Omit<PriceListing, 'model' | 'channels'> {
  const own = book.get(model, now);
  if (own) return { price: own, catalogModel: book.catalogModel(model, now), via: undefined };
  for (const u of upstreams) {
    const p = u === model ? undefined : book.get(u, now);
    if (p) return { price: p, catalogModel: book.catalogModel(u, now), via: u };
  }
  return { price: undefined, catalogModel: undefined, via: undefined };
}
