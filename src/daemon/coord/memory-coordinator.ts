/**
 * The shared-book interfaces (coordinator.ts) over today's in-memory BudgetLedger and
 * RateLimiters, for one process (the SQLite default): admission and settlement can call one
 * interface whichever mode the daemon runs in, and the Redis books are tested against these for
 * the same answers. Holds are remembered per request id so settle and release need no more than
 * the Redis versions do; like the in-memory books themselves, these rely on the caller to settle
 * and release once (RelayContext.settled/admitted), and a repeat of either is ignored only while
 * the request id is still held.
 */
import type { BudgetLedger, JointResult } from '../gateway/money/budget-ledger.js';
import type { RateLimiter } from '../gateway/money/limits.js';
import type { CostTerms, OutputAsk } from '../gateway/money/meter.js';
import type { RateSubject, SharedBudget, SharedPayer, SharedRates } from './coordinator.js';

export class MemoryBudget implements SharedBudget {
  private readonly holds = new Map<string, number>();

  constructor(readonly ledger: BudgetLedger) {}

  async reserve(
    requestId: string,
    payer: SharedPayer,
    terms: CostTerms,
    ask: OutputAsk,
  ): Promise<JointResult> {
    const r = this.ledger.reserveJoint(payer, terms, ask);
    if (r.ok) this.holds.set(requestId, r.amount);
    return r;
  }

  async settle(requestId: string, keyId: number, userId: number | null, cost: number): Promise<void> {
    const held = this.holds.get(requestId) ?? 0;
    this.holds.delete(requestId);
    this.ledger.settle(keyId, held, cost, userId);
  }

  async credit(userId: number, amount: number): Promise<void> {
    this.ledger.credit(userId, amount);
  }

  /** in one process a hold lives as long as its request: nothing lapses, nothing to renew */
  async renew(): Promise<void> {}
}

export class MemoryRates implements SharedRates {
  private readonly held = new Set<string>();

  constructor(
    readonly keys: RateLimiter,
    readonly users: RateLimiter,
  ) {}

  async admit(
    requestId: string,
    key: RateSubject,
    user: RateSubject | null,
    estTokens: number,
  ): Promise<void> {
    this.keys.admit(key.id, key.limits, estTokens);
    if (user) {
      try {
        this.users.admit(user.id, user.limits, estTokens, user.name);
      } catch (err) {
        this.keys.release(key.id, 0);
        throw err;
      }
    }
    this.held.add(requestId);
  }

  async release(requestId: string, keyId: number, userId: number | null, tokens: number): Promise<void> {
    if (!this.held.delete(requestId)) return;
    this.keys.release(keyId, tokens);
    if (userId !== null) this.users.release(userId, tokens);
  }

  async renew(): Promise<void> {}
}
