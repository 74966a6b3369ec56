/**
 * Settlement: the end of every authenticated request. Turns what happened into usage (the
 * upstream's, or the offline tokenizer's estimate), cost, budget and rate-limit releases, metrics,
 * and the one log row, committed before the request counts as done (SPEC section 7).
 */
import type { NewLogRow, SpendAfter } from '../../store/types.js';
import type { Usage } from '../../providers/types.js';
import { ZERO_USAGE } from '../../providers/types.js';
import type { RelayContext } from '../context.js';
import { elapsedMs } from '../context.js';
import type { GatewayState } from '../state.js';
import { countedInput } from './admission.js';
import { billedPrice } from './admitted-prices.js';
import { costOf } from './meter.js';
import { settleShared } from './shared-admission.js';
import { countTextTokens } from '../tokens/tokens.js';
import { isBcError } from '../../../shared/errors.js';

export interface Outcome {
  /** HTTP status the client got */
  status: number;
  /** error category (BcError category or 'upstream' ...), null on success */
  error: string | null;
  /** usage the upstream reported, when it did */
  usage: Usage | null;
  /** text delivered to the client, for estimating output when the upstream reported no usage */
  deliveredText?: () => string;
  /** upstream tokens were spent (a response was produced); false for refusals and pre-response failures */
  produced: boolean;
}

/**
 * Settles the request: once. A second call (a failure after the row was written, caught further
 * up) changes nothing, so no request is ever logged or charged twice.
 */
export async function settle(state: GatewayState, ctx: RelayContext, outcome: Outcome): Promise<void> {
  const key = ctx.key;
  if (!key || ctx.settled) return;
  ctx.settled = true;
  let usage = outcome.usage;
  let estimated = false;
  if (!usage && outcome.produced) {
    usage = await estimateUsage(ctx, outcome);
    estimated = true;
  }
  const u = usage ?? ZERO_USAGE;
  // the prices in force at admission, which the reservation covered
  const { price, ratio } = billedPrice(state, ctx);
  const reserved = ctx.reserved;
  let cost = price ? (outcome.produced ? costOf(u, price, ratio) : 0) : null;
  // an estimate counts delivered text with o200k, which may count more than the upstream's own
  // tokenizer did; the upstream was held to the limit reserved, so the estimate stops there
  if (estimated && cost !== null && reserved > 0) cost = Math.min(cost, reserved);

  ctx.reserved = 0;
  // with shared books (shared-admission.ts) the slots go back after the commit, with the money
  const shared = state.shared;
  if (!shared) {
    if (ctx.admitted) state.limiter.release(key.record.id, u.inputTokens + u.outputTokens);
    if (ctx.userAdmitted && key.user) state.userLimiter.release(key.user.id, u.inputTokens + u.outputTokens);
    ctx.admitted = false;
    ctx.userAdmitted = false;
  }

  const latencyMs = elapsedMs(ctx);
  const row: NewLogRow = {
    request_id: ctx.requestId,
    time: new Date().toISOString(),
    key: key.record.name,
    key_id: key.record.id,
    channel: ctx.channel?.record.name ?? null,
    channel_id: ctx.channel?.record.id ?? null,
    model: ctx.model,
    upstream_model: ctx.upstreamModel,
    endpoint: ctx.endpoint,
    status: outcome.status,
    error: outcome.error,
    input_tokens: u.inputTokens,
    cached_tokens: u.cachedTokens,
    cache_write_tokens: u.cacheWriteTokens,
    output_tokens: u.outputTokens,
    reasoning_tokens: u.reasoningTokens,
    cost,
    usage_estimated: estimated,
    latency_ms: Math.round(latencyMs),
    ttft_ms: ctx.ttftMs === null ? null : Math.round(ctx.ttftMs),
    retries: Math.max(0, ctx.attempts - 1),
    stream: ctx.stream,
    dropped_fields: ctx.dropped,
    max_tokens_clamped: ctx.outputLowered ? ctx.outputLimit : null,
  };
  state.requests += 1;
  // the key is charged only once the row is durable: a row the store refused charges nothing
  let refused: { err: unknown } | null = null;
  // the spend after the commit, when the store says: the shared books move to it (no race with a re-seed)
  const after: SpendAfter = {};
  try {
    await state.store.settle(row, after);
  } catch (err) {
    refused = { err };
  }
  if (shared)
    await settleShared(state, shared, ctx, refused ? 0 : (cost ?? 0), u.inputTokens + u.outputTokens, after);
  else state.ledger.settle(key.record.id, reserved, refused ? 0 : (cost ?? 0), key.user?.id ?? null);
  const failure = refused && isBcError(refused.err) ? refused.err : null;
  state.metrics.requestFinished({
    channelId: row.channel_id,
    channelName: row.channel,
    model: ctx.model,
    keyId: key.record.id,
    keyName: key.record.name,
    userId: key.user?.id ?? null,
    userName: key.user?.name ?? null,
    status: refused ? (failure?.status ?? 500) : outcome.status,
    errorCategory: refused ? (failure?.category ?? 'internal') : outcome.error,
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    cost: refused ? null : cost,
    latencyMs,
    ttftMs: ctx.ttftMs,
    stream: ctx.stream,
  });
  if (!refused) return;
  // a store that cannot write says so once (daemon/main.ts), not once per request
  if (failure?.code !== 'STORE_UNAVAILABLE')
    state.logger.error(
      { err: refused.err, request_id: ctx.requestId },
      'failed to commit the request log row',
    );
  throw refused.err;
}

async function estimateUsage(ctx: RelayContext, outcome: Outcome): Promise<Usage> {
  let input = 0;
  try {
    input = await countedInput(ctx);
  } catch {
    input = Math.ceil(ctx.raw.length / 4);
  }
  const text = outcome.deliveredText?.() ?? '';
  const output = await countTextTokens(text);
  return {
    inputTokens: input,
    cachedTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: output,
    reasoningTokens: 0,
  };
}
