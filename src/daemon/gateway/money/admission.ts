/**
 * Admission: who is asking (key lookup by hash) and may they (status, expiry, IP, model, rate
 * limits, budget). Authentication failures are answered without a log row; every refusal after
 * that is logged by the caller. On success the request holds a rate-limit slot and a budget
 * reservation of its worst case (worst-case.ts), both given back at settlement. The reservation
 * comes with the output limit it paid for, which the relay sends upstream whenever it is not the
 * client's own: lowered near the end of a budget (SPEC section 7), or set where the client sent
 * none, so that no upstream default can produce more than was reserved. The prices the request
 * is reserved and billed at are fixed here (admitted-prices.ts).
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { BcError } from '../../../shared/errors.js';
import type { RelayContext } from '../context.js';
import type { GatewayState } from '../state.js';
import { drawsOnMoney, type RouteKey } from '../snapshot.js';
import { cidrContains } from '../intake/cidr.js';
import { countChatTokens, countTextTokens } from '../tokens/tokens.js';
import { askedOutput, termsCost, type CostTerms, type OutputAsk } from './meter.js';
import type { OutputRequest } from './output-limit.js';
import { MIN_LOWERED_OUTPUT, worstCase } from './worst-case.js';
import { capturePrices } from './admitted-prices.js';
import { admitShared } from './shared-admission.js';

export { MIN_LOWERED_OUTPUT, priceFor } from './worst-case.js';

/**
 * The client's key from any of the headers the three protocols use, or from `?key=` in
 * `geminiQuery`: callers pass the query only on Gemini routes (keys in URLs end up in proxy logs).
 */
export function extractKey(
  headers: IncomingHttpHeaders,
  geminiQuery: string | undefined,
): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ')
    return auth.slice(7).trim();
  const x = headers['x-api-key'] ?? headers['x-goog-api-key'];
  if (typeof x === 'string' && x.length > 0) return x.trim();
  if (geminiQuery) {
    const k = new URLSearchParams(geminiQuery).get('key');
    if (k) return k;
  }
  return undefined;
}

export function authenticate(state: GatewayState, secret: string | undefined): RouteKey {
  if (!secret)
    throw new BcError('INVALID_API_KEY', 'missing API key: send it as "Authorization: Bearer <key>"');
  const snap = state.snapshot;
  const known = snap.keysBySecret.get(secret);
  if (known) return known;
  const key = snap.keysByHash.get(sha256(secret)) ?? legacyKey(snap.keysByHash, secret);
  if (!key) throw new BcError('INVALID_API_KEY', 'invalid API key');
  snap.keysBySecret.set(secret, key);
  return key;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/**
 * A key imported from One API / New API (stored as the hash of `sk-<key>`) presented the ways
 * their clients send it: `<key>`, `sk-<key>` or `sk-<key>-<channelId>` (a channel pin, ignored).
 * Their auth drops `sk-` and keeps what comes before the first `-`; this does the same, once, and
 * only after the exact lookup missed.
 */
function legacyKey(byHash: ReadonlyMap<string, RouteKey>, secret: string): RouteKey | undefined {
  if (secret.startsWith('sk-bc-')) return undefined;
  const bare = secret.startsWith('sk-') ? secret.slice(3) : secret;
  const canonical = `sk-${bare.split('-', 1)[0] ?? ''}`;
  return canonical === secret || canonical === 'sk-' ? undefined : byHash.get(sha256(canonical));
}

/** May this key be used at all from this address now: status, owner, expiry, IP (no side effects). */
export function checkKeyUsable(key: RouteKey, clientIp: string, nowMs: number): void {
  const k = key.record;
  if (k.status !== 'enabled') throw new BcError('KEY_DISABLED', `this key is ${k.status}`);
  if (key.user !== null && key.user.status !== 'enabled') {
    throw new BcError('USER_DISABLED', `the user who owns this key (${key.user.name}) is disabled`);
  }
  if (key.expiresAtMs !== null && nowMs >= key.expiresAtMs) {
    throw new BcError('KEY_EXPIRED', `this key expired at ${k.expiresAt ?? ''}`);
  }
  if (key.nets && !key.nets.some((n) => cidrContains(n, clientIp))) {
    throw new BcError('IP_NOT_ALLOWED', `requests from ${clientIp} are not allowed for this key`);
  }
}

/** checkKeyUsable, then whether the key may use this model. */
export function authorize(key: RouteKey, model: string, clientIp: string, nowMs: number): void {
  checkKeyUsable(key, clientIp, nowMs);
  if (key.models && !key.models.has(model)) {
    throw new BcError('MODEL_NOT_ALLOWED', `this key may not use model "${model}"`, { param: 'model' });
  }
}

/**
 * Rate limits (the key's, then its user's over all their keys), then the budget reservation
 * against the key's budget and its user's balance together. Throws; on success ctx holds both.
 */
export async function admit(state: GatewayState, ctx: RelayContext, key: RouteKey): Promise<void> {
  const k = key.record;
  const user = key.user;
  // billed at the prices in force now, whatever changes while the request is in flight
  ctx.prices = capturePrices(state, ctx.model, key);
  const metered = drawsOnMoney(key);
  const userLimited = user !== null && (user.rpm !== null || user.tpm !== null || user.concurrency !== null);
  const needsCount = k.tpm !== null || metered || (userLimited && user.tpm !== null);
  const inputTokens = needsCount ? await countedInput(ctx) : 0;
  // several daemons share the books through Redis (shared-admission.ts); one daemon alone keeps
  // the synchronous in-memory path below
  if (state.shared) return admitShared(state, state.shared, ctx, key, inputTokens, budgetRefusal);
  state.limiter.admit(k.id, k, inputTokens);
  if (userLimited) {
    try {
      state.userLimiter.admit(user.id, user, inputTokens, user.name);
    } catch (err) {
      state.limiter.release(k.id, 0);
      throw err;
    }
    ctx.userAdmitted = true;
  }
  ctx.admitted = true;
  if (!metered) return;
  const { terms, ask, wants } = await worstCase(state, ctx, key, inputTokens);
  // one synchronous step: the ledger decides what fits and reserves it on the key and its user
  const payer = { keyId: k.id, budget: k.budget, userId: user?.balance == null ? null : user.id };
  const r = state.ledger.reserveJoint(payer, terms, ask);
  if (!r.ok) throw budgetRefusal(key, terms, ask, wants, r.left, r.short);
  ctx.reserved = r.amount;
  // the upstream gets the limit that was paid for unless it is the client's own
  if (r.clamped || (wants.asked === undefined && wants.writable)) ctx.outputLimit = r.outputTokens;
  ctx.outputLowered = r.clamped;
}

function budgetRefusal(
  key: RouteKey,
  terms: CostTerms,
  ask: OutputAsk,
  wants: OutputRequest,
  left: number,
  short: 'key' | 'user',
): BcError {
  const needs = termsCost(terms, askedOutput(ask, ask.limit));
  const answers = ask.choices > 1 ? ` for ${ask.choices} answers` : '';
  const whose = short === 'user' ? `user ${key.user?.name ?? ''}'s balance` : "this key's budget";
  const head = `${whose} cannot cover the request (needs up to ${needs} micro-USD${answers}, ${left} left)`;
  let why = '';
  if (key.record.strictBudget && wants.writable) {
    why = '; the key has a strict budget, so the output limit is not lowered';
  } else if (ask.clamp) {
    const thinking = ask.clamp.min - MIN_LOWERED_OUTPUT;
    why =
      `; what is left cannot pay for ${ask.clamp.min} output tokens, the least a lowered limit keeps` +
      (thinking > 0 ? ` (${MIN_LOWERED_OUTPUT} beyond the thinking budget of ${thinking})` : '');
  }
  const raise =
    short === 'user'
      ? `top up the balance with \`bc user topup ${key.user?.name ?? ''} --usd X\` (or redeem a code)`
      : `raise the budget with \`bc key edit ${key.record.name} --budget USD\``;
  return new BcError(
    'INSUFFICIENT_QUOTA',
    `${head}${why}: ask for ${ask.choices > 1 ? 'fewer answers or ' : ''}fewer output tokens, or ${raise}`,
  );
}

/**
 * The request's input tokens counted locally, once: admission, an Anthropic stream's opening frame
 * and the usage estimate of an upstream that reports none all read the same count.
 */
export async function countedInput(ctx: RelayContext): Promise<number> {
  ctx.inputTokens ??= await estimateInput(ctx);
  return ctx.inputTokens;
}

/** Input tokens counted locally: the chat prompt, or the text fields of other endpoints. */
export async function estimateInput(ctx: RelayContext): Promise<number> {
  if (ctx.kind === 'chat') return countChatTokens(ctx.canonical());
  if (ctx.promptText !== undefined) return countTextTokens(ctx.promptText);
  const b = ctx.body;
  if (!b) return Math.ceil(ctx.raw.length / 4);
  const text = ['input', 'prompt', 'query', 'documents']
    .map((f) => b[f])
    .filter((v) => v !== undefined)
    .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
    .join('\n');
  return countTextTokens(text);
}
