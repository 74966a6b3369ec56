// Admission (admission.ts) in process: where a client's key is read from, the key checks and the
// exact moment a key expires, and the budget step: the amount reserved, the output limit sent
// upstream (lowered, or the reserved one where the client set none), and a refusal that says what
// the request needs, what is left and what to do.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  admit,
  authenticate,
  authorize,
  checkKeyUsable,
  countedInput,
  estimateInput,
  extractKey,
} from '../../src/daemon/gateway/money/admission.js';
import type { RelayContext } from '../../src/daemon/gateway/context.js';
import { buildSnapshot } from '../../src/daemon/gateway/snapshot.js';
import type { GatewayState } from '../../src/daemon/gateway/state.js';
import { parseCidr } from '../../src/daemon/gateway/intake/cidr.js';
import { worstInput } from '../../src/daemon/gateway/money/meter.js';
import { countChatTokens, countTextTokens } from '../../src/daemon/gateway/tokens/tokens.js';
import { channel, ctx, keyOf, price, stateOf, type Json } from '../support/money-state.js';

describe('extractKey', () => {
  it('reads a bearer token, x-api-key, x-goog-api-key, then ?key= on Gemini routes', () => {
    expect(extractKey({ authorization: 'Bearer  sk-1 ' }, undefined)).toBe('sk-1');
    expect(extractKey({ authorization: 'bearer sk-2' }, undefined)).toBe('sk-2');
    expect(extractKey({ 'x-api-key': ' sk-3 ' }, undefined)).toBe('sk-3');
    expect(extractKey({ 'x-goog-api-key': 'sk-4' }, undefined)).toBe('sk-4');
    expect(extractKey({}, 'alt=sse&key=sk-5')).toBe('sk-5');
    // the header wins over the query, x-api-key over x-goog-api-key
    expect(extractKey({ authorization: 'Bearer sk-h', 'x-api-key': 'sk-x' }, 'key=sk-q')).toBe('sk-h');
    expect(extractKey({ 'x-api-key': 'sk-x', 'x-goog-api-key': 'sk-g' }, undefined)).toBe('sk-x');
  });

  it('finds nothing in an empty or foreign Authorization, an empty header or a query without key', () => {
    expect(extractKey({ authorization: 'Bearer ' }, undefined)).toBeUndefined();
    expect(extractKey({ authorization: 'Basic dXNlcjpwYXNz' }, undefined)).toBeUndefined();
    expect(extractKey({ 'x-api-key': '' }, undefined)).toBeUndefined();
    expect(extractKey({}, 'alt=sse')).toBeUndefined();
    expect(extractKey({}, 'key=')).toBeUndefined();
    expect(extractKey({}, undefined)).toBeUndefined();
    // a Basic header does not hide an x-api-key
    expect(extractKey({ authorization: 'Basic x', 'x-api-key': 'sk-x' }, undefined)).toBe('sk-x');
  });
});

describe('authenticate', () => {
  const record = { ...keyOf().record, hash: createHash('sha256').update('sk-bc-good').digest('hex') };
  const state = (): GatewayState =>
    ({
      snapshot: buildSnapshot([], [record], [], [], { decrypt: (s: string) => s }),
    }) as unknown as GatewayState;

  it('finds the key by the hash of its secret and remembers the secret for the snapshot', () => {
    const s = state();
    expect(authenticate(s, 'sk-bc-good').record.id).toBe(record.id);
    expect(s.snapshot.keysBySecret.get('sk-bc-good')?.record.id).toBe(record.id);
    expect(authenticate(s, 'sk-bc-good').record.id).toBe(record.id);
  });

  it('refuses a missing key saying how to send one, and an unknown key without remembering it', () => {
    const s = state();
    expect(() => authenticate(s, undefined)).toThrow(
      expect.objectContaining({
        code: 'INVALID_API_KEY',
        message: 'missing API key: send it as "Authorization: Bearer <key>"',
      }),
    );
    expect(() => authenticate(s, '')).toThrow(expect.objectContaining({ code: 'INVALID_API_KEY' }));
    expect(() => authenticate(s, 'sk-bc-bad')).toThrow(
      expect.objectContaining({ code: 'INVALID_API_KEY', message: 'invalid API key' }),
    );
    expect(s.snapshot.keysBySecret.size).toBe(0);
  });
});

describe('checkKeyUsable and authorize', () => {
  const expiresAtMs = Date.parse('2026-06-01T00:00:00.000Z');

  it('refuses a disabled key, and an expired one from the very millisecond it expires', () => {
    const disabled = keyOf({ status: 'disabled' });
    expect(() => checkKeyUsable(disabled, '127.0.0.1', 0)).toThrow(
      expect.objectContaining({ code: 'KEY_DISABLED', message: 'this key is disabled' }),
    );
    const expiring = { ...keyOf({ expiresAt: '2026-06-01T00:00:00.000Z' }), expiresAtMs };
    expect(() => checkKeyUsable(expiring, '127.0.0.1', expiresAtMs - 1)).not.toThrow();
    expect(() => checkKeyUsable(expiring, '127.0.0.1', expiresAtMs)).toThrow(
      expect.objectContaining({
        code: 'KEY_EXPIRED',
        message: 'this key expired at 2026-06-01T00:00:00.000Z',
      }),
    );
  });

  it('lets a key be used only from its networks, and only for its models', () => {
    const key = { ...keyOf(), nets: [parseCidr('10.0.0.0/8'), parseCidr('::1')], models: new Set(['m']) };
    expect(() => checkKeyUsable(key, '10.2.3.4', 0)).not.toThrow();
    expect(() => checkKeyUsable(key, '::1', 0)).not.toThrow();
    expect(() => checkKeyUsable(key, '192.168.0.1', 0)).toThrow(
      expect.objectContaining({
        code: 'IP_NOT_ALLOWED',
        message: 'requests from 192.168.0.1 are not allowed for this key',
      }),
    );
    expect(() => authorize(key, 'm', '10.0.0.1', 0)).not.toThrow();
    expect(() => authorize(key, 'other', '10.0.0.1', 0)).toThrow(
      expect.objectContaining({
        code: 'MODEL_NOT_ALLOWED',
        message: 'this key may not use model "other"',
        param: 'model',
      }),
    );
    // authorize checks the key first
    expect(() => authorize(key, 'm', '192.168.0.1', 0)).toThrow(
      expect.objectContaining({ code: 'IP_NOT_ALLOWED' }),
    );
    expect(() => authorize(keyOf(), 'anything', '192.168.0.1', 0)).not.toThrow();
  });
});

describe('estimateInput and countedInput', () => {
  it('counts the chat prompt, else the text the route named, else the text fields, else the bytes', async () => {
    const messages = [{ role: 'user', content: 'How many tokens is this sentence, roughly?' }];
    expect(await estimateInput(ctx({ messages }))).toBe(
      await countChatTokens({ model: 'm', messages } as never),
    );
    const forward = { kind: 'forward' } as const;
    expect(await estimateInput(ctx({ input: 'ignored' }, { ...forward, promptText: 'a b c d' }))).toBe(
      await countTextTokens('a b c d'),
    );
    const fields = { input: 'first', prompt: ['second', 'third'], query: 'q', documents: ['d'], other: 'x' };
    expect(await estimateInput(ctx(fields, forward))).toBe(
      await countTextTokens('first\n["second","third"]\nq\n["d"]'),
    );
    expect(await estimateInput(ctx(undefined, forward, Buffer.alloc(4001)))).toBe(1001);
  });

  it('counts once per request', async () => {
    const c = ctx({ input: 'one two three' }, { kind: 'forward' });
    const n = await countedInput(c);
    expect(n).toBe(await countTextTokens('one two three'));
    c.body = { input: 'a much longer text than the first one was' };
    expect(await countedInput(c)).toBe(n);
  });
});

describe('admit', () => {
  // 1 micro-USD per token in and out; 50,000 output tokens unless the client says otherwise
  const m = price('m', 1_000_000, 1_000_000);
  const messages = [{ role: 'user', content: 'hello there' }];
  const setup = async (
    budget: number | null,
    body: Json,
    over: Partial<RelayContext> = {},
    strict = false,
  ) => {
    const state = stateOf([channel('openai', ['m'])], [m]);
    const key = keyOf({ budget, strictBudget: strict, name: 'team' });
    const c = ctx(body, { key, ...over });
    const input = worstInput(await countChatTokens({ model: 'm', messages } as never), c.raw.length);
    return { state, key, c, input };
  };

  it("reserves the worst case with the client's own limit and sends that limit as it is", async () => {
    const { state, key, c, input } = await setup(100_000, { messages, max_tokens: 500 });
    await admit(state, c, key);
    expect(c.reserved).toBe(input + 500);
    expect(state.ledger.reserved(key.record.id)).toBe(input + 500);
    expect(c.outputLimit).toBeNull();
    expect(c.outputLowered).toBe(false);
    expect(c.admitted).toBe(true);
    expect(c.prices).toMatchObject({ ratio: 1, pricedOnly: true });
  });

  it('sends the limit it reserved where the client set none', async () => {
    const { state, key, c, input } = await setup(100_000, { messages });
    await admit(state, c, key);
    expect(c.reserved).toBe(input + 50_000);
    expect(c.outputLimit).toBe(50_000);
    expect(c.outputLowered).toBe(false);
  });

  it('lowers the limit to what the budget left pays for, and says so', async () => {
    const { state, key, c, input } = await setup(10_000, { messages, max_tokens: 20_000 });
    await admit(state, c, key);
    expect(c.reserved).toBe(10_000);
    expect(c.outputLimit).toBe(10_000 - input);
    expect(c.outputLowered).toBe(true);
  });

  it('sends no limit to an endpoint without one', async () => {
    const { state, key, c } = await setup(
      100_000,
      { input: 'hello' },
      { endpoint: '/v1/embeddings', kind: 'forward' },
    );
    await admit(state, c, key);
    expect(c.reserved).toBeGreaterThan(0);
    expect(c.outputLimit).toBeNull();
  });

  it('counts the prompt only for a key with a TPM limit or a budget, and reserves nothing without a budget', async () => {
    const free = await setup(null, { messages });
    await admit(free.state, free.c, free.key);
    expect(free.c.inputTokens).toBeNull();
    expect(free.c.reserved).toBe(0);
    expect(free.c.admitted).toBe(true);
    expect(free.c.prices?.pricedOnly).toBe(false);
    const tpm = await setup(null, { messages });
    const key = { ...tpm.key, record: { ...tpm.key.record, tpm: 1000 } };
    await admit(tpm.state, tpm.c, key);
    expect(tpm.c.inputTokens).toBe(await countChatTokens({ model: 'm', messages } as never));
  });

  describe('a refusal', () => {
    const refusal = async (...args: Parameters<typeof setup>) => {
      const { state, key, c, input } = await setup(...args);
      const err = await admit(state, c, key).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(c.reserved).toBe(0);
      return { err: err as { code: string; message: string }, input };
    };
    const tail = 'fewer output tokens, or raise the budget with `bc key edit team --budget USD`';

    it('says what the request needs, what is left, and that a lowered limit would not fit', async () => {
      const { err, input } = await refusal(1000, { messages, max_tokens: 2000 });
      expect(err.code).toBe('INSUFFICIENT_QUOTA');
      expect(err.message).toBe(
        `this key's budget cannot cover the request (needs up to ${input + 2000} micro-USD, 1000 left)` +
          '; what is left cannot pay for 1024 output tokens, the least a lowered limit keeps' +
          `: ask for ${tail}`,
      );
    });

    it('names the thinking budget the floor keeps room for, and the answers asked for', async () => {
      const thinking = { max_tokens: 9000, thinking: { type: 'enabled', budget_tokens: 3000 }, messages };
      const claude = { protocol: 'anthropic', endpoint: '/v1/messages' } as const;
      const { err, input } = await refusal(1000, thinking, claude);
      expect(err.message).toContain(
        `(needs up to ${input + 9000} micro-USD, 1000 left); what is left cannot pay for 4024 output tokens, ` +
          'the least a lowered limit keeps (1024 beyond the thinking budget of 3000)',
      );
      const answers = await refusal(1000, { messages, max_tokens: 100, n: 30 });
      expect(answers.err.message).toContain(
        `(needs up to ${answers.input + 3000} micro-USD for 30 answers, 1000 left)`,
      );
      expect(answers.err.message).toContain(`: ask for fewer answers or ${tail}`);
    });

    it('says a strict budget is why the limit was not lowered', async () => {
      const { err, input } = await refusal(1000, { messages, max_tokens: 2000 }, {}, true);
      expect(err.message).toBe(
        `this key's budget cannot cover the request (needs up to ${input + 2000} micro-USD, 1000 left)` +
          `; the key has a strict budget, so the output limit is not lowered: ask for ${tail}`,
      );
    });

    it('gives no reason about lowering for an endpoint whose output cannot be limited', async () => {
      const { err } = await refusal(1, { input: 'hello' }, { endpoint: '/v1/embeddings', kind: 'forward' });
      expect(err.message).toMatch(
        /^this key's budget cannot cover the request \(needs up to \d+ micro-USD, 1 left\): ask/,
      );
    });

    it('says nothing is left, not a negative amount, when spend already passed the budget', async () => {
      const { state, key, c } = await setup(1000, { messages, max_tokens: 10 });
      state.ledger.load(key.record.id, 5000);
      await expect(admit(state, c, key)).rejects.toThrow(/micro-USD, 0 left\)/);
    });
  });
});
