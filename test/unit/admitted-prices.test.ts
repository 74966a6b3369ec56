// The prices a request is billed at, fixed at admission (admitted-prices.ts): what is captured
// (the key group's channels only, by upstream model, priced or not; the group ratio; the price of
// a request no channel was reached for), which upstream models a key with a budget may be served
// as, and what settlement bills after prices and ratios changed while the request was in flight.
import { describe, expect, it } from 'vitest';
import type { RelayContext } from '../../src/daemon/gateway/context.js';
import { billedPrice, capturePrices, servable } from '../../src/daemon/gateway/money/admitted-prices.js';
import { channel, ctx, keyOf, price, stateOf } from '../support/money-state.js';

const A = price('up-a', 1_000_000, 2_000_000);
const V = price('up-v', 9_000_000, 9_000_000);
const channels = [
  channel('openai', [], { map: { m: 'up-a' }, priority: 5 }),
  channel('openai', [], { map: { m: 'up-b' }, priority: 1 }),
  channel('openai', [], { map: { m: 'up-v' }, groups: ['vip'] }),
];
const groups = [
  { name: 'default', ratio: 0.8 },
  { name: 'vip', ratio: 2 },
];

describe('capturePrices', () => {
  it("holds the price of every upstream model the key group's channels serve the model as", () => {
    const p = capturePrices(stateOf(channels, [A, V], groups), 'm', keyOf());
    expect([...p.byUpstream.entries()]).toEqual([
      ['up-a', A],
      ['up-b', undefined],
    ]);
    expect(p).toMatchObject({ ratio: 0.8, unrouted: A, pricedOnly: true });
    const vip = capturePrices(stateOf(channels, [A, V], groups), 'm', keyOf({ group: 'vip' }));
    expect([...vip.byUpstream.entries()]).toEqual([['up-v', V]]);
    expect(vip.ratio).toBe(2);
  });

  it('captures ratio 1 for a group without one, and lets a key without a budget use any channel', () => {
    const p = capturePrices(stateOf(channels, [A], []), 'm', keyOf({ group: 'nobody', budget: null }));
    expect(p.ratio).toBe(1);
    expect(p.pricedOnly).toBe(false);
    expect(p.byUpstream.size).toBe(0);
    // a model no channel serves: nothing captured, nothing to bill an unrouted request at
    const none = capturePrices(stateOf(channels, [A], groups), 'ghost', keyOf());
    expect(none.byUpstream.size).toBe(0);
    expect(none.unrouted).toBeUndefined();
  });
});

describe('servable', () => {
  const captured = (budget: number | null): RelayContext =>
    ctx({}, { prices: capturePrices(stateOf(channels, [A], groups), 'm', keyOf({ budget })) });

  it('lets a key with a budget be served only as an upstream model priced at admission', () => {
    expect(servable(captured(1000), 'up-a')).toBe(true);
    expect(servable(captured(1000), 'up-b')).toBe(false);
    // a channel a later rebuild added (or remapped) was not reserved for
    expect(servable(captured(1000), 'up-new')).toBe(false);
  });

  it('lets a key without a budget, or a request never admitted, be served anywhere', () => {
    expect(servable(captured(null), 'up-b')).toBe(true);
    expect(servable(captured(null), 'up-new')).toBe(true);
    expect(servable(ctx({}), 'up-b')).toBe(true);
  });
});

describe('billedPrice', () => {
  const admittedAt = stateOf(channels, [A], groups);
  // while the request is in flight: prices raised, the ratio changed, a channel added
  const later = stateOf(
    [...channels, channel('openai', [], { map: { m: 'up-new' } })],
    [{ ...A, output: 50_000_000 }, price('up-new', 7, 7), price('up-b', 3, 3)],
    [{ name: 'default', ratio: 5 }],
  );
  const served = (upstreamModel: string | null, admitted = true): RelayContext =>
    ctx(
      {},
      {
        key: keyOf(),
        upstreamModel,
        prices: admitted ? capturePrices(admittedAt, 'm', keyOf()) : undefined,
      },
    );

  it('bills the price and ratio admission captured for the upstream model that served it', () => {
    expect(billedPrice(later, served('up-a'))).toEqual({ price: A, ratio: 0.8 });
    // unpriced at admission stays unpriced, whatever was set since
    expect(billedPrice(later, served('up-b'))).toEqual({ price: undefined, ratio: 0.8 });
    // no channel reached: the unrouted price
    expect(billedPrice(later, served(null))).toEqual({ price: A, ratio: 0.8 });
  });

  it("bills today's price for a model admission did not capture, at the captured ratio", () => {
    expect(billedPrice(later, served('up-new'))).toEqual({ price: price('up-new', 7, 7), ratio: 0.8 });
  });

  it("bills today's price and the key group's ratio when the request was never admitted", () => {
    expect(billedPrice(later, served('up-a', false))).toEqual({
      price: { ...A, output: 50_000_000 },
      ratio: 5,
    });
    const keyless = ctx({}, { key: null, upstreamModel: 'up-a' });
    expect(billedPrice(later, keyless).ratio).toBe(1);
  });
});
