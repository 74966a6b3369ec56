/**
 * Price routes: micro-USD per 1M tokens per model (per_request in micro-USD per request). A price
 * set here is the user's and wins over the shipped default table; removing it leaves the model
 * unpriced (the store remembers the removal so the defaults do not bring it back).
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../../shared/control-api.js';
import { BcError } from '../../../shared/errors.js';
import { on, type ControlContext } from '../context.js';
import * as f from '../validate-fields.js';
import { validatePrice } from '../validate.js';
import { priceView } from '../views.js';

export function priceRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { services } = ctx;

  on(app, ROUTES.priceList, async () => {
    const prices = await services.store.listPrices();
    return prices.sort((a, b) => a.model.localeCompare(b.model)).map(priceView);
  });

  on(app, ROUTES.priceSet, async (req) => {
    const saved = await services.store.setPrice(validatePrice(req.params.model, req.body));
    await services.refresh();
    return priceView(saved);
  });

  on(app, ROUTES.priceRemove, async (req) => {
    const model = f.text(req.params.model, 'model');
    const existing = await services.store.getPrice(model);
    if (existing === undefined) throw new BcError('NOT_FOUND', `no price for model "${model}"`);
    await services.store.deletePrice(model);
    await services.refresh();
    return priceView(existing);
  });
}
