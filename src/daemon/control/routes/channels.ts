/**
 * Channel routes: list, show, add, edit, enable, disable, remove, test. Plain secrets arrive only
 * in add and edit; they are encrypted with the master key at once and only their masked form is
 * ever returned. Every change refreshes the relay's snapshot before answering, so the next request
 * already sees it.
 */
import type { FastifyInstance } from 'fastify';
import { storedFields } from '../../../shared/channel-fields.js';
import { ROUTES, type ChannelView } from '../../../shared/control-api.js';
import { maskSecret } from '../../secrets.js';
import type { Services } from '../../service-types.js';
import type { ChannelPatch, ChannelRecord, ChannelSecret } from '../../store/types.js';
import { mustGetChannel, on, type ControlContext } from '../context.js';
import {
  validateChannelCreate,
  validateChannelEdit,
  validateTestBody,
  type ChannelFields,
} from '../validate.js';
import { channelView } from '../views.js';

export function channelRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { services } = ctx;
  const view = (c: ChannelRecord): ChannelView =>
    channelView(c, services.channelState(c.id), ctx.defaultBaseUrl);

  on(app, ROUTES.channelList, async () => (await services.store.listChannels()).map(view));
  on(app, ROUTES.channelShow, async (req) => view(await mustGetChannel(services, req.params.id)));

  on(app, ROUTES.channelAdd, async (req, reply) => {
    const f = validateChannelCreate(req.body);
    const created = await services.store.createChannel({
      ...storedFields(f),
      status: f.disabled ? 'disabled' : 'enabled',
      statusReason: null,
      secrets: seal(services, f.keys),
      settings: {},
    });
    await services.refresh();
    return reply.status(201).send(view(created));
  });

  on(app, ROUTES.channelEdit, async (req) => {
    const current = await mustGetChannel(services, req.params.id);
    const patch = toPatch(services, validateChannelEdit(req.body, current));
    return view(await change(services, current.id, patch));
  });

  on(app, ROUTES.channelEnable, async (req) => {
    const c = await mustGetChannel(services, req.params.id);
    // Enabling is the user saying "use it": auto-disabled keys get their chance again too.
    const secrets = c.secrets.map((s) => ({ ...s, disabledReason: null }));
    return view(await change(services, c.id, { status: 'enabled', statusReason: null, secrets }));
  });

  on(app, ROUTES.channelDisable, async (req) => {
    const c = await mustGetChannel(services, req.params.id);
    return view(await change(services, c.id, { status: 'disabled', statusReason: null }));
  });

  on(app, ROUTES.channelRemove, async (req) => {
    const c = await mustGetChannel(services, req.params.id);
    const shown = view(c);
    await services.store.deleteChannel(c.id);
    await services.refresh();
    return shown;
  });

  on(app, ROUTES.channelTest, async (req) => {
    const c = await mustGetChannel(services, req.params.id);
    const { model } = validateTestBody(req.body);
    return services.testChannel(c, model);
  });
}

async function change(services: Services, id: number, patch: ChannelPatch): Promise<ChannelRecord> {
  const updated = await services.store.updateChannel(id, patch);
  await services.refresh();
  return updated;
}

function seal(services: Services, keys: readonly string[]): ChannelSecret[] {
  return keys.map((k) => ({ enc: services.secrets.encrypt(k), masked: maskSecret(k), disabledReason: null }));
}

/** The stored fields go as they are (shared/channel-fields.ts); secrets and status are derived. */
function toPatch(services: Services, f: Partial<ChannelFields>): ChannelPatch {
  const patch: ChannelPatch = storedFields(f);
  if (f.keys !== undefined) patch.secrets = seal(services, f.keys);
  if (f.disabled !== undefined) {
    patch.status = f.disabled ? 'disabled' : 'enabled';
    patch.statusReason = null;
  }
  return patch;
}
