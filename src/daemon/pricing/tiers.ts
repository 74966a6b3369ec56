/**
 * Long-context tiers, applied the way the providers bill them: once a request's input tokens
 * (cached and cache-written included) exceed a tier's threshold, every token of the request is
 * billed at that tier's prices. Settlement applies the tier of the request's real input size;
 * the worst-case reservation at admission uses the dearest tier, because the local token count
 * is an estimate that could sit under a threshold the upstream's count passes, and a reservation
 * must never be smaller than the bill.
 */
import type { PriceRecord } from '../store/types.js';

/** The price that bills a request of `inputTokens` input tokens. */
export function priceAt(p: PriceRecord, inputTokens: number): PriceRecord {
  if (!p.tiers || p.tiers.length === 0) return p;
  let tier: (typeof p.tiers)[number] | undefined;
  for (const t of p.tiers) if (inputTokens > t.above && (!tier || t.above > tier.above)) tier = t;
  if (!tier) return p;
  return {
    ...p,
    input: tier.input,
    output: tier.output,
    cacheRead: tier.cacheRead,
    cacheWrite: tier.cacheWrite,
  };
}

/** Each unit at its highest price across the tiers: what a reservation must assume. */
export function dearestPrice(p: PriceRecord): PriceRecord {
  if (!p.tiers || p.tiers.length === 0) return p;
  const most = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
  let r: PriceRecord = p;
  for (const t of p.tiers) {
    r = {
      ...r,
      input: Math.max(r.input, t.input),
      output: Math.max(r.output, t.output),
      cacheRead: most(r.cacheRead, t.cacheRead),
      cacheWrite: most(r.cacheWrite, t.cacheWrite),
    };
  }
  return r;
}
