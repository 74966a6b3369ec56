/**
 * Tenant self-service on the gateway port (SPEC section 11, TENANTS.md 5.6): `/bc/v1/me...` and
 * `/bc/v1/signup`. The routes are always registered but answer exactly as an unknown endpoint
 * (404 not_found) while the tenant setting `self_service` is off; the setting is read on every
 * request (one indexed read of bc_meta), so turning it on or off takes effect at once.
 *
 * A caller is authenticated like a relay call (same headers, same refusals for a disabled,
 * expired or IP-restricted key), before any body is read, and must be a user's key: an
 * operator's key gets 403 not_a_user_key. Scope R routes take any key of the user, scope A
 * routes only `scope=account` keys (403 account_scope_required). Everything a handler reads is
 * narrowed to the caller's own user; a relay key sees only its own usage and logs. A tenant never
 * sees channels, upstream models, retries or other users. Errors are OpenAI-shaped.
 */
import type { FastifyError, FastifyInstance, FastifyRequest, HTTPMethods } from 'fastify';
import { BcError } from '../../../shared/errors.js';
import {
  SELF_ROUTES,
  SELF_USAGE_DIMENSIONS,
  type MeView,
  type ReferralView,
  type SelfLogRow,
  type SelfUsageDimension,
  type SelfUsageRow,
} from '../../../shared/self-service-api.js';
import type { LogRow } from '../../../shared/control-api.js';
import type { TenantSettings } from '../../../shared/tenant-api.js';
import type { DaemonServices } from '../../service-types.js';
import type { KeyRecord, UsageAggregate, UserRecord } from '../../store/types.js';
import { readTenantSettings } from '../../tenants/settings.js';
import { RedeemBrake, RedeemLimits } from '../../tenants/redeem-limits.js';
import { redeemForUser } from '../../tenants/redeem.js';
import { signup } from '../../tenants/signup.js';
import { ledgerView } from '../../control/views.js';
import * as f from '../../control/validate-fields.js';
import { sinceTime } from '../../control/validate-query.js';
import { authenticate, checkKeyUsable, extractKey } from '../money/admission.js';
import { errorResponse } from '../client-wire.js';
import { newRequestId } from '../handler.js';
import { registerSelfKeyRoutes } from './self-service-keys.js';
import {
  currentUser,
  ownKey,
  parseBody,
  queryOf,
  scopeRequired,
  type Access,
  type Caller,
  type Handler,
  type SelfRouter,
} from './self-service-context.js';

/** Bodies here are a few small fields: anything larger is refused unread past this. */
export const SELF_BODY_LIMIT = 64 * 1024;
const MAX_ROWS = 1000;
const DEFAULT_ROWS = 100;

const callers = new WeakMap<FastifyRequest, Caller>();

export function registerSelfServiceRoutes(app: FastifyInstance, services: DaemonServices): void {
  const router: SelfRouter = {
    services,
    on: (route, access, handler) =>
      addRoute(app, services, route, access, async (req, reply) => {
        const caller = callers.get(req);
        if (caller === undefined) throw new BcError('INTERNAL', `no caller for ${req.method} ${req.url}`);
        return handler(req, caller, reply);
      }),
    open: (route, handler) => addRoute(app, services, route, 'none', handler),
  };
  // this node's failure window, and the cluster's once the daemon has the Redis coordinator
  const limits = new RedeemBrake(new RedeemLimits(), () => services.gateway.shared?.redeem ?? null);
  meRoutes(router);
  router.on(SELF_ROUTES.redeem, 'A', async (req, c) => {
    const body = f.bodyObject(parseBody(req.body), ['code']);
    const limit = c.settings.redeem_failures_per_10m;
    await limits.check(c.user.id, c.ip, limit);
    try {
      return await redeemForUser(services, {
        code: body.code,
        userId: c.user.id,
        ip: c.ip,
        actor: `key:${c.key.record.id}`,
      });
    } catch (err) {
      if (err instanceof BcError && err.code === 'REDEEM_INVALID') await limits.fail(c.user.id, c.ip, limit);
      throw err;
    }
  });
  registerSelfKeyRoutes(router);
  // no key: the invitation code is the credential, and the store applies the signup limits
  router.open(SELF_ROUTES.signup, async (req, reply) => {
    const body = f.bodyObject(parseBody(req.body), ['code', 'name']);
    const answer = await signup(services, { code: body.code, name: body.name, ip: req.ip });
    return reply.status(201).send(answer);
  });
}

function meRoutes(router: SelfRouter): void {
  const { store } = router.services;
  router.on(SELF_ROUTES.me, 'R', async (_req, c) => {
    const key = (await store.getKey(c.key.record.id)) ?? c.key.record;
    return meView(await currentUser(router.services, c), key);
  });

  router.on(SELF_ROUTES.usage, 'R', async (req, c) => {
    const q = queryOf(req.query, ['by', 'since']);
    const by = usageDimension(q.by);
    const since = sinceTime(q.since ?? '24h', Date.now());
    // a relay key sees only its own usage; an account key the user's
    const keyId = c.key.record.scope === 'account' ? null : c.key.record.id;
    const rows = await store.userUsage({ userId: c.user.id, keyId, by, since });
    return rows.map((r) => usageRow(by, r));
  });

  router.on(SELF_ROUTES.logs, 'R', async (req, c) => {
    const q = queryOf(req.query, ['limit', 'key']);
    const limit = rowLimit(q.limit);
    const user = await currentUser(router.services, c);
    let key: KeyRecord | undefined;
    if (q.key !== undefined) {
      key = await ownKey(router.services, user, f.text(q.key, 'key'));
      if (c.key.record.scope !== 'account' && key.id !== c.key.record.id)
        throw scopeRequired('logs of other keys');
    } else if (c.key.record.scope !== 'account') {
      key = (await store.getKey(c.key.record.id)) ?? c.key.record;
    }
    const rows = await store.queryLogs({ user: user.name, ...(key ? { key: key.name } : {}), limit });
    // the query filters by the user already; rows are checked once more against the key ids it may see
    const mine = new Set(key ? [key.id] : await userKeyIds(router.services, user.id));
    return rows.filter((r) => r.key_id !== null && mine.has(r.key_id)).map(selfLogRow);
  });

  // a user's own referral code and what it brought; like an unknown route while referrals are off
  router.on(SELF_ROUTES.referral, 'A', async (_req, c): Promise<ReferralView> => {
    if (c.settings.signup !== 'invite+referral')
      throw new BcError('NOT_FOUND', 'referrals are off on this gateway');
    const code = await store.referralCode(c.user.id);
    const mine = (await store.listInvitations()).filter((i) => i.inviterId === c.user.id);
    const rewarded = mine.filter((i) => i.status === 'rewarded');
    return {
      code,
      invited: mine.length,
      rewarded: rewarded.length,
      pending: mine.filter((i) => i.status === 'pending').length,
      earned: rewarded.reduce((n, i) => n + i.inviterReward, 0) + mine.reduce((n, i) => n + i.rebatePaid, 0),
    };
  });

  router.on(SELF_ROUTES.ledger, 'A', async (req, c) => {
    const q = queryOf(req.query, ['limit']);
    const user = await currentUser(router.services, c);
    const rows = await store.userLedger(user.id, rowLimit(q.limit));
    return rows.map((e) => ledgerView(e, user.name));
  });
}

function addRoute(
  app: FastifyInstance,
  services: DaemonServices,
  route: string,
  access: Access,
  handler: Handler,
): void {
  const [method, url] = route.split(' ') as [HTTPMethods, string];
  app.route({
    method,
    url,
    bodyLimit: SELF_BODY_LIMIT,
    // before the body is read: a route switched off, then the caller's key and scope
    onRequest: async (req) => {
      const settings = await readTenantSettings(services.store);
      if (!settings.self_service) throw unknownEndpoint(req);
      if (access !== 'none') callers.set(req, authorise(services, req, access, settings));
    },
    handler,
    errorHandler: (err: FastifyError | BcError, req, reply) => {
      const bc = asBcError(err);
      if (bc.status >= 500) services.logger.error({ err }, 'self-service error');
      const { status, headers, body } = errorResponse('openai', bc);
      void reply.code(status).headers(headers).header('x-request-id', newRequestId()).send(body);
    },
  });
}

function authorise(
  services: DaemonServices,
  req: FastifyRequest,
  access: Access,
  settings: TenantSettings,
): Caller {
  const key = authenticate(services.gateway, extractKey(req.headers, undefined));
  checkKeyUsable(key, req.ip, Date.now());
  if (key.user === null) {
    throw new BcError(
      'NOT_A_USER_KEY',
      "this key belongs to no user: /bc/v1/ answers a user's own keys (an operator manages through `bc`)",
    );
  }
  if (access === 'A' && key.record.scope !== 'account')
    throw scopeRequired(`${req.method} ${req.url.split('?')[0] ?? ''}`);
  return { key, user: key.user, settings, ip: req.ip };
}

function unknownEndpoint(req: FastifyRequest): BcError {
  // the same answer as a route that does not exist, so nothing tells whether tenants are on
  return new BcError('NOT_FOUND', `unknown endpoint ${req.method} ${req.url.split('?')[0] ?? ''}`);
}

function asBcError(err: FastifyError | BcError): BcError {
  if (err instanceof BcError) return err;
  const status = err.statusCode ?? 500;
  if (status === 413) {
    return new BcError('BODY_TOO_LARGE', `the request body is over ${SELF_BODY_LIMIT / 1024} KiB`);
  }
  if (status < 500) return new BcError('INVALID_REQUEST', err.message, { status });
  return new BcError('INTERNAL', 'internal error');
}

function rowLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_ROWS;
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_ROWS)
    throw f.invalid('limit', `must be a whole number from 1 to ${MAX_ROWS}`);
  return n;
}

function usageDimension(value: string | undefined): SelfUsageDimension {
  if (value === undefined) return 'model';
  const found = SELF_USAGE_DIMENSIONS.find((d) => d === value);
  if (found === undefined) throw f.invalid('by', `must be one of ${SELF_USAGE_DIMENSIONS.join(', ')}`);
  return found;
}

async function userKeyIds(services: DaemonServices, userId: number): Promise<number[]> {
  return (await services.store.listKeys()).filter((k) => k.userId === userId).map((k) => k.id);
}

function meView(u: UserRecord, k: KeyRecord): MeView {
  return {
    user: {
      name: u.name,
      group: u.group,
      balance: u.balance,
      spent: u.spent,
      status: u.status === 'enabled' ? 'enabled' : 'disabled',
      rpm: u.rpm,
      tpm: u.tpm,
      concurrency: u.concurrency,
    },
    key: {
      id: k.id,
      name: k.name,
      prefix: k.prefix,
      scope: k.scope,
      budget: k.budget,
      spent: k.spent,
      expires_at: k.expiresAt,
      models: k.models,
    },
  };
}

function usageRow(by: SelfUsageDimension, a: UsageAggregate): SelfUsageRow {
  return {
    [by]: a.name,
    name: a.name,
    requests: a.requests,
    errors: a.errors,
    input_tokens: a.input_tokens,
    output_tokens: a.output_tokens,
    cost: a.cost,
    unpriced_requests: a.unpriced,
  };
}

/** A log row without what would show the upstream side, its error only as a category. */
export function selfLogRow(r: LogRow): SelfLogRow {
  const { channel: _c, channel_id: _ci, upstream_model: _u, retries: _r, ...rest } = r;
  return { ...rest, error: errorCategory(r.error) };
}

/** Rows hold a category already (`upstream`, `timeout`...); anything longer is cut to its first word. */
function errorCategory(error: string | null): string | null {
  if (error === null) return null;
  const m = /^[a-z_]+/.exec(error.trim());
  return m ? m[0] : 'error';
}
