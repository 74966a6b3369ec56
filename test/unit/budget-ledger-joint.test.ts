// The joint reservation of a user-owned key (SPEC section 11): the key's budget and the user's
// balance are checked and reserved in one step, the tighter decides, both or neither are taken;
// settlement swaps both reservations for the cost; credits move the balance the gateway counts.
import { describe, expect, it } from 'vitest';
import { BudgetLedger } from '../../src/daemon/gateway/money/budget-ledger.js';
import type { CostTerms, OutputAsk } from '../../src/daemon/gateway/money/meter.js';

// 100 micro-USD per output token, nothing else: a limit of 1,000 tokens costs 100,000
const terms: CostTerms = { inputPart: 0, outputPrice: 100_000_000, ratio: 1, perRequest: 0 };
const ask = (limit = 1000, clamp: OutputAsk['clamp'] = null): OutputAsk => ({
  limit,
  choices: 1,
  extra: 0,
  clamp,
});

describe('BudgetLedger.reserveJoint', () => {
  it('reserves on both, and refuses once the balance is short, naming the user', () => {
    const l = new BudgetLedger();
    l.load(1, 0);
    l.loadUser(7, 250_000);
    const payer = { keyId: 1, budget: null, userId: 7 };
    expect(l.reserveJoint(payer, terms, ask())).toMatchObject({ ok: true, amount: 100_000 });
    expect(l.reserveJoint(payer, terms, ask())).toMatchObject({ ok: true, amount: 100_000 });
    expect(l.reserveJoint(payer, terms, ask())).toEqual({ ok: false, left: 50_000, short: 'user' });
    expect(l.userReserved(7)).toBe(200_000);
    expect(l.reserved(1)).toBe(0); // no budget: nothing is tracked against the key
  });

  it('lets the tighter of budget and balance decide, and takes from neither on a refusal', () => {
    const l = new BudgetLedger();
    l.load(1, 0);
    l.loadUser(7, 1_000_000);
    const payer = { keyId: 1, budget: 150_000, userId: 7 };
    expect(l.reserveJoint(payer, terms, ask())).toMatchObject({ ok: true });
    expect(l.reserveJoint(payer, terms, ask())).toEqual({ ok: false, left: 50_000, short: 'key' });
    expect(l.reserved(1)).toBe(100_000);
    expect(l.userReserved(7)).toBe(100_000);
  });

  it('lowers the output limit to what the tighter side can pay when a clamp is allowed', () => {
    const l = new BudgetLedger();
    l.loadUser(7, 150_000);
    const r = l.reserveJoint(
      { keyId: 1, budget: null, userId: 7 },
      terms,
      ask(4000, { min: 1024, max: 4000 }),
    );
    expect(r).toEqual({ ok: true, amount: 150_000, outputTokens: 1500, clamped: true });
  });

  it('settles both reservations to the cost and follows credits', () => {
    const l = new BudgetLedger();
    l.load(1, 0);
    l.loadUser(7, 300_000);
    const payer = { keyId: 1, budget: 500_000, userId: 7 };
    const r = l.reserveJoint(payer, terms, ask());
    expect(r.ok).toBe(true);
    l.settle(1, 100_000, 12_345, 7);
    expect(l.spent(1)).toBe(12_345);
    expect(l.reserved(1)).toBe(0);
    expect(l.balance(7)).toBe(300_000 - 12_345);
    expect(l.userReserved(7)).toBe(0);
    l.credit(7, 1_000_000);
    expect(l.balance(7)).toBe(1_287_655);
    // a later snapshot does not reseed a wallet already followed
    l.loadUser(7, 5);
    expect(l.balance(7)).toBe(1_287_655);
    // made unmetered: the wallet goes, requests are no longer held by a balance
    l.loadUser(7, null);
    expect(l.balance(7)).toBeNull();
    expect(l.reserveJoint({ keyId: 1, budget: null, userId: 7 }, terms, ask(100_000))).toMatchObject({
      ok: true,
    });
  });
});
