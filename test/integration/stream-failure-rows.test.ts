/**
 * A stream that fails after the answer began is logged as failed (SPEC section 10: "the log row
 * says so"), on every way a stream crosses the gateway, and billed for what was delivered: an
 * Anthropic `event: error` relayed byte for byte to an Anthropic client, an OpenAI error frame in
 * a passthrough stream (raw, when the client asked for usage, and filtered, when it did not), an
 * upstream that hangs up. Each row is 502 `upstream`, with output tokens and a cost; a stream that
 * ends well stays 200. (A converted stream's failure after the answer began is logged by the same
 * settlement: see secret-echo.test.ts, whose paced upstream fails after its first text.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startAnthropicSim, type AnthropicSim } from '../support/sim/anthropic-sim.js';
import type { LogRow } from '../../src/shared/control-api.js';
import { eachStore } from '../support/store-matrix.js';

let gw: TestGateway;
let oa: OpenAISim;
let an: AnthropicSim;
let key: string;

eachStore((store) => {
  beforeAll(async () => {
    oa = await startOpenAISim();
    an = await startAnthropicSim();
    gw = await startGateway({ store });
    await gw.addChannel({
      name: 'oa',
      type: 'openai',
      keys: ['sk-oa-0000000000'],
      models: ['gpt-m'],
      base_url: oa.url,
    });
    await gw.addChannel({
      name: 'an',
      type: 'anthropic',
      keys: ['sk-an-0000000000'],
      models: ['claude-m'],
      base_url: an.url,
    });
    for (const model of ['gpt-m', 'claude-m'])
      await gw.call('PUT', `/v1/prices/${model}`, { input: 3_000_000, output: 15_000_000 });
    key = await gw.createKey({ name: 'streams' });
  });

  afterAll(async () => {
    await gw?.close();
    await oa?.close();
    await an?.close();
  });

  async function stream(path: string, body: unknown): Promise<string> {
    const res = await fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${key}`,
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return res.text().catch(() => '');
  }

  async function lastRow(): Promise<LogRow> {
    return (await gw.call<LogRow[]>('GET', '/v1/logs?limit=1'))[0]!;
  }

  const chat = { model: 'gpt-m', stream: true, messages: [{ role: 'user', content: 'hi' }] };
  const claude = {
    model: 'claude-m',
    max_tokens: 64,
    stream: true,
    messages: [{ role: 'user', content: 'hi' }],
  };

  describe('a stream that fails after the answer began', () => {
    it('Anthropic client -> anthropic channel (raw passthrough): event: error', async () => {
      an.fault({ kind: 'streamError', afterFrames: 4, errorType: 'overloaded_error', message: 'Overloaded' });
      const text = await stream('/v1/messages', claude);
      expect(text).toContain('event: error');
      expect(await lastRow()).toMatchObject({ status: 502, error: 'upstream', stream: true });
      expect((await lastRow()).output_tokens).toBeGreaterThan(0);
      expect((await lastRow()).cost).toBeGreaterThan(0);
    });

    it.each([
      ['raw (the client asked for usage)', { ...chat, stream_options: { include_usage: true } }],
      ['filtered (the gateway asked for usage)', chat],
    ])('OpenAI client -> openai channel, %s: an error frame', async (_, body) => {
      oa.fault({ kind: 'midStreamError', afterFrames: 3 });
      const text = await stream('/v1/chat/completions', body);
      expect(text).toContain('"error"');
      const row = await lastRow();
      expect(row).toMatchObject({ status: 502, error: 'upstream', stream: true });
      expect(row.output_tokens).toBeGreaterThan(0);
      expect(row.cost).toBeGreaterThan(0);
    });

    it('OpenAI client -> openai channel: the upstream hangs up', async () => {
      oa.fault({ kind: 'hangup', afterFrames: 3 });
      await stream('/v1/chat/completions', chat);
      const row = await lastRow();
      expect(row).toMatchObject({ status: 502, stream: true });
      expect(row.error).not.toBeNull();
      expect(row.output_tokens).toBeGreaterThan(0);
    });

    it('a stream that ends well is 200 with no error', async () => {
      await stream('/v1/chat/completions', chat);
      expect(await lastRow()).toMatchObject({ status: 200, error: null });
      await stream('/v1/messages', claude);
      expect(await lastRow()).toMatchObject({ status: 200, error: null });
    });
  });
});
