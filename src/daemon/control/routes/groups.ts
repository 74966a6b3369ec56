/**
 * Group routes: the price multiplier applied to every key of a group (One API's group ratio).
 * Setting a group creates it or changes its ratio; groups are never deleted, since keys and
 * channels name them.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../../shared/control-api.js';
import { on, type ControlContext } from '../context.js';
import { validateGroup } from '../validate.js';

export function groupRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { services } = ctx;

  on(app, ROUTES.groupList, async () => {
    const groups = await services.store.listGroups();
    return groups.sort((a, b) => a.name.localeCompare(b.name)).map((g) => ({ name: g.name, ratio: g.ratio }));
  });

  on(app, ROUTES.groupSet, async (req) => {
    const g = await services.store.setGroup(validateGroup(req.params.name, req.body));
    await services.refresh();
    return { name: g.name, ratio: g.ratio };
  });
}
