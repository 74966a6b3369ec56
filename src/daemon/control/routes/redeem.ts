/**
 * Redemption code routes (SPEC section 11, TENANTS.md 5.4). Codes are stored hashed: the answer to
 * create is the only place they appear. The admin redeems on a user's behalf (`POST /v1/redeem`)
 * and, unlike a tenant, is told exactly why a code cannot be redeemed (unknown, used up and by
 * whom, expired, revoked, bound to another user). A redemption's committed balance changes go to
 * `balancesChanged` (tenants/redeem.ts).
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../../shared/control-api.js';
import { BcError } from '../../../shared/errors.js';
import type {
  RedeemCodeInput,
  RedeemCodesCreated,
  RedeemCodeView,
  RedeemStatus,
} from '../../../shared/tenant-api.js';
import type { Services } from '../../service-types.js';
import { MAX_CODES_PER_CREATE, redeemStatus } from '../../store/sqlite/redeem-codes.js';
import type { RedeemCodeQuery, RedeemCodeRecord, RedemptionRecord } from '../../store/types.js';
import { redeemAsAdmin } from '../../tenants/redeem.js';
import { mustGetUser, on, userNames, type ControlContext } from '../context.js';
import * as f from '../validate-fields.js';

const CREATE_FIELDS = ['amount', 'count', 'batch', 'expires_at', 'uses', 'user', 'promo'] as const;
const STATUSES: readonly RedeemStatus[] = ['active', 'used', 'expired', 'revoked'];

/** One redemption of a code, as `GET /v1/redeem-codes/:id` lists them. */
export interface RedemptionView {
  user: string;
  time: string;
  amount: number;
  ip: string | null;
}

export function redeemCodeView(
  c: RedeemCodeRecord,
  names: ReadonlyMap<number, string>,
  now: string = new Date().toISOString(),
): RedeemCodeView {
  return {
    id: c.id,
    prefix: c.prefix,
    batch: c.batch,
    amount: c.amount,
    max_uses: c.maxUses,
    uses: c.uses,
    user: c.userId === null ? null : (names.get(c.userId) ?? String(c.userId)),
    promo: c.promo,
    status: redeemStatus(c, now),
    expires_at: c.expiresAt,
    created_at: c.createdAt,
  };
}

function redemptionView(r: RedemptionRecord, names: ReadonlyMap<number, string>): RedemptionView {
  return { user: names.get(r.userId) ?? String(r.userId), time: r.time, amount: r.amount, ip: r.ip };
}

function validateCreate(
  body: unknown,
  now: number,
): Required<Omit<RedeemCodeInput, 'user'>> & { user?: string } {
  const o = f.bodyObject(body, CREATE_FIELDS);
  if (!f.has(o, 'amount')) throw f.invalid('amount', 'is required (micro-USD per use)');
  const amount = f.integer(o.amount, 'amount', { min: 1 });
  const count = f.has(o, 'count') ? f.integer(o.count, 'count', { min: 1, max: MAX_CODES_PER_CREATE }) : 1;
  const uses = f.has(o, 'uses') ? f.integer(o.uses, 'uses', { min: 1 }) : 1;
  const batch = f.has(o, 'batch') ? f.nullableText(o.batch, 'batch', 64) : null;
  let expires: string | null = null;
  if (f.has(o, 'expires_at') && o.expires_at !== null) {
    expires = f.isoTime(o.expires_at, 'expires_at');
    if (Date.parse(expires) <= now) throw f.invalid('expires_at', `is in the past (${expires})`);
  }
  const promo = f.has(o, 'promo') ? f.bool(o.promo, 'promo') : false;
  const out: ReturnType<typeof validateCreate> = { amount, count, uses, batch, expires_at: expires, promo };
  if (f.has(o, 'user') && o.user !== null) out.user = f.text(o.user, 'user', 64);
  return out;
}

function validateListQuery(query: unknown): { batch?: string; status?: RedeemStatus; user?: string } {
  const q = (query ?? {}) as Record<string, unknown>;
  const out: { batch?: string; status?: RedeemStatus; user?: string } = {};
  for (const k of Object.keys(q)) {
    if (!['batch', 'status', 'user'].includes(k))
      throw f.invalid(k, 'is not a known filter (known: batch, status, user)');
  }
  if (f.has(q, 'batch')) out.batch = f.text(q.batch, 'batch', 64);
  if (f.has(q, 'user')) out.user = f.text(q.user, 'user', 64);
  if (f.has(q, 'status')) {
    const s = f.text(q.status, 'status', 20).toLowerCase();
    const found = STATUSES.find((x) => x === s);
    if (found === undefined) throw f.invalid('status', `must be one of ${STATUSES.join(', ')}`);
    out.status = found;
  }
  return out;
}

async function mustGetCode(services: Services, raw: string | undefined): Promise<RedeemCodeRecord> {
  const ref = (raw ?? '').trim();
  if (ref === '') throw f.invalid('id', 'must be an id or a prefix');
  const c = await services.store.getRedeemCode(ref);
  if (c === undefined)
    throw new BcError('NOT_FOUND', `no redemption code with id or prefix "${ref}": see \`bc redeem list\``);
  return c;
}

export function redeemRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { services } = ctx;

  on(app, ROUTES.redeemCreate, async (req, reply) => {
    const input = validateCreate(req.body, Date.now());
    let userId: number | null = null;
    if (input.user !== undefined) {
      const u = await mustGetUser(services, input.user);
      if (u.balance === null) {
        throw new BcError(
          'USER_UNMETERED',
          `user "${u.name}" is unmetered, so a code bound to them could never be redeemed: make them metered with \`bc user edit ${u.name} --metered\``,
        );
      }
      userId = u.id;
    }
    const made = await services.store.createRedeemCodes({
      amount: input.amount,
      count: input.count,
      batch: input.batch,
      expiresAt: input.expires_at,
      maxUses: input.uses,
      userId,
      promo: input.promo,
    });
    const names = await userNames(services);
    const now = new Date().toISOString();
    const created: RedeemCodesCreated = {
      batch: input.batch,
      amount: input.amount,
      // `code` right after `id`, as `--json` shows it
      codes: made.map((m) =>
        Object.assign({ id: m.record.id, code: m.code }, redeemCodeView(m.record, names, now)),
      ),
    };
    return reply.status(201).send(created);
  });

  on(app, ROUTES.redeemList, async (req) => {
    const q = validateListQuery(req.query);
    const query: RedeemCodeQuery = {};
    if (q.batch !== undefined) query.batch = q.batch;
    if (q.status !== undefined) query.status = q.status;
    if (q.user !== undefined) query.userId = (await mustGetUser(services, q.user)).id;
    const names = await userNames(services);
    const now = new Date().toISOString();
    return (await services.store.listRedeemCodes(query)).map((c) => redeemCodeView(c, names, now));
  });

  on(app, ROUTES.redeemShow, async (req) => {
    const c = await mustGetCode(services, req.params.id);
    const names = await userNames(services);
    const redemptions = (await services.store.redemptions(c.id)).map((r) => redemptionView(r, names));
    return { ...redeemCodeView(c, names), redemptions };
  });

  on(app, ROUTES.redeemRevoke, async (req) => {
    const c = await mustGetCode(services, req.params.id);
    return redeemCodeView(await services.store.revokeRedeemCode(c.id), await userNames(services));
  });

  on(app, ROUTES.redeemRevokeBatch, async (req) => {
    const o = f.bodyObject(req.body, ['batch']);
    if (!f.has(o, 'batch')) throw f.invalid('batch', 'is required');
    return { revoked: await services.store.revokeRedeemBatch(f.text(o.batch, 'batch', 64)) };
  });

  on(app, ROUTES.redeemUse, async (req) => {
    const o = f.bodyObject(req.body, ['code', 'user']);
    if (!f.has(o, 'code')) throw f.invalid('code', 'is required');
    if (!f.has(o, 'user')) throw f.invalid('user', 'is required (the user to credit)');
    const u = await mustGetUser(services, f.text(o.user, 'user', 64));
    return redeemAsAdmin(services, {
      code: f.text(o.code, 'code', 200),
      userId: u.id,
      ip: null,
      actor: 'admin',
    });
  });
}
