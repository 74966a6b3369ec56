/**
 * The relay: admit -> route -> attempt -> stream -> settle. Tries candidate channels in router
 * order, never the same channel twice, up to 1 + retries attempts; applies each failure's decision
 * (cool down, auto-disable, or pass the upstream's rejection back); never retries once a byte has
 * gone to the client. Every authenticated request ends in exactly one settlement (log row). A
 * store that cannot record requests is the gateway's failure (settle-failure.ts): no upstream call
 * while it is known, and a settlement failure is never retried and never cools a channel down.
 */
import { BcError, isBcError } from '../../shared/errors.js';
import type { ProviderAdapter, UpstreamFailure, UpstreamTarget } from '../providers/types.js';
import { getAdapter, getCodec } from '../providers/registry.js';
import type { RelayContext } from './context.js';
import type { GatewayState } from './state.js';
import type { Pick } from './router.js';
import { sendBody, sendError } from './client-wire.js';
import { send, transportFailure } from './upstream.js';
import { pumpStream, type Mode } from './stream-pump.js';
import type { Outcome } from './settle.js';
import {
  SettlementFailure,
  answerSettlementFailure,
  refuseWhileStoreFails,
  settleOrFail,
} from './settle-failure.js';
import { disableSecret } from './auto-disable.js';
import { planRequest, type Plan } from './plan.js';
import { countedInput } from './admission.js';
import { redactFailure } from './redact.js';
import { servable } from './admitted-prices.js';

type AttemptResult =
  { kind: 'done' } | { kind: 'failed'; failure: UpstreamFailure; passthrough: boolean; penalize: boolean };

/** Runs the attempts for an admitted request and always settles it. */
export async function relay(state: GatewayState, ctx: RelayContext): Promise<void> {
  // an answer the store could not record would go unbilled: refuse before calling anyone
  refuseWhileStoreFails(state);
  return attempts(state, ctx).catch((err: unknown) => answerSettlementFailure(ctx, err));
}

async function attempts(state: GatewayState, ctx: RelayContext): Promise<void> {
  const key = ctx.key!;
  const tried = new Set<number>();
  const maxAttempts = state.options.retries + 1;
  let last: (AttemptResult & { kind: 'failed' }) | undefined;
  const finish = (o: Outcome): Promise<void> => settleOrFail(state, ctx, o);

  while (ctx.attempts < maxAttempts && !ctx.clientGone) {
    // a key with a budget is served only where admission found a price (admitted-prices.ts)
    const pick = state.router.next(state.snapshot, ctx.model, key.record.group, tried, (up) =>
      servable(ctx, up),
    );
    if (!pick) break;
    tried.add(pick.channel.record.id);
    ctx.attempts += 1;
    ctx.channel = pick.channel;
    ctx.upstreamModel = pick.upstreamModel;
    let result: AttemptResult;
    try {
      result = await attempt(state, ctx, pick, finish);
    } catch (err) {
      state.health.release(pick.channel.record.id, pick.secret.index);
      throw err;
    }
    if (result.kind === 'done') {
      state.health.success(pick.channel.record.id, pick.secret.index);
      return;
    }
    result.failure = redactFailure(pick.channel.redact, result.failure);
    last = result;
    applyFailure(state, pick, result);
    if (result.failure.action === 'reject') return rejectBack(ctx, result, finish);
  }
  if (ctx.clientGone) return finish({ status: 499, error: 'client_abort', usage: null, produced: false });
  const err = exhausted(state, ctx, tried.size, last?.failure);
  sendError(ctx, err);
  await finish({ status: err.status, error: err.category, usage: null, produced: false });
}

function applyFailure(state: GatewayState, pick: Pick, result: AttemptResult & { kind: 'failed' }): void {
  const id = pick.channel.record.id;
  if (!result.penalize || result.failure.action === 'reject') {
    state.health.release(id, pick.secret.index);
    return;
  }
  if (result.failure.action === 'disable') {
    state.health.release(id, pick.secret.index);
    disableSecret(state, pick, result.failure.message);
    return;
  }
  state.health.failure(id, pick.secret.index, result.failure.retryAfterMs);
}

async function rejectBack(
  ctx: RelayContext,
  r: AttemptResult & { kind: 'failed' },
  finish: (o: Outcome) => Promise<void>,
): Promise<void> {
  const f = r.failure;
  await finish({ status: f.status, error: 'upstream_rejected', usage: null, produced: false });
  if (r.passthrough && f.body !== undefined) {
    sendBody(ctx, f.status, 'application/json', f.body);
    return;
  }
  sendError(ctx, new BcError('UPSTREAM_REJECTED', f.message, { status: f.status }));
}

function exhausted(
  state: GatewayState,
  ctx: RelayContext,
  tried: number,
  last: UpstreamFailure | undefined,
): BcError {
  if (!state.router.serves(state.snapshot, ctx.model, ctx.key!.record.group)) {
    return new BcError('MODEL_NOT_FOUND', `no channel serves model "${ctx.model}"`, { param: 'model' });
  }
  if (!last) {
    return new BcError(
      'UPSTREAM_ERROR',
      `every channel serving "${ctx.model}" is cooling down after failures; retry shortly`,
      { status: 503, retryAfterS: coolingRetryAfterS(state, ctx) },
    );
  }
  const status = last.status >= 400 && last.status !== 401 && last.status !== 403 ? last.status : 502;
  return new BcError(
    'UPSTREAM_ERROR',
    `all ${tried} channel(s) tried for "${ctx.model}" failed; last: ${last.message}`,
    {
      status,
      retryAfterS: last.retryAfterMs !== undefined ? Math.ceil(last.retryAfterMs / 1000) : undefined,
    },
  );
}

/** Seconds until the soonest candidate channel is usable again (at least 1). */
function coolingRetryAfterS(state: GatewayState, ctx: RelayContext): number {
  const ms = state.router.soonestMs(state.snapshot, ctx.model, ctx.key!.record.group) ?? 1000;
  return Math.max(1, Math.ceil(ms / 1000));
}

async function attempt(
  state: GatewayState,
  ctx: RelayContext,
  pick: Pick,
  finish: (o: Outcome) => Promise<void>,
): Promise<AttemptResult> {
  const adapter = getAdapter(pick.channel.record.type);
  const target: UpstreamTarget = {
    channel: pick.channel.target,
    secret: pick.secret.secret,
    upstreamModel: pick.upstreamModel,
  };
  const plan = planRequest(ctx, adapter, target);
  if (!plan) {
    const message = `channel "${pick.channel.record.name}" (${pick.channel.record.type}) cannot serve ${ctx.endpoint}`;
    return {
      kind: 'failed',
      failure: { status: 400, action: 'retry', message },
      passthrough: false,
      penalize: false,
    };
  }
  const id = pick.channel.record.id;
  state.metrics.attemptStarted(id);
  try {
    return await exchange(ctx, adapter, target, plan, finish);
  } finally {
    state.metrics.attemptEnded(id);
  }
}

async function exchange(
  ctx: RelayContext,
  adapter: ProviderAdapter,
  target: UpstreamTarget,
  plan: Plan,
  finish: (o: Outcome) => Promise<void>,
): Promise<AttemptResult> {
  const failed = (failure: UpstreamFailure, penalize = true): AttemptResult => ({
    kind: 'failed',
    failure,
    passthrough: plan.passthrough,
    penalize,
  });
  const t0 = process.hrtime.bigint();
  const sent = await send(plan.req, target.channel.timeoutMs, ctx.abort);
  ctx.upstreamNs += process.hrtime.bigint() - t0;
  if (!sent.ok) return ctx.clientGone ? clientGone(finish) : failed(sent.failure);
  const res = sent.res;
  if (res.status >= 400) {
    const text = await res.body.readCapped();
    return failed({ ...adapter.classifyError(res.status, res.headers, text), body: text });
  }
  if (ctx.stream) {
    const ct = String(res.headers['content-type'] ?? '');
    if (!/event-stream|eventstream/i.test(ct)) {
      const text = await res.body.readCapped(512);
      return failed({
        status: 502,
        action: 'retry',
        message: `upstream answered a stream request with ${ct || 'no content type'}: ${text.slice(0, 120)}`,
      });
    }
    const mode: Mode = plan.passthrough ? (plan.injectedUsage ? 'filtered' : 'raw') : 'convert';
    const r = await pumpStream({ ctx, adapter, target, res, mode, finish });
    return r.kind === 'done' ? r : failed(r.failure);
  }
  let buf: Buffer;
  try {
    buf = await res.body.readAll();
  } catch (err) {
    return ctx.clientGone ? clientGone(finish) : failed(transportFailure(err));
  }
  // only a body the gateway could not read is the upstream's fault; a failed settlement is ours
  return deliverBody(ctx, adapter, target, plan, res.headers, buf, finish).catch((err: unknown) =>
    (isBcError(err) && err.code === 'INTERNAL') || err instanceof SettlementFailure
      ? Promise.reject(err)
      : failed(garbage(err)),
  );
}

async function clientGone(finish: (o: Outcome) => Promise<void>): Promise<AttemptResult> {
  await finish({ status: 499, error: 'client_abort', usage: null, produced: false });
  return { kind: 'done' };
}

function garbage(err: unknown): UpstreamFailure {
  const detail = err instanceof Error ? err.message : String(err);
  return {
    status: 502,
    action: 'retry',
    message: `upstream sent a malformed body (${detail.slice(0, 160)})`,
  };
}

async function deliverBody(
  ctx: RelayContext,
  adapter: ProviderAdapter,
  target: UpstreamTarget,
  plan: Plan,
  headers: Record<string, string | string[] | undefined>,
  buf: Buffer,
  finish: (o: Outcome) => Promise<void>,
): Promise<AttemptResult> {
  const ct = String(headers['content-type'] ?? 'application/json');
  const isJson = /json/i.test(ct);
  if (plan.passthrough) {
    const fromBody = ctx.usageReader?.fromBody ?? ((body: unknown) => adapter.usageFromBody?.(body) ?? null);
    const usage = isJson ? (fromBody?.(JSON.parse(buf.toString('utf8')) as unknown) ?? null) : null;
    await finish({ status: 200, error: null, usage, produced: true });
    sendBody(ctx, 200, ct, buf);
    return { kind: 'done' };
  }
  const parsed = JSON.parse(buf.toString('utf8')) as unknown;
  if (plan.reshape) {
    const { response, usage } = plan.reshape(parsed);
    await finish({ status: 200, error: null, usage, produced: true });
    sendBody(ctx, 200, 'application/json', JSON.stringify(response));
    return { kind: 'done' };
  }
  if (plan.embeddings && adapter.embeddingsResponse) {
    const { response, usage } = adapter.embeddingsResponse(parsed, target, ctx.body);
    // an upstream that reports no usage (Gemini): the client sees the count the log row bills
    if (!usage && typeof response === 'object' && response !== null) {
      const tokens = await countedInput(ctx);
      (response as { usage?: unknown }).usage = { prompt_tokens: tokens, total_tokens: tokens };
    }
    await finish({ status: 200, error: null, usage, produced: true });
    sendBody(ctx, 200, 'application/json', JSON.stringify(response));
    return { kind: 'done' };
  }
  const { completion, usage } = adapter.chatResponse(parsed, target, { dropped: ctx.dropped });
  const text = (): string => completion.choices.map((c) => c.message.content ?? '').join('');
  const codec = ctx.codec ?? (ctx.protocol === 'openai' ? undefined : getCodec(ctx.protocol));
  const out = codec ? codec.fromOpenAI(completion, usage, ctx.model) : completion;
  await finish({ status: 200, error: null, usage, produced: true, deliveredText: text });
  sendBody(ctx, 200, 'application/json', JSON.stringify(out));
  return { kind: 'done' };
}
