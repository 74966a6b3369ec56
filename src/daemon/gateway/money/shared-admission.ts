/**
 * Admission and settlement against the shared books (GatewayState.shared: Redis, SPEC section 9),
 * for daemons that share budgets, balances and rate limits. The decisions are admission.ts's and
 * settle.ts's, only taken by the coordinator's atomic scripts (coord/coordinator.ts gives the call
 * order): rate slots for the key and its user, all or nothing, then the joint reservation of the
 * worst case; after the row is committed, the reservation is swapped for the cost and the slots
 * are given back. The in-memory ledger and limiters are not touched in this mode: counting a
 * request in both would refuse on the one or overdraw on the other.
 *
 * Failures of the coordinator: a request that draws on money is refused (503 with Retry-After)
 * since nothing else can keep it from overdrawing; one that does not is served without a rate
 * slot when the rate script cannot be run (SPEC section 9: unbudgeted keys keep being served).
 * After the commit a failure changes nothing for the client: the row and the key's durable spend
 * are in, and the leases lapse by themselves. A request in flight renews its leases every
 * LEASE_RENEW_MS so that a stream longer than a lease keeps its reservation and its slot.
 */
import { isBcError } from '../../../shared/errors.js';
import { LEASE_RENEW_MS, type RateSubject } from '../../coord/coordinator.js';
import type { SpendAfter } from '../../store/types.js';
import type { RelayContext } from '../context.js';
import { drawsOnMoney, type RouteKey } from '../snapshot.js';
import type { GatewayState, SharedBooks } from '../state.js';
import type { CostTerms, OutputAsk } from './meter.js';
import type { OutputRequest } from './output-limit.js';
import { worstCase } from './worst-case.js';

/** What a request holds in the shared books, for settlement and renewal. */
interface SharedHold {
  keyId: number;
  /** the user whose limits took a slot too (a user with limits of their own), else null */
  rateUserId: number | null;
  /** rate slots taken (false when Redis was away and an unmetered key went without) */
  rates: boolean;
  /** a reservation was taken; the metered user it also holds on, else null */
  reserved: boolean;
  payUserId: number | null;
  renewal: NodeJS.Timeout | null;
}

const holds = new WeakMap<RelayContext, SharedHold>();

/** The lease renewal period (coordinator.ts); tests shorten it along with the lease. */
export const sharedTiming = { renewMs: LEASE_RENEW_MS };

/** admission.ts's refusal for money that does not fit, passed in so both paths say the same. */
export type BudgetRefusal = (
  key: RouteKey,
  terms: CostTerms,
  ask: OutputAsk,
  wants: OutputRequest,
  left: number,
  short: 'key' | 'user',
) => Error;

/** admit() of admission.ts with the shared books; ctx.prices and the input count are already set. */
export async function admitShared(
  state: GatewayState,
  shared: SharedBooks,
  ctx: RelayContext,
  key: RouteKey,
  inputTokens: number,
  refusal: BudgetRefusal,
): Promise<void> {
  const k = key.record;
  const user = key.user;
  const metered = drawsOnMoney(key);
  const userLimited = user !== null && (user.rpm !== null || user.tpm !== null || user.concurrency !== null);
  const keySubject: RateSubject = {
    id: k.id,
    limits: { rpm: k.rpm, tpm: k.tpm, concurrency: k.concurrency },
  };
  const userSubject: RateSubject | null = userLimited
    ? {
        id: user.id,
        limits: { rpm: user.rpm, tpm: user.tpm, concurrency: user.concurrency },
        name: user.name,
      }
    : null;
  const hold: SharedHold = {
    keyId: k.id,
    rateUserId: userSubject ? userSubject.id : null,
    rates: false,
    reserved: false,
    payUserId: null,
    renewal: null,
  };
  holds.set(ctx, hold);
  try {
    await shared.rates.admit(ctx.requestId, keySubject, userSubject, inputTokens);
    hold.rates = true;
  } catch (err) {
    // no money at stake: a coordinator that cannot count does not stop the request
    if (metered || !isBcError(err) || err.code !== 'COORDINATION_UNAVAILABLE') throw err;
  }
  ctx.admitted = hold.rates;
  ctx.userAdmitted = hold.rates && userSubject !== null;
  if (metered) {
    const { terms, ask, wants } = await worstCase(state, ctx, key, inputTokens);
    const payUserId = user?.balance == null ? null : user.id;
    const payer = { keyId: k.id, budget: k.budget, userId: payUserId, spentHint: k.spent };
    let r;
    try {
      r = await shared.budget.reserve(ctx.requestId, payer, terms, ask);
    } catch (err) {
      await releaseRates(state, shared, ctx, hold, 0);
      throw err;
    }
    if (!r.ok) {
      await releaseRates(state, shared, ctx, hold, 0);
      throw refusal(key, terms, ask, wants, r.left, r.short);
    }
    hold.reserved = true;
    hold.payUserId = payUserId;
    ctx.reserved = r.amount;
    if (r.clamped || (wants.asked === undefined && wants.writable)) ctx.outputLimit = r.outputTokens;
    ctx.outputLowered = r.clamped;
  }
  if (hold.rates || hold.reserved) {
    hold.renewal = setInterval(() => void renew(state, shared, ctx, hold), sharedTiming.renewMs);
    hold.renewal.unref();
  }
}

/**
 * settle.ts's releases with the shared books, after the row was committed (cost 0 when the store
 * refused it: the reservation is given back, nothing is charged). `after`: the key's and user's
 * durable spend after the commit, as the store reported it (Store.settle). Never throws.
 */
export async function settleShared(
  state: GatewayState,
  shared: SharedBooks,
  ctx: RelayContext,
  cost: number,
  tokens: number,
  after: SpendAfter = {},
): Promise<void> {
  const hold = holds.get(ctx);
  if (!hold) return;
  holds.delete(ctx);
  if (hold.renewal) clearInterval(hold.renewal);
  ctx.admitted = false;
  ctx.userAdmitted = false;
  const failed: { what: string; err: unknown }[] = [];
  if (hold.reserved) {
    try {
      await shared.budget.settle(ctx.requestId, hold.keyId, hold.payUserId, cost, after);
    } catch (err) {
      failed.push({ what: 'settle its reservation', err });
    }
  }
  if (hold.rates) {
    hold.rates = false;
    try {
      await shared.rates.release(ctx.requestId, hold.keyId, hold.rateUserId, tokens);
    } catch (err) {
      failed.push({ what: 'release its rate-limit slots', err });
    }
  }
  if (failed.length > 0) warn(state, ctx, failed[0]!.err, failed.map((f) => f.what).join(' or '));
}

async function releaseRates(
  state: GatewayState,
  shared: SharedBooks,
  ctx: RelayContext,
  hold: SharedHold,
  tokens: number,
): Promise<void> {
  if (!hold.rates) return;
  hold.rates = false;
  ctx.admitted = false;
  ctx.userAdmitted = false;
  try {
    await shared.rates.release(ctx.requestId, hold.keyId, hold.rateUserId, tokens);
  } catch (err) {
    warn(state, ctx, err, 'release its rate-limit slots');
  }
}

async function renew(
  state: GatewayState,
  shared: SharedBooks,
  ctx: RelayContext,
  hold: SharedHold,
): Promise<void> {
  try {
    const calls: Promise<void>[] = [];
    if (hold.reserved) calls.push(shared.budget.renew(ctx.requestId, hold.keyId, hold.payUserId));
    if (hold.rates) calls.push(shared.rates.renew(ctx.requestId, hold.keyId, hold.rateUserId));
    await Promise.all(calls);
  } catch (err) {
    // the next tick tries again; a lease that lapses meanwhile frees a slot early, never money
    state.logger.warn(
      { err, request_id: ctx.requestId },
      'could not renew the request leases in the coordination store',
    );
  }
}

function warn(state: GatewayState, ctx: RelayContext, err: unknown, what: string): void {
  // the row is committed; the lease lapses by itself, so the request stands
  state.logger.warn(
    { err, request_id: ctx.requestId },
    `could not ${what} in the coordination store (its lease will lapse)`,
  );
}
