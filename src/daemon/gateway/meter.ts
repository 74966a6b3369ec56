/**
 * Money: what a request costs (SPEC section 7) and the per-key budget ledger. Each admission
 * reserves the request's worst case; settlement swaps the reservation for the real cost. Because
 * a reservation that does not fit is refused, concurrent requests can never push spend past the
 * budget. The ledger starts from the store's settled spend and is kept in memory after that.
 */
import { BcError } from '../../shared/errors.js';
import { roundHalfUp } from '../../shared/money.js';
import type { PriceRecord } from '../store/types.js';
import type { Usage } from '../providers/types.js';

/** Output tokens assumed for a reservation when neither the request nor the price table says. */
export const DEFAULT_OUTPUT_LIMIT = 4096;

/** Exact cost in micro-USD, rounded once, half up. */
export function costOf(usage: Usage, price: PriceRecord, ratio: number): number {
  const cached = Math.min(usage.cachedTokens, usage.inputTokens);
  const writes = Math.min(usage.cacheWriteTokens, usage.inputTokens - cached);
  const uncached = usage.inputTokens - cached - writes;
  const tokenMicro =
    uncached * price.input +
    cached * (price.cacheRead ?? price.input) +
    writes * (price.cacheWrite ?? price.input) +
    usage.outputTokens * price.output;
  return roundHalfUp((tokenMicro / 1_000_000) * ratio + (price.perRequest ?? 0));
}

/** The most a request can cost: every input token at full price plus its output limit. */
export function worstCaseCost(
  inputTokens: number,
  maxOutput: number,
  price: PriceRecord,
  ratio: number,
): number {
  const micro =
    (inputTokens * Math.max(price.input, price.cacheWrite ?? 0) + maxOutput * price.output) / 1_000_000;
  return Math.ceil(micro * ratio + (price.perRequest ?? 0));
}

interface Account {
  spent: number;
  reserved: number;
}

export class BudgetLedger {
  private readonly accounts = new Map<number, Account>();

  /** Seeds a key's settled spend from the store; keeps in-memory spend for keys already known. */
  load(keyId: number, storedSpent: number): void {
    if (!this.accounts.has(keyId)) this.accounts.set(keyId, { spent: storedSpent, reserved: 0 });
  }

  /** Reserves `amount` against `budget` or throws INSUFFICIENT_QUOTA. */
  reserve(keyId: number, budget: number, amount: number): void {
    const a = this.account(keyId);
    if (a.spent + a.reserved + amount > budget) {
      const left = Math.max(0, budget - a.spent - a.reserved);
      throw new BcError(
        'INSUFFICIENT_QUOTA',
        `this key's budget cannot cover the request (needs up to ${amount} micro-USD, ${left} left)`,
      );
    }
    a.reserved += amount;
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

  forget(keyId: number): void {
    this.accounts.delete(keyId);
  }

  private account(keyId: number): Account {
    let a = this.accounts.get(keyId);
    if (!a) this.accounts.set(keyId, (a = { spent: 0, reserved: 0 }));
    return a;
  }
}
