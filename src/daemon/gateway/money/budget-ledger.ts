/**
 * The per-key budget ledger: settled spend plus what requests in flight have reserved. Admission
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

/** A reservation taken, or the money that was left when none fitted. */
export type ReserveResult = ({ ok: true } & Fit) | { ok: false; left: number };

export class BudgetLedger {
  private readonly accounts = new Map<number, Account>();

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

  /** Swaps a reservation for the real cost (both micro-USD). */
  settle(keyId: number, reserved: number, cost: number): void {
    const a = this.account(keyId);
    a.reserved = Math.max(0, a.reserved - reserved);
    a.spent += cost;
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
