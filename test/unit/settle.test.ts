// Settlement (settle.ts) in process, with a store, metrics and logger that record what they are
// given: the log row's every field, the cost billed at the admitted price (0 for a request that
// produced nothing, null when unpriced, an estimate capped at the reservation), the ledger and
// rate-limit releases, and a row the store refused charging nothing.
import { describe, expect, it } from 'vitest';
import { settle, type Outcome } from '../../src/daemon/gateway/money/settle.js';
import { capturePrices } from '../../src/daemon/gateway/money/admitted-prices.js';
import type { RelayContext } from '../../src/daemon/gateway/context.js';
import type { GatewayState } from '../../src/daemon/gateway/state.js';
import type { NewLogRow } from '../../src/daemon/store/types.js';
import type { Usage } from '../../src/daemon/providers/types.js';
import { BcError } from '../../src/shared/errors.js';
import { countChatTokens, countTextTokens } from '../../src/daemon/gateway/tokens/tokens.js';
import { channel, ctx, keyOf, price, stateOf } from '../support/money-state.js';

// 2 micro-USD per input token, 10 per output token
const M = price('m', 2_000_000, 10_000_000, { cacheRead: 1_000_000 });
const KEY = keyOf({ id: 4, name: 'team', tpm: 1_000_000 });
const messages = [{ role: 'user', content: 'what is settlement?' }];

function setup(store: (row: NewLogRow) => Promise<number> = () => Promise.resolve(1)) {
  const base = stateOf([channel('openai', ['m'], { name: 'up' })], [M], [{ name: 'default', ratio: 0.5 }]);
  const rows: NewLogRow[] = [];
  const finished: Record<string, unknown>[] = [];
  const errors: unknown[][] = [];
  const state = Object.assign(base, {
    requests: 0,
    store: { settle: (row: NewLogRow) => (rows.push(row), store(row)) },
    metrics: { requestFinished: (m: Record<string, unknown>) => finished.push(m) },
    logger: { error: (...args: unknown[]) => errors.push(args) },
  }) as unknown as GatewayState & { requests: number };
  const c = ctx(
    { messages },
    {
      requestId: 'req-1',
      startNs: process.hrtime.bigint(),
      key: KEY,
      channel: state.snapshot.channels[0]!,
      upstreamModel: 'm',
      prices: capturePrices(state, 'm', KEY),
      attempts: 1,
      ttftMs: null,
      stream: false,
      dropped: [],
    },
  );
  /** admits c as admission would: a limiter slot and a reservation of `reserved` */
  const admitted = (reserved: number): RelayContext => {
    state.limiter.admit(KEY.record.id, KEY.record, 0);
    c.admitted = true;
    state.ledger.reserve(
      KEY.record.id,
      1_000_000,
      { inputPart: 0, outputPrice: 0, ratio: 1, perRequest: reserved },
      {
        limit: 1,
        choices: 1,
        extra: 0,
        clamp: null,
      },
    );
    c.reserved = reserved;
    return c;
  };
  return { state, c, rows, finished, errors, admitted };
}

const usage = (over: Partial<Usage> = {}): Usage => ({
  inputTokens: 100,
  cachedTokens: 40,
  cacheWriteTokens: 0,
  outputTokens: 30,
  reasoningTokens: 5,
  ...over,
});
const ok = (over: Partial<Outcome> = {}): Outcome => ({
  status: 200,
  error: null,
  usage: usage(),
  produced: true,
  ...over,
});

describe('settle', () => {
  it('writes the row, bills the admitted price and ratio, and swaps the reservation for the cost', async () => {
    const { state, c, rows, finished, admitted } = setup();
    admitted(5000);
    Object.assign(c, { attempts: 3, ttftMs: 12.6, stream: true, dropped: ['logprobs'], outputLowered: true });
    c.outputLimit = 700;
    await settle(state, c, ok());
    // (60 x 2 + 40 x 1 + 30 x 10) x 0.5
    const cost = 230;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      request_id: 'req-1',
      key: 'team',
      key_id: 4,
      channel: 'up',
      channel_id: state.snapshot.channels[0]!.record.id,
      model: 'm',
      upstream_model: 'm',
      endpoint: '/v1/chat/completions',
      status: 200,
      error: null,
      input_tokens: 100,
      cached_tokens: 40,
      cache_write_tokens: 0,
      output_tokens: 30,
      reasoning_tokens: 5,
      cost,
      usage_estimated: false,
      ttft_ms: 13,
      retries: 2,
      stream: true,
      dropped_fields: ['logprobs'],
      max_tokens_clamped: 700,
    });
    expect(Date.parse(rows[0]!.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(rows[0]!.latency_ms).toBeGreaterThanOrEqual(0);
    expect(state.ledger.spent(4)).toBe(cost);
    expect(state.ledger.reserved(4)).toBe(0);
    expect(state.limiter.inFlight(4)).toBe(0);
    expect(c).toMatchObject({ reserved: 0, admitted: false });
    expect(state.requests).toBe(1);
    expect(finished).toEqual([
      expect.objectContaining({
        channelName: 'up',
        model: 'm',
        keyId: 4,
        keyName: 'team',
        status: 200,
        errorCategory: null,
        inputTokens: 100,
        outputTokens: 30,
        cost,
        ttftMs: 12.6,
        stream: true,
      }),
    ]);
  });

  it('counts the tokens used against the rate limit of the key', async () => {
    const { state, c, admitted } = setup();
    admitted(0);
    await settle(state, c, ok());
    const l = { rpm: null, tpm: 200, concurrency: null };
    // 130 used: 70 more fit, 71 do not
    expect(() => state.limiter.admit(4, l, 71)).toThrow(/tokens per minute/);
    state.limiter.admit(4, l, 70);
  });

  it('logs a limit that was not lowered as null, and retries of a first attempt as 0', async () => {
    const { state, c, rows } = setup();
    Object.assign(c, { attempts: 0, outputLowered: false, outputLimit: 4096 });
    await settle(state, c, ok());
    expect(rows[0]).toMatchObject({ max_tokens_clamped: null, retries: 0, ttft_ms: null });
  });

  it('bills nothing for a request that produced nothing, and null where there is no price', async () => {
    const refused = setup();
    refused.admitted(5000);
    await settle(
      refused.state,
      refused.c,
      ok({ status: 429, error: 'rate_limit', usage: null, produced: false }),
    );
    expect(refused.rows[0]).toMatchObject({
      cost: 0,
      input_tokens: 0,
      output_tokens: 0,
      usage_estimated: false,
    });
    expect(refused.state.ledger.spent(4)).toBe(0);
    expect(refused.state.ledger.reserved(4)).toBe(0);
    const unpriced = setup();
    Object.assign(unpriced.c, { model: 'unpriced', upstreamModel: 'unpriced-up', prices: undefined });
    await settle(unpriced.state, unpriced.c, ok());
    expect(unpriced.rows[0]!.cost).toBeNull();
    expect(unpriced.finished[0]).toMatchObject({ cost: null });
    expect(unpriced.state.ledger.spent(4)).toBe(0);
  });

  it('estimates usage the upstream did not report from the prompt and the delivered text', async () => {
    const { state, c, rows } = setup();
    const text = 'The answer, as delivered to the client before the stream was cut.';
    await settle(state, c, ok({ usage: null, deliveredText: () => text }));
    const input = await countChatTokens({ model: 'm', messages } as never);
    const output = await countTextTokens(text);
    expect(rows[0]).toMatchObject({
      input_tokens: input,
      cached_tokens: 0,
      output_tokens: output,
      reasoning_tokens: 0,
      usage_estimated: true,
      cost: Math.round((input * 2 + output * 10) * 0.5),
    });
  });

  it('caps an estimate at what was reserved, and counts the bytes when the prompt cannot be counted', async () => {
    const { state, c, rows, admitted } = setup();
    admitted(7);
    c.canonical = () => {
      throw new Error('not a chat body');
    };
    await settle(state, c, ok({ usage: null, deliveredText: () => 'x '.repeat(50) }));
    expect(rows[0]!.input_tokens).toBe(Math.ceil(c.raw.length / 4));
    expect(rows[0]!.cost).toBe(7);
    expect(state.ledger.spent(4)).toBe(7);
    // a reported usage is billed as reported, reservation or not
    const reported = setup();
    reported.admitted(7);
    await settle(reported.state, reported.c, ok());
    expect(reported.rows[0]!.cost).toBe(230);
  });

  it('settles a request once: a second call logs and charges nothing', async () => {
    const { state, c, rows, finished, admitted } = setup();
    admitted(5000);
    await settle(state, c, ok());
    await settle(state, c, ok({ status: 500, error: 'upstream' }));
    expect(rows).toHaveLength(1);
    expect(finished).toHaveLength(1);
    expect(state.ledger.spent(4)).toBe(230);
    expect(state.requests).toBe(1);
  });

  it('frees no rate-limit slot for a request that never held one, and logs no channel when none was reached', async () => {
    const { state, c, rows } = setup();
    state.limiter.admit(4, KEY.record, 0); // another request of the key, in flight
    Object.assign(c, { admitted: false, channel: null, upstreamModel: null });
    await settle(state, c, ok({ status: 429, error: 'rate_limit', usage: null, produced: false }));
    expect(state.limiter.inFlight(4)).toBe(1);
    expect(rows[0]).toMatchObject({ channel: null, channel_id: null, upstream_model: null });
  });

  it('estimates no output when nothing was delivered', async () => {
    const { state, c, rows } = setup();
    await settle(state, c, ok({ usage: null }));
    expect(rows[0]).toMatchObject({ output_tokens: 0, usage_estimated: true });
  });

  it('does nothing for a request no key was found for', async () => {
    const { state, c, rows, finished } = setup();
    c.key = null;
    await settle(state, c, ok());
    expect(rows).toHaveLength(0);
    expect(finished).toHaveLength(0);
    expect(state.requests).toBe(0);
  });

  it('charges nothing when the store refuses the row, and says so once per cause', async () => {
    const full = new BcError('STORE_UNAVAILABLE', 'disk full');
    const a = setup(() => Promise.reject(full));
    a.admitted(5000);
    await expect(settle(a.state, a.c, ok())).rejects.toBe(full);
    expect(a.state.ledger.spent(4)).toBe(0);
    expect(a.state.ledger.reserved(4)).toBe(0);
    expect(a.finished[0]).toMatchObject({ status: 503, errorCategory: 'internal', cost: null });
    // the store says it cannot write once itself
    expect(a.errors).toHaveLength(0);

    const boom = new Error('constraint failed');
    const b = setup(() => Promise.reject(boom));
    await expect(settle(b.state, b.c, ok())).rejects.toBe(boom);
    expect(b.finished[0]).toMatchObject({ status: 500, errorCategory: 'internal', cost: null });
    expect(b.errors).toEqual([[{ err: boom, request_id: 'req-1' }, 'failed to commit the request log row']]);
    const quota = new BcError('INSUFFICIENT_QUOTA', 'x');
    const q = setup(() => Promise.reject(quota));
    await expect(settle(q.state, q.c, ok())).rejects.toBe(quota);
    expect(q.finished[0]).toMatchObject({ status: 403, errorCategory: 'quota' });
    expect(q.errors).toHaveLength(1);
  });
});
