/**
 * Routing and resilience (SPEC section 6) against real simulators with injected faults: tiers,
 * never the same channel twice, cooldown with Retry-After, auto-disable, no retry after the
 * first byte, smooth weighted round-robin, and upstream rejections passed back unchanged.
 * Every assertion on failover counts the calls each simulator actually received.
 */
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { ChannelView, LogRow } from '../../src/shared/control-api.js';
import { probeOnce } from '../../src/daemon/gateway/routing/probe.js';
import { eachStore } from '../support/store-matrix.js';

const CHAT = '/v1/chat/completions';
let gw: TestGateway;
let sims: OpenAISim[];
let client: OpenAI;

async function sim(): Promise<OpenAISim> {
  const s = await startOpenAISim();
  sims.push(s);
  return s;
}

async function channel(
  name: string,
  s: { url: string },
  extra: Record<string, unknown> = {},
): Promise<ChannelView> {
  return gw.addChannel({
    name,
    type: 'openai',
    keys: [`sk-${name}-0000000000`],
    models: ['m'],
    base_url: s.url,
    ...extra,
  });
}

async function lastLog(): Promise<LogRow> {
  return (await gw.call<LogRow[]>('GET', '/v1/logs?limit=1'))[0]!;
}

const ask = (stream = false): Promise<unknown> =>
  stream
    ? client.chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      })
    : client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });

eachStore((store) => {
  beforeEach(async () => {
    sims = [];
    gw = await startGateway({ store });
    client = new OpenAI({ apiKey: await gw.createKey(), baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });

  afterEach(async () => {
    await gw.close();
    await Promise.all(sims.map((s) => s.close()));
  });

  describe('failover', () => {
    it('falls through to a lower tier on 500, calling each channel once', async () => {
      const a = await sim();
      const b = await sim();
      await channel('a', a, { priority: 10 });
      await channel('b', b, { priority: 0 });
      a.fault({ kind: 'status', status: 500 });
      await ask();
      expect(a.callCount(CHAT)).toBe(1);
      expect(b.callCount(CHAT)).toBe(1);
      const row = await lastLog();
      expect(row.channel).toBe('b');
      expect(row.retries).toBe(1);
    });

    it('never tries the same channel twice and gives up with the last upstream error', async () => {
      const s = [await sim(), await sim(), await sim()];
      for (const [i, x] of s.entries()) {
        await channel(`c${i}`, x);
        x.fault({ kind: 'status', status: 503 }, Infinity);
      }
      const err = (await ask().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(err.status).toBe(503);
      expect(err.message).toMatch(/all 3 channel\(s\) tried/);
      expect(err.message).not.toMatch(/sk-c\d/);
      for (const x of s) expect(x.callCount(CHAT)).toBe(1);
      expect((await lastLog()).retries).toBe(2);
    });

    it('stops after 1 + 3 retries even with more channels', async () => {
      const s = await Promise.all([1, 2, 3, 4, 5].map(() => sim()));
      for (const [i, x] of s.entries()) {
        await channel(`c${i}`, x);
        x.fault({ kind: 'status', status: 500 }, Infinity);
      }
      await ask().catch(() => undefined);
      expect(s.reduce((n, x) => n + x.callCount(CHAT), 0)).toBe(4);
    });

    it('cools a channel down for its Retry-After and skips it meanwhile', async () => {
      const a = await sim();
      const b = await sim();
      await channel('a', a, { priority: 1 });
      await channel('b', b);
      a.fault({ kind: 'status', status: 429, headers: { 'retry-after': '30' } });
      await ask();
      await ask();
      await ask();
      expect(a.callCount(CHAT)).toBe(1);
      expect(b.callCount(CHAT)).toBe(3);
      const [listed] = await gw.call<ChannelView[]>('GET', '/v1/channels');
      const until = Date.parse(listed!.cooldown_until ?? '');
      expect(until - Date.now()).toBeGreaterThan(25_000);
      expect(until - Date.now()).toBeLessThanOrEqual(30_000);
    });

    it('retries on connection refused, reset before headers and a stalled upstream', async () => {
      const closed = await freePort();
      const reset = await sim();
      const stall = await sim();
      const good = await sim();
      await channel('refused', { url: `http://127.0.0.1:${closed}/v1` }, { priority: 3 });
      await channel('reset', reset, { priority: 2 });
      await channel('stall', stall, { priority: 1, timeout_ms: 300 });
      await channel('good', good);
      reset.fault({ kind: 'reset' });
      stall.fault({ kind: 'stall' });
      await ask();
      expect(reset.callCount(CHAT)).toBe(1);
      expect(stall.callCount(CHAT)).toBe(1);
      expect(good.callCount(CHAT)).toBe(1);
      expect((await lastLog()).retries).toBe(3);
    });

    it('retries a 200 with a garbage body', async () => {
      const a = await sim();
      const b = await sim();
      await channel('a', a, { priority: 1 });
      await channel('b', b);
      a.fault({ kind: 'garbage' });
      const res = (await ask()) as OpenAI.ChatCompletion;
      expect(res.choices[0]?.message.content).toBeTruthy();
      expect(a.callCount(CHAT) + b.callCount(CHAT)).toBe(2);
    });

    it('auto-disables a channel whose key the upstream rejects, with the reason, and re-enables it after a passing probe', async () => {
      const a = await sim();
      const b = await sim();
      await channel('a', a, { priority: 1 });
      await channel('b', b);
      a.fault({ kind: 'status', status: 401 });
      await ask();
      await ask();
      expect(a.callCount(CHAT)).toBe(1);
      expect(b.callCount(CHAT)).toBe(2);
      await waitFor(
        async () => (await gw.call<ChannelView>('GET', '/v1/channels/a')).status === 'auto_disabled',
      );
      const shown = await gw.call<ChannelView>('GET', '/v1/channels/a');
      expect(shown.status_reason).toMatch(/401/);
      expect(await probeOnce(gw.services.gateway)).toBe(1);
      expect((await gw.call<ChannelView>('GET', '/v1/channels/a')).status).toBe('enabled');
      await ask();
      expect(a.callCount(CHAT)).toBe(3); // the probe, then real traffic again
    });

    it('passes an upstream 400 back unchanged and does not retry', async () => {
      const a = await sim();
      const b = await sim();
      await channel('a', a, { priority: 1 });
      await channel('b', b);
      a.fault({ kind: 'status', status: 400 });
      const err = (await ask().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err.status).toBe(400);
      expect(err.message).toMatch(/simulated/i);
      expect(b.callCount(CHAT)).toBe(0);
      expect((await lastLog()).status).toBe(400);
    });

    it('does not retry after the first byte: a mid-stream hang-up ends in an in-stream error', async () => {
      const a = await sim();
      const b = await sim();
      await channel('a', a, { priority: 1 });
      await channel('b', b);
      a.fault({ kind: 'hangup', afterFrames: 2 });
      const stream = (await ask(true)) as AsyncIterable<OpenAI.ChatCompletionChunk>;
      let text = '';
      const err = await (async () => {
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(text.length).toBeGreaterThan(0);
      expect(b.callCount(CHAT)).toBe(0);
      const row = await lastLog();
      expect(row.status).toBe(502);
      expect(row.error).toBe('upstream');
    });

    it('splits traffic 3:1 by weight with smooth weighted round-robin', async () => {
      const a = await sim();
      const b = await sim();
      await channel('a', a, { weight: 3 });
      await channel('b', b, { weight: 1 });
      for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, () => ask()));
      expect(Math.abs(a.callCount(CHAT) - 750)).toBeLessThanOrEqual(40);
      expect(a.callCount(CHAT) + b.callCount(CHAT)).toBe(1000);
    }, 60_000);
  });

  async function freePort(): Promise<number> {
    return new Promise((resolve) => {
      const srv = net.createServer();
      srv.listen(0, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
  }

  async function waitFor(check: () => Promise<boolean>, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('condition not met in time');
  }
});
