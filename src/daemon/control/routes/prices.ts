/**
 * Price routes: the effective price of every model the channels serve (micro-USD per 1M tokens,
 * per_request in micro-USD per request), with its source: an override set here, the catalog
 * package, or our supplement file; `unpriced` when none has it. An override wins over both;
 * removing it lets the catalog's price (if any) apply again.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../../shared/control-api.js';
import { BcError } from '../../../shared/errors.js';
import { priceListing, type PriceListing } from '../../pricing/listing.js';
import { on, type ControlContext } from '../context.js';
import * as f from '../validate-fields.js';
import { validatePrice } from '../validate.js';
import { priceView } from '../views.js';

export function priceRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { services } = ctx;
  const listing = async (): Promise<PriceListing[]> =>
    priceListing(await services.store.listChannels(), await services.store.listPrices());

  on(app, ROUTES.priceList, async () => (await listing()).map(priceView));

  on(app, ROUTES.priceSet, async (req) => {
    const saved = await services.store.setPrice(validatePrice(req.params.model, req.body));
    await services.refresh();
    const row = (await listing()).find((l) => l.model === saved.model);
    return priceView(
      row ?? { model: saved.model, price: saved, catalogModel: undefined, via: undefined, channels: [] },
    );
  });

  on(app, ROUTES.priceRemove, async (req) => {
    const model = f.text(req.params.model, 'model');
    const existing = await services.store.getPrice(model);
    if (existing === undefined) {
      const now = (await listing()).find((l) => l.model === model)?.price;
      throw new BcError(
        'NOT_FOUND',
        now
          ? `model "${model}" has no override to remove: its price comes from ${now.source}; \`bc price set\` overrides it`
          : `no price override for model "${model}": see \`bc price list\``,
      );
    }
    await services.store.deletePrice(model);
    await services.refresh();
    const channels = (await listing()).find((l) => l.model === model)?.channels ?? [];
    return priceView({ model, price: existing, catalogModel: undefined, via: undefined, channels });
  });
}
