// The daemon client against a real HTTP server on a temporary Unix socket: routes, bodies, query
// strings, the daemon's refusals, an absent daemon, and the NDJSON metrics stream.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonError, createDaemonClient } from '../../src/shared/daemon-client.js';
import type { DaemonClient } from '../../src/shared/daemon-client.js';
import { BcError } from '../../src/shared/errors.js';

interface Seen {
  method: string;
  url: string;
  body: string;
  contentType: string | undefined;
}

let dir: string;
let socket: string;
let server: http.Server;
let client: DaemonClient;
const seen: Seen[] = [];

function answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const url = req.url ?? '';
  const json = (status: number, doc: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(doc));
  };
  if (url.startsWith('/v1/channels/missing'))
    return json(404, { error: { code: 'not_found', message: 'no channel named "missing"' } });
  if (url === '/v1/channels' && req.method === 'POST')
    return json(409, { error: { code: 'conflict', message: 'a channel named "x" already exists' } });
  if (url === '/v1/reload') {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('boom');
    return;
  }
  if (url === '/v1/metrics/stream') {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write('{"t":1}\n{"t"');
    setTimeout(() => res.write(':2}\n\n'), 20);
    setTimeout(() => res.write('{"t":3}\n'), 40);
    return;
  }
  json(200, { method: req.method, url, body: body ? (JSON.parse(body) as unknown) : null });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
  socket = path.join(dir, 'bc.sock');
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body,
        contentType: req.headers['content-type'],
      });
      answer(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  client = createDaemonClient({ socket, timeoutMs: 5000 });
});

afterAll(async () => {
  await client.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('routes', () => {
  it('each method hits its route with its body', async () => {
    const calls: [() => Promise<unknown>, string, string, unknown][] = [
      [() => client.status(), 'GET', '/v1/status', null],
      [() => client.shutdown(), 'POST', '/v1/shutdown', null],
      [() => client.channels.list(), 'GET', '/v1/channels', null],
      [() => client.channels.show('my chan/1'), 'GET', '/v1/channels/my%20chan%2F1', null],
      [() => client.channels.edit(3, { weight: 2 }), 'PATCH', '/v1/channels/3', { weight: 2 }],
      [() => client.channels.enable('a'), 'POST', '/v1/channels/a/enable', null],
      [() => client.channels.disable('a'), 'POST', '/v1/channels/a/disable', null],
      [() => client.channels.remove('a'), 'DELETE', '/v1/channels/a', null],
      [() => client.channels.test('a', 'gpt-4o'), 'POST', '/v1/channels/a/test', { model: 'gpt-4o' }],
      [() => client.keys.list(), 'GET', '/v1/keys', null],
      [() => client.keys.create({ name: 'k', budget: 5 }), 'POST', '/v1/keys', { name: 'k', budget: 5 }],
      [() => client.keys.edit('k', { rpm: null }), 'PATCH', '/v1/keys/k', { rpm: null }],
      [() => client.keys.revoke('k'), 'POST', '/v1/keys/k/revoke', null],
      [() => client.keys.rotate('k'), 'POST', '/v1/keys/k/rotate', null],
      [
        () => client.prices.set('openrouter/x', { input: 1, output: 2 }),
        'PUT',
        '/v1/prices/openrouter%2Fx',
        { input: 1, output: 2 },
      ],
      [() => client.prices.remove('m'), 'DELETE', '/v1/prices/m', null],
      [() => client.groups.set('vip', 0.8), 'PUT', '/v1/groups/vip', { ratio: 0.8 }],
      [() => client.models(), 'GET', '/v1/models', null],
      [() => client.metricsSnapshot(), 'GET', '/v1/metrics/snapshot', null],
    ];
    for (const [call, method, url, body] of calls) {
      const r = (await call()) as { method: string; url: string; body: unknown };
      expect(r).toEqual({ method, url, body });
    }
    const withBody = seen.filter((s) => s.body !== '');
    expect(withBody.every((s) => s.contentType === 'application/json')).toBe(true);
  });

  it('query strings carry only the given filters', async () => {
    const r = (await client.logs({ key: 'app', errors: true, limit: 5, after_id: 9 })) as unknown as {
      url: string;
    };
    expect(r.url).toBe('/v1/logs?key=app&errors=true&limit=5&after_id=9');
    const u = (await client.usage('channel', '2026-11-01T00:00:00.000Z')) as unknown as { url: string };
    expect(u.url).toBe('/v1/usage?by=channel&since=2026-11-01T00%3A00%3A00.000Z');
    const all = (await client.usage('model')) as unknown as { url: string };
    expect(all.url).toBe('/v1/usage?by=model');
  });
});

describe('refusals', () => {
  it("a non-2xx answer is a DaemonError with the daemon's message and code", async () => {
    const err = await client.channels.show('missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonError);
    expect(err).toBeInstanceOf(BcError);
    expect((err as DaemonError).message).toBe('no channel named "missing"');
    expect((err as DaemonError).daemonCode).toBe('not_found');
    expect((err as DaemonError).code).toBe('NOT_FOUND');
    expect((err as DaemonError).status).toBe(404);

    const dup = (await client.channels.add({ name: 'x' }).catch((e: unknown) => e)) as DaemonError;
    expect([dup.daemonCode, dup.code, dup.message]).toEqual([
      'conflict',
      'CONFLICT',
      'a channel named "x" already exists',
    ]);
  });

  it('a non-JSON error body still gives a readable message', async () => {
    const err = (await client.reload().catch((e: unknown) => e)) as DaemonError;
    expect(err.message).toBe('the daemon answered HTTP 500: boom');
    expect(err.daemonCode).toBe('http_500');
  });
});

describe('no daemon', () => {
  it('a missing socket is DAEMON_UNREACHABLE and says how to start it', async () => {
    const missing = path.join(dir, 'nothing.sock');
    const c = createDaemonClient({ socket: missing });
    const err = (await c.status().catch((e: unknown) => e)) as BcError;
    await c.close();
    expect(err).toBeInstanceOf(BcError);
    expect(err.code).toBe('DAEMON_UNREACHABLE');
    expect(err.message).toBe(`the daemon is not running (socket ${missing}): start it with \`bc start\``);
  });

  it('a stale socket file nobody listens on is DAEMON_UNREACHABLE too', async () => {
    const stale = path.join(dir, 'stale.sock');
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(stale, r));
    // Closing unlinks the path, so keep a second name for the socket inode, as a crashed daemon leaves it.
    fs.linkSync(stale, path.join(dir, 'stale2.sock'));
    await new Promise((r) => s.close(r));
    const c = createDaemonClient({ socket: path.join(dir, 'stale2.sock') });
    const err = (await c.keys.list().catch((e: unknown) => e)) as BcError;
    await c.close();
    expect(err.code).toBe('DAEMON_UNREACHABLE');
  });
});

describe('metrics stream', () => {
  it('yields one document per NDJSON line, across chunk boundaries, until aborted', async () => {
    const ac = new AbortController();
    const got: unknown[] = [];
    for await (const doc of client.metricsStream(ac.signal)) {
      got.push(doc);
      if (got.length === 3) ac.abort();
    }
    expect(got).toEqual([{ t: 1 }, { t: 2 }, { t: 3 }]);
  });
});
