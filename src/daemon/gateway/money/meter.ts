/**
 * Money: what a request costs (SPEC section 7) and the arithmetic of its reservation. A request's
 * price terms are reduced to four plain numbers (CostTerms) so that whoever holds the budget (the
 * in-memory ledger now, a script inside a shared store later) can price any output limit itself
 * and decide, in the same step that reserves, how much output the money left can pay for
 * (fitOutput). Reservations round up and settlements round half up, so a request that stays
 * within its reserved tokens can never cost more than was reserved. What may exceed the gateway's
 * own reckoning is bounded here too: the prompt as another tokenizer counts it (worstInput), the
 * dearest price any serving channel's settlement may apply (dearestOf), and output billed for
 * several answers at once (OutputAsk.choices).
 */
import { roundHalfUp } from '../../../shared/money.js';
import type { PriceRecord } from '../../store/types.js';
import { dearestPrice, priceAt } from '../../pricing/tiers.js';
import type { Usage } from '../../providers/types.js';

/** Output tokens assumed for a reservation when neither the request nor the price table says. */
export const DEFAULT_OUTPUT_LIMIT = 4096;

/**
 * The most input tokens an upstream may bill for a prompt the gateway counted as `counted`
 * tokens (o200k) in a JSON body of `bodyBytes` bytes. Tokenizers differ: another provider's may
 * count the same text at a quarter more (digits, emoji, rare scripts that o200k already splits
 * finely), and runs o200k merges into long tokens (spaces, dashes, newlines, repeated letters) at
 * up to thirty times more. Ordinary text costs 3.5 to 5 bytes a token in every provider's
 * tokenizer and the JSON around it adds bytes but no tokens, so a third of the body's bytes
 * bounds what the local count can miss; the larger of the two is reserved.
 */
export function worstInput(counted: number, bodyBytes: number): number {
  return Math.max(Math.ceil((counted * 5) / 4), Math.ceil(bodyBytes / 3));
}

/** Exact cost in micro-USD, rounded once, half up. */
export function costOf(usage: Usage, price: PriceRecord, ratio: number): number {
  price = priceAt(price, usage.inputTokens); // long-context tiers by the request's real input
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

/** A request's price as plain numbers: enough to price any number of output tokens. */
export interface CostTerms {
  /** the prompt at its dearest: input tokens x the dearest input price (micro-USD per 1M) */
  inputPart: number;
  /** micro-USD per 1M output tokens */
  outputPrice: number;
  /** the key group's price multiplier */
  ratio: number;
  /** micro-USD per request */
  perRequest: number;
}

export function costTerms(inputTokens: number, price: PriceRecord, ratio: number): CostTerms {
  price = dearestPrice(price); // the local count may miss a tier threshold the upstream's passes
  return {
    // every prompt token may turn out a cache write (or, with an odd override, a dearer cache read)
    inputPart: inputTokens * Math.max(price.input, price.cacheWrite ?? 0, price.cacheRead ?? 0),
    outputPrice: price.output,
    ratio,
    perRequest: price.perRequest ?? 0,
  };
}

/**
 * The most a request with this output limit can cost, rounded up. The same expression as costOf
 * with every input token at the dearest input price, so costOf of any usage within the limit
 * (same prompt) is never larger.
 */
export function termsCost(t: CostTerms, outputTokens: number): number {
  return Math.ceil(((t.inputPart + outputTokens * t.outputPrice) / 1_000_000) * t.ratio + t.perRequest);
}

/**
 * One price at least as dear as each of `prices` in every unit (their dearest tiers included),
 * for a reservation that any of them may settle; the smallest known output limit, which every one
 * of their upstreams accepts. Undefined when there is none.
 */
export function dearestOf(prices: readonly PriceRecord[]): PriceRecord | undefined {
  const most = (a: number | null, b: number | null): number | null =>
    a === null ? b : b === null ? a : Math.max(a, b);
  const least = (a: number | null, b: number | null): number | null =>
    a === null ? b : b === null ? a : Math.min(a, b);
  let out: PriceRecord | undefined;
  for (const raw of prices) {
    const { tiers: _dearestAlready, ...p } = dearestPrice(raw);
    out = !out
      ? p
      : {
          ...out,
          input: Math.max(out.input, p.input),
          output: Math.max(out.output, p.output),
          cacheRead: most(out.cacheRead, p.cacheRead),
          cacheWrite: most(out.cacheWrite, p.cacheWrite),
          perRequest: most(out.perRequest, p.perRequest),
          maxOutputTokens: least(out.maxOutputTokens, p.maxOutputTokens),
        };
  }
  return out;
}

/** The most a request can cost: every input token at full price plus its output limit. */
export function worstCaseCost(
  inputTokens: number,
  maxOutput: number,
  price: PriceRecord,
  ratio: number,
): number {
  return termsCost(costTerms(inputTokens, price, ratio), maxOutput);
}

/** How much output a request asks to reserve, and how far it may be lowered instead of refused. */
export interface OutputAsk {
  /** the output limit the request runs with when the money allows (the client's, or the default) */
  limit: number;
  /**
   * Answers billed per request (n, best_of, candidateCount): the limit applies to each, so the
   * money must pay for `choices` x limit.
   */
  choices: number;
  /**
   * Tokens the upstream may produce beyond whatever limit is sent (thinking a conversion puts on
   * top of it, a prediction's rejected tokens); reserved once with every limit.
   */
  extra: number;
  /**
   * The lower limits that may be sent instead when `limit` does not fit: up to `max` and at
   * least `min` (what is worth serving). Null: refuse instead (a strict budget, or an endpoint
   * whose output cannot be limited).
   */
  clamp: { min: number; max: number } | null;
}

/** What a reservation holds: micro-USD, and the output limit to send that those pay for. */
export interface Fit {
  amount: number;
  outputTokens: number;
  /** the output limit was lowered below the request's own */
  clamped: boolean;
}

/**
 * The reservation `left` micro-USD allows: the request's own limit when its worst case fits, else
 * the largest limit in the clamp range whose worst case fits, else null (refuse). Limits are per
 * answer: a limit of n tokens costs choices x n + extra output tokens. That cost only grows with
 * n, so a binary search over whole tokens finds the exact largest limit, and the amount reserved
 * is computed by the same function the check used: it never exceeds `left`.
 */
export function fitOutput(left: number, t: CostTerms, ask: OutputAsk): Fit | null {
  const cost = (n: number): number => termsCost(t, askedOutput(ask, n));
  const full = cost(ask.limit);
  if (full <= left) return { amount: full, outputTokens: ask.limit, clamped: false };
  const c = ask.clamp;
  if (!c || c.min > c.max || cost(c.min) > left) return null;
  let lo = c.min;
  let hi = c.max;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    if (cost(mid) <= left) lo = mid;
    else hi = mid - 1;
  }
  return { amount: cost(lo), outputTokens: lo, clamped: true };
}

/** Output tokens a per-answer limit of `limit` lets the upstream bill: every answer, plus extra. */
export function askedOutput(ask: OutputAsk, limit: number): number {
  return Math.max(1, ask.choices) * limit + ask.extra;
}
