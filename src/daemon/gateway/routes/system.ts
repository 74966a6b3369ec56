/**
 * Gateway endpoints that need no upstream: liveness and readiness (not ready while draining or
 * while the store cannot write, with the reason), the key's model list (OpenAI
 * list shape, only what the key may use), and One API's billing endpoints reporting the key's
 * budget and spend (for a user's key without a budget, the user's credit and spend).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BcError } from '../../../shared/errors.js';
import { MICRO_PER_USD } from '../../../shared/money.js';
import type { GatewayState } from '../state.js';
import type { RouteKey } from '../snapshot.js';
import { authenticate, checkKeyUsable, extractKey } from '../money/admission.js';
import { errorPayload, toWireError } from '../client-wire.js';

export function registerSystemRoutes(app: FastifyInstance, state: GatewayState, ready: () => boolean): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!ready()) return reply.code(503).send({ status: 'not_ready', reason: 'draining' });
    // requests would all get 503 store_unavailable: a balancer should send them elsewhere
    const fault = state.store.writeFault();
    if (fault) {
      const why = {
        status: 'not_ready',
        reason: 'store_unavailable',
        detail: fault.reason,
        since: fault.since,
      };
      return reply.code(503).send(why);
    }
    return { status: 'ready', channels: state.snapshot.channels.length };
  });
  app.get('/v1/models', (req, reply) => withKey(state, req, reply, (key) => modelList(state, key)));
  app.get('/v1/dashboard/billing/subscription', (req, reply) =>
    withKey(state, req, reply, async (key) => {
      const wallet = await userWallet(state, key);
      const budgetUsd =
        key.record.budget !== null
          ? key.record.budget / MICRO_PER_USD
          : wallet
            ? wallet.credited / MICRO_PER_USD
            : 100_000_000;
      const until = key.expiresAtMs === null ? 0 : Math.floor(key.expiresAtMs / 1000);
      return {
        object: 'billing_subscription',
        has_payment_method: true,
        soft_limit_usd: budgetUsd,
        hard_limit_usd: budgetUsd,
        system_hard_limit_usd: budgetUsd,
        access_until: until,
      };
    }),
  );
  app.get('/v1/dashboard/billing/usage', (req, reply) =>
    withKey(state, req, reply, async (key) => {
      const wallet = key.record.budget === null ? await userWallet(state, key) : null;
      const spent = wallet ? wallet.spent : await keySpent(state, key);
      // One API reports usage in US cents
      return { object: 'list', total_usage: (spent / MICRO_PER_USD) * 100 };
    }),
  );
}

/**
 * The key's settled spend. With shared books (several daemons) this node's in-memory ledger is
 * not moved by settlements, its own or other nodes': the durable store, committed before each
 * response ended, has them all.
 */
async function keySpent(state: GatewayState, key: RouteKey): Promise<number> {
  if (!state.shared) return state.ledger.spent(key.record.id);
  return (await state.store.getKey(key.record.id))?.spent ?? key.record.spent;
}

/**
 * A user-owned key without a budget reports its user's money (One API's rule, one-hub#330): all
 * the credit the user ever had (the sum of their ledger, which is balance + spent at the last
 * snapshot) and what of it is gone (that sum less the balance the gateway counts now; with shared
 * books, as keySpent, the store's). Null for an operator's key or an unmetered user.
 */
async function userWallet(
  state: GatewayState,
  key: RouteKey,
): Promise<{ credited: number; spent: number } | null> {
  const u = key.user;
  if (u === null || u.balance === null) return null;
  if (state.shared) {
    const stored = await state.store.getUser(u.id);
    if (!stored || stored.balance === null) return null;
    return { credited: stored.balance + stored.spent, spent: stored.spent };
  }
  const credited = u.balance + u.spent;
  const now = state.ledger.balance(u.id) ?? u.balance;
  return { credited, spent: credited - now };
}

function modelList(state: GatewayState, key: RouteKey): unknown {
  const data: { id: string; object: 'model'; created: number; owned_by: string }[] = [];
  for (const [model, tiers] of state.snapshot.tiersByModel) {
    if (key.models && !key.models.has(model)) continue;
    const owner = tiers.flatMap((t) => t.channels).find((c) => c.groups.has(key.record.group));
    if (!owner) continue;
    data.push({
      id: model,
      object: 'model',
      created: Math.floor(Date.parse(owner.record.createdAt) / 1000) || 0,
      owned_by: owner.record.type,
    });
  }
  data.sort((a, b) => a.id.localeCompare(b.id));
  return { object: 'list', data };
}

async function withKey(
  state: GatewayState,
  req: FastifyRequest,
  reply: FastifyReply,
  answer: (key: RouteKey) => unknown,
): Promise<unknown> {
  try {
    // OpenAI-shaped routes: no `?key=` (only Gemini clients send keys in the URL)
    const key = authenticate(state, extractKey(req.headers, undefined));
    checkKeyUsable(key, req.ip, Date.now());
    return await answer(key);
  } catch (err) {
    const wire = toWireError(err instanceof BcError ? err : new BcError('INTERNAL', 'internal error'));
    const { status, body } = errorPayload('openai', wire);
    return reply.code(status).send(body);
  }
}
