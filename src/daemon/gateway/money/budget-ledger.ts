/**
 * The budget ledger: per key, settled spend plus what requests in flight have reserved; per user
 * (SPEC section 11), the settled balance less what their requests in flight have reserved. Admission
 * asks it for a reservation with the request's price terms, and the ledger decides how much the
 * money left can pay for and reserves it in one synchronous step (no await between reading what
 * is left and taking it), so concurrent requests can never push spend past the budget. A ledger
 * shared by several daemons (Redis, PostgreSQL) does the same step as one atomic script, which is
 * why the decision takes plain numbers (meter.ts's CostTerms and OutputAsk), not callbacks.
 * It starts from the store's settled spend and is kept in memory after that.
 */
import { fitOutput, type CostTerms, type Fit, type OutputAsk } from './meter.js';

interface Account {
  spent: number;
  reserved: number;
}

/** A user's money: the settled balance (micro-USD, may be below zero after an overrun) and holds. */
interface Wallet {
  balance: number;
  reserved: number;
}

/** A reservation taken, or the money that was left when none fitted. */
export type ReserveResult = ({ ok: true } & Fit) | { ok: false; left: number };

/**
 * What one request draws on: its key's budget (null = none), its user's balance (null = an
 * operator's key or an unmetered user). At least one is set when admission reserves.
 */
export interface Payer {
  keyId: number;
  budget: number | null;
  userId: number | null;
}

/** A joint reservation refused: what was left, and whether the user's balance was the tighter. */
export type JointResult = ({ ok: true } & Fit) | { ok: false; left: number; short: 'key' | 'user' };

export class BudgetLedger {
  private readonly accounts = new Map<number, Account>();
  private readonly wallets = new Map<number, Wallet>();

  /** Seeds a key's settled spend from the store; keeps in-memory spend for keys already known. */
  load(keyId: number, storedSpent: number): void {
    if (!this.accounts.has(keyId)) this.accounts.set(keyId, { spent: storedSpent, reserved: 0 });
  }

  /**
   * Reserves the request's worst case against `budget` if it fits, else the largest lowered
   * output limit the clamp allows, else nothing. All micro-USD.
   */
  reserve(keyId: number, budget: number, terms: CostTerms, ask: OutputAsk): ReserveResult {
    const a = this.account(keyId);
    const left = budget - a.spent - a.reserved;
    const fit = fitOutput(left, terms, ask);
    if (!fit) return { ok: false, left: Math.max(0, left) };
    a.reserved += fit.amount;
    return { ok: true, ...fit };
  }

  /**
   * Reserves against the key's budget and the user's balance together, in one synchronous step:
   * what fits is decided by the smaller of the two amounts left, and is taken from both or from
   * neither.
   */
  reserveJoint(p: Payer, terms: CostTerms, ask: OutputAsk): JointResult {
    const a = p.budget === null ? null : this.account(p.keyId);
    const w = p.userId === null ? null : (this.wallets.get(p.userId) ?? null);
    const keyLeft = a === null || p.budget === null ? Infinity : p.budget - a.spent - a.reserved;
    const userLeft = w === null ? Infinity : w.balance - w.reserved;
    const left = Math.min(keyLeft, userLeft);
    const fit = fitOutput(left, terms, ask);
    if (!fit) return { ok: false, left: Math.max(0, left), short: userLeft < keyLeft ? 'user' : 'key' };
    if (a) a.reserved += fit.amount;
    if (w) w.reserved += fit.amount;
    return { ok: true, ...fit };
  }

  /** Swaps a reservation for the real cost (both micro-USD), on the key and on its user's wallet. */
  settle(keyId: number, reserved: number, cost: number, userId: number | null = null): void {
    const a = this.account(keyId);
    a.reserved = Math.max(0, a.reserved - reserved);
    a.spent += cost;
    const w = userId === null ? undefined : this.wallets.get(userId);
    if (w) {
      w.reserved = Math.max(0, w.reserved - reserved);
      w.balance -= cost;
    }
  }

  /**
   * Seeds a metered user's settled balance from the store; a user already known keeps the balance
   * kept here, which credits (credit) and settlements have moved. An unmetered user has no wallet.
   */
  loadUser(userId: number, storedBalance: number | null): void {
    if (storedBalance === null) {
      this.wallets.delete(userId);
      return;
    }
    if (!this.wallets.has(userId)) this.wallets.set(userId, { balance: storedBalance, reserved: 0 });
  }

  /** A committed credit or debit outside settlement (store.creditUser and the like). */
  credit(userId: number, amount: number): void {
    const w = this.wallets.get(userId);
    if (w) w.balance += amount;
  }

  /** The user's balance as the gateway counts it (settled, before reservations); null if unmetered. */
  balance(userId: number): number | null {
    return this.wallets.get(userId)?.balance ?? null;
  }

  /** Micro-USD the user's requests in flight have reserved. */
  userReserved(userId: number): number {
    return this.wallets.get(userId)?.reserved ?? 0;
  }

  /** Forgets a user's wallet: the next snapshot seeds it again from the store (metered again). */
  forgetUser(userId: number): void {
    this.wallets.delete(userId);
  }

  spent(keyId: number): number {
    return this.accounts.get(keyId)?.spent ?? 0;
  }

  /** Micro-USD reserved by requests in flight. */
  reserved(keyId: number): number {
    return this.accounts.get(keyId)?.reserved ?? 0;
  }

  forget(keyId: number): void {
    this.accounts.delete(keyId);
  }

  private account(keyId: number): Account {
    let a = this.accounts.get(keyId);
    if (!a) this.accounts.set(keyId, (a = { spent: 0, reserved: 0 }));
    return a;
  }
}
