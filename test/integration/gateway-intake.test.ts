/**
 * The gateway's door against hostile and slow clients, on raw TCP sockets: a keyless client
 * uploading 31 MB is answered 401 (in its protocol's shape) and cut off before it has sent 1 MB,
 * on the relay lanes and the Gemini routes alike, and so is a POST to an unknown route; `Expect:
 * 100-continue` gets no go-ahead without a key; a keyed client that stops mid-body (or mid-head)
 * is answered 408 and closed within BC_BODY_TIMEOUT, while a stream paced far beyond that timeout
 * runs to its end; bodies beyond BC_MAX_BODY_READS wait their turn; connections beyond
 * BC_MAX_CONNECTIONS are closed on arrival; every one of these shows in `GET /metrics`. Keys in
 * the URL (`?key=`) count on Gemini routes only.
 */
import { setTimeout as delay } from 'node:timers/promises';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { parsePrometheus, type PromText } from '../support/prom-parse.js';
import { RawConnection } from '../support/raw-http.js';
import type { LogRow } from '../../src/shared/control-api.js';

const MIB = 1024 * 1024;
const BIG = 31 * MIB;
const TIMEOUT_MS = 500;

let sim: OpenAISim;
/** BC_BODY_TIMEOUT=500ms */
let gw: TestGateway;
let secret: string;

beforeAll(async () => {
  sim = await startOpenAISim();
  gw = await startGateway({ env: { BC_BODY_TIMEOUT: `${TIMEOUT_MS}ms` } });
  await gw.addChannel({
    name: 'sim',
    type: 'openai',
    keys: ['sk-up-000000000000'],
    models: ['gpt-4o-mini'],
    base_url: sim.url,
  });
  secret = await gw.createKey({ name: 'app' });
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

async function scrape(g: TestGateway): Promise<PromText> {
  const res = await fetch(`${g.url}/metrics`);
  return parsePrometheus(await res.text());
}

interface ErrorBody {
  type?: string;
  error: { code?: string | number; type?: string; status?: string };
}

const errorOf = (text: string | undefined): ErrorBody => JSON.parse(text ?? '{}') as ErrorBody;

const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

/** Starts a 31 MB upload without a key and keeps writing, paced, until answered (or 4 MB). */
async function keylessUpload(
  g: TestGateway,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawConnection> {
  const c = await RawConnection.open(g.url);
  c.head('POST', path, { 'content-type': 'application/json', 'content-length': BIG, ...headers });
  await c.pump(BIG, { chunk: 64 * 1024, pauseMs: 10, stopAfter: 4 * MIB });
  return c;
}

describe('a client without a key', () => {
  const cases: {
    front: string;
    path: string;
    headers: Record<string, string>;
    shape: (b: ErrorBody) => void;
  }[] = [
    {
      front: 'OpenAI',
      path: '/v1/chat/completions',
      headers: {},
      shape: (b: ErrorBody) => expect(b.error.code).toBe('invalid_api_key'),
    },
    {
      front: 'Anthropic',
      path: '/v1/messages',
      headers: { 'x-api-key': 'sk-bc-not-a-key-00000000000000000000000' },
      shape: (b: ErrorBody) =>
        expect(b).toMatchObject({ type: 'error', error: { type: 'authentication_error' } }),
    },
    {
      front: 'Gemini',
      path: '/v1beta/models/gpt-4o-mini:generateContent',
      headers: {},
      shape: (b: ErrorBody) => expect(b.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' }),
    },
  ];
  for (const c of cases) {
    it(`uploading 31 MB to the ${c.front} front gets 401 before 1 MB went out, and is cut off`, async () => {
      const before = (await scrape(gw)).sum('bc_unauthenticated_total');
      const conn = await keylessUpload(gw, c.path, c.headers);
      const answer = await conn.answer(2000);
      expect(answer?.status).toBe(401);
      expect(answer?.headers.connection).toBe('close');
      c.shape(errorOf(answer?.body));
      expect(conn.writtenAtAnswer).not.toBeNull();
      // measured 64-128 KiB under load (socket buffers); a gateway that read the body first: 31 MB
      expect(conn.writtenAtAnswer!).toBeLessThan(MIB);
      await Promise.race([conn.closed, delay(2000)]);
      expect(conn.isClosed).toBe(true);
      expect((await scrape(gw)).sum('bc_unauthenticated_total')).toBe(before + 1);
    });
  }

  it('a POST of 31 MB to an unknown route gets 404 unread', async () => {
    const conn = await keylessUpload(gw, '/v1/no-such-endpoint');
    const answer = await conn.answer(2000);
    expect(answer?.status).toBe(404);
    expect(conn.writtenAtAnswer!).toBeLessThan(MIB);
    await Promise.race([conn.closed, delay(2000)]);
    expect(conn.isClosed).toBe(true);
  });

  it('asking `Expect: 100-continue` gets 401 without a go-ahead; with a key, the go-ahead comes', async () => {
    const keyless = await RawConnection.open(gw.url);
    keyless.head('POST', '/v1/chat/completions', {
      'content-type': 'application/json',
      'content-length': CHAT.length,
      expect: '100-continue',
    });
    const refused = await keyless.answer(2000);
    expect(refused?.status).toBe(401);
    expect(keyless.received).not.toMatch(/^HTTP\/1\.1 100/);

    const keyed = await RawConnection.open(gw.url);
    keyed.head('POST', '/v1/chat/completions', {
      'content-type': 'application/json',
      'content-length': CHAT.length,
      authorization: `Bearer ${secret}`,
      expect: '100-continue',
    });
    for (let i = 0; i < 200 && keyed.received === ''; i++) await delay(5);
    expect(keyed.received).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    await keyed.body(CHAT);
    expect((await keyed.answer())?.status).toBe(200);
    keyed.destroy();
  });
});

describe('BC_BODY_TIMEOUT', () => {
  async function stallMidBody(path: string, headers: Record<string, string>): Promise<RawConnection> {
    const c = await RawConnection.open(gw.url);
    c.head('POST', path, { 'content-type': 'application/json', 'content-length': 1000, ...headers });
    await c.body(CHAT.slice(0, 10));
    return c;
  }

  it('closes a keyed client that stops mid-body within the timeout, with a 408 in its shape', async () => {
    const before = (await scrape(gw)).sum('bc_body_timeouts_total');
    const started = performance.now();
    const openai = await stallMidBody('/v1/chat/completions', { authorization: `Bearer ${secret}` });
    const gemini = await stallMidBody('/v1beta/models/gpt-4o-mini:generateContent', {
      'x-goog-api-key': secret,
    });
    await Promise.race([Promise.all([openai.closed, gemini.closed]), delay(5000)]);
    for (const c of [openai, gemini]) {
      expect(c.isClosed).toBe(true);
      const waited = c.closedAt! - started;
      // not before the bound, and not long after it (Node looks every TIMEOUT_MS / 4): measured
      // 572-905 ms for a 500 ms bound on a 2-core machine running two mutation jobs (load 7-14);
      // a connection never timed out stays open past the 5 s race above (isClosed false)
      expect(waited).toBeGreaterThan(TIMEOUT_MS * 0.8);
      expect(waited).toBeLessThan(TIMEOUT_MS + 2500);
    }
    const a = await openai.answer(0);
    expect(a?.status).toBe(408);
    expect(errorOf(a?.body).error.code).toBe('request_timeout');
    const g = await gemini.answer(0);
    expect(g?.status).toBe(408);
    expect(errorOf(g?.body).error.code).toBe(408);
    expect((await scrape(gw)).sum('bc_body_timeouts_total')).toBe(before + 2);
  });

  it('closes a connection whose headers never finish', async () => {
    const before = (await scrape(gw)).sum('bc_header_timeouts_total');
    const c = await RawConnection.open(gw.url);
    c.socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n');
    await Promise.race([c.closed, delay(5000)]);
    expect(c.isClosed).toBe(true);
    expect((await c.answer(0))?.status).toBe(408);
    expect((await scrape(gw)).sum('bc_header_timeouts_total')).toBe(before + 1);
  });

  it('does not cut a stream that runs far longer than the timeout', async () => {
    const client = new OpenAI({ apiKey: secret, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const deltas = 8;
    const paceMs = 200;
    const started = performance.now();
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'slowly' }],
      stream: true,
      metadata: { 'x-sim-deltas': String(deltas), 'x-sim-pace-ms': String(paceMs) },
    });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    const took = performance.now() - started;
    expect(took).toBeGreaterThan(3 * TIMEOUT_MS);
    expect(finish).toBe('stop');
    expect(text).toBe('Hello from the simulator: it costs 5 € and it flies 🚀 fast.');
    const [row] = await gw.call<LogRow[]>('GET', '/v1/logs?limit=1');
    expect(row).toMatchObject({ status: 200, stream: true });
  });
});

describe('BC_MAX_BODY_READS', () => {
  let slots: TestGateway;
  let key: string;

  beforeAll(async () => {
    slots = await startGateway({ env: { BC_MAX_BODY_READS: '2', BC_BODY_TIMEOUT: '20s' } });
    await slots.addChannel({
      name: 'sim',
      type: 'openai',
      keys: ['sk-up-000000000000'],
      models: ['gpt-4o-mini'],
      base_url: sim.url,
    });
    key = await slots.createKey();
  });
  afterAll(async () => slots?.close());

  async function begin(sent: number): Promise<RawConnection> {
    const c = await RawConnection.open(slots.url);
    c.head('POST', '/v1/chat/completions', {
      'content-type': 'application/json',
      'content-length': CHAT.length,
      authorization: `Bearer ${key}`,
    });
    await c.body(CHAT.slice(0, sent));
    return c;
  }

  async function gauges(): Promise<[number, number]> {
    const p = await scrape(slots);
    return [p.sum('bc_body_reads_inflight'), p.sum('bc_body_reads_waiting')];
  }

  async function until(want: [number, number]): Promise<[number, number]> {
    let got = await gauges();
    for (let i = 0; i < 100 && (got[0] !== want[0] || got[1] !== want[1]); i++) {
      await delay(20);
      got = await gauges();
    }
    return got;
  }

  it('reads two bodies at once; a third waits, unread, until a slot frees', async () => {
    const p = await scrape(slots);
    expect(p.sum('bc_body_reads_limit')).toBe(2);
    const a = await begin(10);
    const b = await begin(10);
    expect(await until([2, 0])).toEqual([2, 0]);
    const c = await begin(CHAT.length);
    expect(await until([2, 1])).toEqual([2, 1]);
    await delay(200);
    expect(c.received).toBe('');

    await a.body(CHAT.slice(10));
    expect((await a.answer())?.status).toBe(200);
    expect((await c.answer())?.status).toBe(200);
    b.destroy();
    expect(await until([0, 0])).toEqual([0, 0]);
    a.destroy();
    c.destroy();
  });
});

describe('BC_MAX_CONNECTIONS', () => {
  let capped: TestGateway;

  beforeAll(async () => {
    capped = await startGateway({ env: { BC_MAX_CONNECTIONS: '3' } });
  });
  afterAll(async () => capped?.close());

  it('closes connections beyond the cap on arrival, and counts them', async () => {
    const transport = capped.services.metrics.transport;
    const held = await Promise.all([1, 2, 3].map(() => RawConnection.open(capped.url)));
    for (let i = 0; i < 100 && transport.connections < 3; i++) await delay(10);
    expect(transport.connections).toBe(3);

    const extra = await RawConnection.open(capped.url);
    await Promise.race([extra.closed, delay(2000)]);
    expect(extra.isClosed).toBe(true);
    expect(extra.received).toBe('');

    held[0]!.destroy();
    for (let i = 0; i < 100 && transport.connections > 2; i++) await delay(10);
    const p = await scrape(capped);
    expect(p.sum('bc_connections_limit')).toBe(3);
    expect(p.sum('bc_connections_refused_total')).toBe(1);
    // the two still held and the scrape's own
    expect(p.sum('bc_connections')).toBe(3);
    for (const c of held) c.destroy();
  });
});

describe('keys in the URL', () => {
  it('are refused on OpenAI routes, where they would end up in proxy logs', async () => {
    const chat = await fetch(`${gw.url}/v1/chat/completions?key=${secret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: CHAT,
    });
    expect(chat.status).toBe(401);
    const models = await fetch(`${gw.url}/v1/models?key=${secret}`);
    expect(models.status).toBe(401);
  });

  it('are accepted on Gemini routes, as Gemini clients send them', async () => {
    const res = await fetch(`${gw.url}/v1beta/models/gpt-4o-mini:generateContent?key=${secret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(res.status).toBe(200);
  });
});
