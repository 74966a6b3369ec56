/**
 * Passthrough is byte for byte (SPEC section 5): an upstream that answers with unusual but valid
 * formatting (odd spacing, field order, a comment line, no space after `data:`) must reach the
 * client exactly as sent, for a JSON answer and for a stream whose usage the client asked for.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';

const JSON_BODY =
  '{ "object":"chat.completion","id":"chatcmpl-x" ,"created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"caf\\u00e9 ☕"},"finish_reason":"stop"}],\n "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5} }';
const STREAM_BODY = [
  ': keep-alive comment\n\n',
  'data:{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"h\\u00e9"},"finish_reason":null}],"usage":null}\n\n',
  'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\r\n\r\n',
  'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\n',
  'data: [DONE]\n\n',
].join('');

let upstream: http.Server;
let gw: TestGateway;
let key: string;
const received: Buffer[] = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      received.push(body);
      const stream = (JSON.parse(body.toString()) as { stream?: boolean }).stream === true;
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      res.end(stream ? STREAM_BODY : JSON_BODY);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  gw = await startGateway();
  const port = (upstream.address() as AddressInfo).port;
  await gw.addChannel({
    name: 'raw',
    type: 'openai-compatible',
    keys: ['k-000000000000'],
    models: ['m'],
    base_url: `http://127.0.0.1:${port}/v1`,
  });
  key = await gw.createKey();
});

afterAll(async () => {
  await gw.close();
  await new Promise((r) => upstream.close(r));
});

async function post(body: string): Promise<Buffer> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('byte-identical passthrough', () => {
  it('forwards the request and returns a JSON answer unchanged', async () => {
    const req = '{"model":"m","messages":[{"role":"user","content":"x"}] ,"temperature":1.0}';
    const got = await post(req);
    expect(received.at(-1)!.toString()).toBe(req);
    expect(got.toString()).toBe(JSON_BODY);
  });

  it('returns stream frames unchanged when the client asked for usage', async () => {
    const req =
      '{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}';
    const got = await post(req);
    expect(received.at(-1)!.toString()).toBe(req);
    expect(got.toString()).toBe(STREAM_BODY);
    const [row] = await gw.call<{ output_tokens: number; usage_estimated: boolean }[]>(
      'GET',
      '/v1/logs?limit=1',
    );
    expect(row?.output_tokens).toBe(1);
    expect(row?.usage_estimated).toBe(false);
  });
});
