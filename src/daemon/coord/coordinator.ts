/**
 * What admission and settlement need from whoever coordinates budgets, rate limits and channel
 * cooldowns (SCALEOUT.md 2): today's in-memory books for one process, Redis for several daemons.
 * The calls take plain numbers and a request id, the same decision inputs as BudgetLedger and
 * RateLimiter, so that wiring a shared book in place of the in-memory one is mechanical:
 *
 *   admission: rates.admit(rid, key, user, est) -> budget.reserve(rid, payer, terms, ask)
 *              (a refused reservation: rates.release(rid, key, user, 0))
 *   settlement: store commit -> budget.settle(rid, keyId, userId, cost) -> rates.release(...)
 *   long streams: budget.renew / rates.renew every LEASE_RENEW_MS
 *
 * Every call is async (a network round trip) and may throw COORDINATION_UNAVAILABLE (503 with
 * Retry-After), including while an empty Redis waits to be re-seeded (isNotReady).
 */
import type { CostTerms, OutputAsk } from '../gateway/money/meter.js';
import type { JointResult, Payer } from '../gateway/money/budget-ledger.js';
import type { SpendAfter } from '../store/types.js';

/** How long a reservation or concurrency slot lives unless renewed (a dead node's lapse then). */
export const LEASE_MS = 30_000;
/** How often the owner of a long request renews its leases. */
export const LEASE_RENEW_MS = 10_000;

/** One subject's rate limits (a key's or a user's); null = no limit. */
export interface RateLimits {
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
}

/** A key or a user asking for admission; `name` is the user's, used in refusals. */
export interface RateSubject {
  id: number;
  limits: RateLimits;
  name?: string;
}

/** A payer as BudgetLedger sees it, plus the node's last known durable spend of the key. */
export interface SharedPayer extends Payer {
  /** keys.spent as this node last read it from the durable store; Redis never counts less */
  spentHint?: number;
}

export interface SharedBudget {
  /** BudgetLedger.reserveJoint, recorded under the request id with a lease. */
  reserve(requestId: string, payer: SharedPayer, terms: CostTerms, ask: OutputAsk): Promise<JointResult>;
  /**
   * Swaps the request's reservation for its committed cost (key spent += cost, user balance -=
   * cost), once per request id. `after`: the durable spend after this commit, when the store
   * said (Store.settle); with it the books move to it instead of adding the cost.
   */
  settle(
    requestId: string,
    keyId: number,
    userId: number | null,
    cost: number,
    after?: SpendAfter,
  ): Promise<void>;
  /** A committed credit or debit outside settlement. */
  credit(userId: number, amount: number): Promise<void>;
  renew(requestId: string, keyId: number, userId: number | null): Promise<void>;
}

export interface SharedRates {
  /** RateLimiter.admit for the key and (when given) its user, all or nothing; throws RATE_LIMITED. */
  admit(requestId: string, key: RateSubject, user: RateSubject | null, estTokens: number): Promise<void>;
  /** RateLimiter.release for both, once per request id. */
  release(requestId: string, keyId: number, userId: number | null, tokens: number): Promise<void>;
  renew(requestId: string, keyId: number, userId: number | null): Promise<void>;
}

/** A channel key's state as HealthBook.tryAcquire decides it, cluster-wide. */
export type AcquireState = 'FREE' | 'COOLING' | 'PROBING' | 'PROBE';

export interface SharedCooldowns {
  /** HealthBook.failure: returns the cooldown end (ms, Redis clock) and the failure count. */
  failure(
    channelId: number,
    index: number,
    retryAfterMs?: number,
  ): Promise<{ failures: number; until: number }>;
  success(channelId: number, index: number): Promise<void>;
  /** HealthBook.tryAcquire, with a cluster-wide half-open probe claim. */
  tryAcquire(channelId: number, index: number): Promise<{ state: AcquireState; until: number }>;
  /** HealthBook.release of a probe this node claimed. */
  releaseProbe(channelId: number, index: number): Promise<void>;
}
