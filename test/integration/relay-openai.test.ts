/**
 * The OpenAI-compatible relay end to end: the official `openai` client against the in-process
 * gateway, an OpenAI simulator behind it. Chat (stream and not), tools, embeddings, models, alias
 * rewrites, byte-identical passthrough, include_usage handling, and log rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { LogRow } from '../../src/shared/control-api.js';
import { eachStore } from '../support/store-matrix.js';

let gw: TestGateway;
let sim: OpenAISim;
let client: OpenAI;
let secret: string;

eachStore((store) => {
  beforeAll(async () => {
    sim = await startOpenAISim();
    gw = await startGateway({ store });
    await gw.addChannel({
      name: 'sim',
      type: 'openai',
      keys: ['sk-upstream-secret-1234'],
      models: ['gpt-4o-mini', 'text-embedding-3-small'],
      map: { fast: 'gpt-4o-mini' },
      base_url: sim.url,
    });
    secret = await gw.createKey({ name: 'app' });
    client = new OpenAI({ apiKey: secret, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await sim?.close();
  });

  async function lastLog(): Promise<LogRow> {
    const rows = await gw.call<LogRow[]>('GET', '/v1/logs?limit=1');
    expect(rows.length).toBe(1);
    return rows[0]!;
  }

  describe('OpenAI relay', () => {
    it('answers a non-stream chat with the upstream usage and writes a log row', async () => {
      const res = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.choices[0]?.message.content).toBeTruthy();
      expect(res.usage?.prompt_tokens).toBeGreaterThan(0);
      const row = await lastLog();
      expect(row.status).toBe(200);
      expect(row.channel).toBe('sim');
      expect(row.input_tokens).toBe(res.usage?.prompt_tokens);
      expect(row.output_tokens).toBe(res.usage?.completion_tokens);
      expect(row.usage_estimated).toBe(false);
      expect(row.stream).toBe(false);
      // the simulator saw our upstream key, never the client's
      const call = sim.calls.at(-1)!;
      expect(call.headers.authorization).toBe('Bearer sk-upstream-secret-1234');
    });

    it('streams a chat, reads usage it asked for, and hides the extra usage chunk from a client that did not', async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      let text = '';
      let usageChunks = 0;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        if (chunk.usage) usageChunks += 1;
      }
      expect(text.length).toBeGreaterThan(0);
      expect(usageChunks).toBe(0);
      const upstreamBody = JSON.parse(sim.calls.at(-1)!.body.toString()) as {
        stream_options?: { include_usage?: boolean };
      };
      expect(upstreamBody.stream_options?.include_usage).toBe(true);
      const row = await lastLog();
      expect(row.stream).toBe(true);
      expect(row.output_tokens).toBeGreaterThan(0);
      expect(row.usage_estimated).toBe(false);
      expect(row.ttft_ms).not.toBeNull();
    });

    it('passes the usage chunk through to a client that asked for it', async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
      expect(usage?.completion_tokens).toBeGreaterThan(0);
      const row = await lastLog();
      expect(row.output_tokens).toBe(usage?.completion_tokens);
    });

    it('relays tool calls', async () => {
      const res = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'capital of France?' }],
        tools: [
          {
            type: 'function',
            function: { name: 'get_capital', parameters: { type: 'object', properties: {} } },
          },
        ],
      });
      expect(res.choices[0]?.finish_reason).toBe('tool_calls');
      expect(res.choices[0]?.message.tool_calls?.[0]?.type).toBe('function');
    });

    it('rewrites an alias to the upstream model and bills the upstream model', async () => {
      await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
      const sent = JSON.parse(sim.calls.at(-1)!.body.toString()) as { model: string };
      expect(sent.model).toBe('gpt-4o-mini');
      const row = await lastLog();
      expect(row.model).toBe('fast');
      expect(row.upstream_model).toBe('gpt-4o-mini');
      expect(row.cost).not.toBeNull();
    });

    it('forwards request bytes unchanged and returns response bytes unchanged', async () => {
      const body =
        '{"model":"gpt-4o-mini",  "messages":[{"role":"user","content":"bytes \\u00e9"}],"temperature":0.5 }';
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body,
      });
      const got = Buffer.from(await res.arrayBuffer());
      expect(res.status).toBe(200);
      expect(sim.calls.at(-1)!.body.toString()).toBe(body);
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
      expect(res.headers.get('server-timing')).toMatch(/gw;dur=/);
      // the simulator's JSON is returned exactly (same bytes as a direct call gives)
      const direct = await fetch(`${sim.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer x', 'content-type': 'application/json', 'x-sim-text': 'same' },
        body,
      });
      const viaGw = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${secret}`,
          'content-type': 'application/json',
          'x-sim-text': 'same',
        },
        body,
      });
      const a = JSON.parse(await direct.text()) as Record<string, unknown>;
      const b = JSON.parse(await viaGw.text()) as Record<string, unknown>;
      expect(Object.keys(b)).toEqual(Object.keys(a));
      expect(got.length).toBeGreaterThan(0);
      const row = await lastLog();
      expect(row.request_id).toBe(viaGw.headers.get('x-request-id'));
    });

    it('relays embeddings and lists only the models the key may use', async () => {
      const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
      expect(emb.data[0]?.embedding.length).toBeGreaterThan(0);
      const models = await client.models.list();
      const ids = models.data.map((m) => m.id).sort();
      expect(ids).toEqual(['fast', 'gpt-4o-mini', 'text-embedding-3-small']);
      const limited = await gw.createKey({ models: ['fast'] });
      const c2 = new OpenAI({ apiKey: limited, baseURL: `${gw.url}/v1`, maxRetries: 0 });
      expect((await c2.models.list()).data.map((m) => m.id)).toEqual(['fast']);
    });
  });
});
