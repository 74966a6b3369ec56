/**
 * Invitation routes (SPEC section 11, TENANTS.md 5.5): admin invites (the code is in the answer to
 * create and nowhere else; the store keeps its hash), the invitations they and referral codes made,
 * and the tenant settings. Settings live in bc_meta and are read where they are used (signup, the
 * payout inside a paid credit, the self-service routes on each request), so a write needs no
 * cache refreshed: the next signup, credit or request sees it.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../../shared/control-api.js';
import { BcError } from '../../../shared/errors.js';
import type { InvitationView, InviteCreated, InviteInput, InviteView } from '../../../shared/tenant-api.js';
import type { Services } from '../../service-types.js';
import type { InvitationRecord, InviteRecord, NewInvite } from '../../store/types.js';
import { inviteStatus } from '../../store/sqlite/invites.js';
import { readTenantSettings, writeTenantSettings } from '../../tenants/settings.js';
import { mustGetUser, on, userNames, type ControlContext } from '../context.js';
import { parseRef } from '../validate.js';
import * as f from '../validate-fields.js';

const INVITE_FIELDS = [
  'name',
  'inviter',
  'group',
  'invitee_amount',
  'inviter_amount',
  'uses',
  'expires_at',
] as const satisfies readonly (keyof InviteInput)[];

const MAX_USES = 1_000_000;

export function inviteRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { services } = ctx;

  on(app, ROUTES.inviteCreate, async (req, reply) => {
    const input = await validateInvite(services, req.body);
    const { invite, code } = await services.store.createInvite(input);
    const created: InviteCreated = { ...inviteView(invite, await userNames(services)), code };
    return reply.status(201).send(created);
  });

  on(app, ROUTES.inviteList, async () => {
    const names = await userNames(services);
    return (await services.store.listInvites()).map((i) => inviteView(i, names));
  });

  on(app, ROUTES.inviteShow, async (req) =>
    inviteView(await mustGetInvite(services, req.params.id), await userNames(services)),
  );

  on(app, ROUTES.inviteRevoke, async (req) => {
    const i = await mustGetInvite(services, req.params.id);
    return inviteView(await services.store.revokeInvite(i.id), await userNames(services));
  });

  on(app, ROUTES.invitationList, async () => {
    const names = await userNames(services);
    return (await services.store.listInvitations()).map((i) => invitationView(i, names));
  });

  on(app, ROUTES.tenantSettingsShow, async () => readTenantSettings(services.store));
  on(app, ROUTES.tenantSettingsSet, async (req) => writeTenantSettings(services.store, req.body));
}

async function validateInvite(services: Services, body: unknown): Promise<NewInvite> {
  const o = f.bodyObject(body, INVITE_FIELDS);
  const money = (k: 'invitee_amount' | 'inviter_amount') =>
    f.has(o, k) ? f.integer(o[k], k, { min: 0 }) : 0;
  const inviter =
    f.has(o, 'inviter') && o.inviter !== null
      ? await mustGetUser(services, f.text(o.inviter, 'inviter', 64))
      : null;
  const inviterAmount = money('inviter_amount');
  if (inviter === null && inviterAmount > 0) {
    throw f.invalid('inviter_amount', 'needs an inviter to pay: give inviter (a user) as well');
  }
  let expiresAt: string | null = null;
  if (f.has(o, 'expires_at') && o.expires_at !== null) {
    expiresAt = f.isoTime(o.expires_at, 'expires_at');
    if (expiresAt <= new Date().toISOString()) throw f.invalid('expires_at', 'is in the past');
  }
  return {
    name: f.has(o, 'name') ? f.nullableText(o.name, 'name', 100) : null,
    inviterId: inviter?.id ?? null,
    group: f.has(o, 'group') && o.group !== null ? f.groupName(o.group, 'group') : null,
    inviteeAmount: money('invitee_amount'),
    inviterAmount,
    maxUses: f.has(o, 'uses') ? f.integer(o.uses, 'uses', { min: 1, max: MAX_USES }) : 1,
    expiresAt,
  };
}

async function mustGetInvite(services: Services, raw: string | undefined): Promise<InviteRecord> {
  const ref = parseRef(raw ?? '');
  const i = await services.store.getInvite(ref);
  if (i === undefined) {
    throw new BcError('NOT_FOUND', `no invite ${String(ref)}: see \`bc invite list\` for ids and prefixes`);
  }
  return i;
}

const named = (id: number | null, names: ReadonlyMap<number, string>): string | null =>
  id === null ? null : (names.get(id) ?? String(id));

export function inviteView(i: InviteRecord, names: ReadonlyMap<number, string>): InviteView {
  return {
    id: i.id,
    prefix: i.prefix,
    name: i.name,
    inviter: named(i.inviterId, names),
    group: i.group,
    invitee_amount: i.inviteeAmount,
    inviter_amount: i.inviterAmount,
    max_uses: i.maxUses,
    uses: i.uses,
    status: inviteStatus(i),
    expires_at: i.expiresAt,
    created_at: i.createdAt,
  };
}

export function invitationView(i: InvitationRecord, names: ReadonlyMap<number, string>): InvitationView {
  return {
    id: i.id,
    invitee: named(i.inviteeId, names) ?? String(i.inviteeId),
    inviter: named(i.inviterId, names),
    invite: i.inviteId,
    status: i.status,
    invitee_bonus: i.inviteeBonus,
    inviter_reward: i.inviterReward,
    rebate_paid: i.rebatePaid,
    created_at: i.createdAt,
    rewarded_at: i.rewardedAt,
  };
}
