/**
 * The relay: admit -> route -> attempt -> stream -> settle. Tries candidate channels in router
 * order, never the same channel twice, up to 1 + retries attempts; applies each failure's decision
 * (cool down, auto-disable, or pass the upstream's rejection back); never retries once a byte has
 * gone to the client. An attempt ends in an Answer or a failure; every authenticated request
 * settles exactly once, here (`deliver`): the row is committed, then the held-back reply goes
 * out. A store that cannot record requests is the gateway's failure (settle-failure.ts): no
 * upstream call while it is known, and a settlement failure is never retried and never cools a
 * channel down.
 */
import { BcError } from '../../shared/errors.js';
import type { ProviderAdapter, UpstreamFailure, UpstreamTarget } from '../providers/types.js';
import { getAdapter, getCodec } from '../registry.js';
import type { RelayContext } from './context.js';
import type { GatewayState } from './state.js';
import type { Candidate } from './routing/router.js';
import { sendBody, sendError } from './client-wire.js';
import { send, transportFailure } from './upstream.js';
import { pumpStream, type Mode } from './stream/stream-pump.js';
import { SettlementFailure, refuseWhileStoreFails, settleOrFail } from './money/settle-failure.js';
import { disableSecret } from './routing/auto-disable.js';
import { planRequest, type Plan } from './plan.js';
import { countedInput } from './money/admission.js';
import { redactFailure } from './redact.js';
import { servable } from './money/admitted-prices.js';
import { faultPoint } from './fault-point.js';
import { answered, clientLeft, failedWith, NO_REPLY, served, unanswered, type Answer } from './answer.js';

type Failed = { kind: 'failed'; failure: UpstreamFailure; passthrough: boolean; penalize: boolean };
type AttemptResult = Answer | Failed;

/** Runs the attempts for an admitted request and settles it once. */
export async function relay(state: GatewayState, ctx: RelayContext): Promise<void> {
  // an answer the store could not record would go unbilled: refuse before calling anyone
  refuseWhileStoreFails(state);
  return deliver(state, ctx, await attempts(state, ctx));
}

/**
 * The one place a relayed request settles: the row is committed, then the reply held back for it
 * goes out. A row the store refused never reaches the client as an answer: it gets the store's
 * clean error instead (an in-stream error event if its stream had begun).
 */
async function deliver(state: GatewayState, ctx: RelayContext, answer: Answer): Promise<void> {
  try {
    await settleOrFail(state, ctx, answer.outcome);
  } catch (err) {
    if (!(err instanceof SettlementFailure)) throw err;
    if (!ctx.res.headersSent) sendError(ctx, err.error);
    else answer.reply.fail(err.error);
    if (!ctx.res.writableEnded) ctx.res.end();
    return;
  }
  if (answer.outcome.produced) faultPoint('reply-end');
  await answer.reply.send();
}

async function attempts(state: GatewayState, ctx: RelayContext): Promise<Answer> {
  const key = ctx.key!;
  const tried = new Set<number>();
  const maxAttempts = state.options.retries + 1;
  let last: Failed | undefined;

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
      result = await attempt(state, ctx, pick);
    } catch (err) {
      state.health.release(pick.channel.record.id, pick.secret.index);
      throw err;
    }
    if (result.kind === 'answered') {
      state.health.success(pick.channel.record.id, pick.secret.index);
      return result;
    }
    result.failure = redactFailure(pick.channel.redact, result.failure);
    last = result;
    applyFailure(state, pick, result);
    if (result.failure.action === 'reject') return rejectBack(ctx, result);
  }
  if (ctx.clientGone) return answered(clientLeft(null, false), NO_REPLY);
  const err = exhausted(state, ctx, tried.size, last?.failure);
  const outcome = last ? failedWith(last.failure, err.status) : unanswered(err.status, err.category);
  return answered(outcome, errorReply(ctx, err));
}

/** An error answer, sent once the row is committed. */
function errorReply(ctx: RelayContext, err: BcError): Answer['reply'] {
  return { send: () => sendError(ctx, err), fail: () => undefined };
}

function applyFailure(state: GatewayState, pick: Candidate, result: Failed): void {
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

/** The upstream rejected the request itself: its answer goes back, its own body when protocols match. */
function rejectBack(ctx: RelayContext, r: Failed): Answer {
  const f = r.failure;
  const body = r.passthrough ? f.body : undefined;
  return answered(failedWith(f), {
    send: () =>
      body !== undefined
        ? sendBody(ctx, f.status, 'application/json', body)
        : sendError(ctx, new BcError('UPSTREAM_REJECTED', f.message, { status: f.status })),
    fail: () => undefined,
  });
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

async function attempt(state: GatewayState, ctx: RelayContext, pick: Candidate): Promise<AttemptResult> {
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
    return await exchange(state, ctx, adapter, target, plan);
  } finally {
    state.metrics.attemptEnded(id);
  }
}

async function exchange(
  state: GatewayState,
  ctx: RelayContext,
  adapter: ProviderAdapter,
  target: UpstreamTarget,
  plan: Plan,
): Promise<AttemptResult> {
  const failed = (failure: UpstreamFailure, penalize = true): Failed => ({
    kind: 'failed',
    failure,
    passthrough: plan.passthrough,
    penalize,
  });
  const t0 = process.hrtime.bigint();
  const sent = await send(state.upstream, plan.req, target.channel.timeoutMs, ctx.abort);
  ctx.upstreamNs += process.hrtime.bigint() - t0;
  if (!sent.ok) return ctx.clientGone ? answered(clientLeft(null, false), NO_REPLY) : failed(sent.failure);
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
    const r = await pumpStream({ ctx, adapter, target, res, mode });
    return r.kind === 'answered' ? r : failed(r.failure);
  }
  let buf: Buffer;
  try {
    buf = await res.body.readAll();
  } catch (err) {
    return ctx.clientGone ? answered(clientLeft(null, false), NO_REPLY) : failed(transportFailure(err));
  }
  // only a body the gateway could not read or convert is the upstream's fault
  let shaped: ShapedBody;
  try {
    shaped = shapeBody(ctx, adapter, target, plan, res.headers, buf);
  } catch (err) {
    return failed(garbage(err));
  }
  await countUnreportedEmbeddings(ctx, shaped);
  const { contentType, usage, deliveredText } = shaped;
  return answered(served(usage, deliveredText), {
    send: () => sendBody(ctx, 200, contentType, bodyBytes(shaped.body)),
    fail: () => undefined,
  });
}

function garbage(err: unknown): UpstreamFailure {
  const detail = err instanceof Error ? err.message : String(err);
  return {
    status: 502,
    action: 'retry',
    message: `upstream sent a malformed body (${detail.slice(0, 160)})`,
  };
}

/** A non-stream answer in the client's shape: the upstream's bytes, or an object to serialise. */
interface ShapedBody {
  contentType: string;
  body: Buffer | object;
  usage: ReturnType<ProviderAdapter['chatResponse']>['usage'];
  deliveredText?: (() => string) | undefined;
  /** an embeddings answer without usage: the gateway's own count goes in */
  countInput?: boolean;
}

/** Reads and converts the upstream's body; throws on a body that is not what it should be. */
function shapeBody(
  ctx: RelayContext,
  adapter: ProviderAdapter,
  target: UpstreamTarget,
  plan: Plan,
  headers: Record<string, string | string[] | undefined>,
  buf: Buffer,
): ShapedBody {
  const json = 'application/json';
  if (plan.passthrough) {
    const ct = String(headers['content-type'] ?? json);
    const fromBody = ctx.usageReader?.fromBody ?? ((body: unknown) => adapter.usageFromBody?.(body) ?? null);
    const usage = /json/i.test(ct) ? (fromBody(JSON.parse(buf.toString('utf8')) as unknown) ?? null) : null;
    return { contentType: ct, body: buf, usage };
  }
  const parsed = JSON.parse(buf.toString('utf8')) as unknown;
  if (plan.reshape) {
    const { response, usage } = plan.reshape(parsed);
    return { contentType: json, body: response as object, usage };
  }
  if (plan.embeddings && adapter.embeddingsResponse) {
    const { response, usage } = adapter.embeddingsResponse(parsed, target, ctx.body);
    const countInput = !usage && typeof response === 'object' && response !== null;
    return { contentType: json, body: response as object, usage, countInput };
  }
  const { completion, usage } = adapter.chatResponse(parsed, target, { dropped: ctx.dropped });
  const deliveredText = (): string => completion.choices.map((c) => c.message.content ?? '').join('');
  const out = (ctx.codec ?? getCodec(ctx.protocol)).fromOpenAI(completion, usage, ctx.model);
  return { contentType: json, body: out as object, usage, deliveredText };
}

/** An upstream that reports no embeddings usage (Gemini): the client sees the count the row bills. */
async function countUnreportedEmbeddings(ctx: RelayContext, shaped: ShapedBody): Promise<void> {
  if (!shaped.countInput) return;
  const tokens = await countedInput(ctx);
  (shaped.body as { usage?: unknown }).usage = { prompt_tokens: tokens, total_tokens: tokens };
}

function bodyBytes(body: Buffer | object): Buffer | string {
  return Buffer.isBuffer(body) ? body : JSON.stringify(body);
}
