/**
 * The real daemon process (`node bin/bc.js daemon`, compiled dist/ needed) on a temporary home:
 * what it creates, how it refuses a second instance, replaces stale pidfiles, reloads on SIGHUP
 * and drains on SIGTERM / `POST /v1/shutdown`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readPidfile } from '../../src/shared/pidfile.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { daemonEnv } from '../support/cli.js';

const BIN = path.resolve('bin/bc.js');

interface Daemon {
  child: ChildProcess;
  home: string;
  stdout(): string;
  stderr(): string;
  /** resolves with the exit code (or the signal's name) */
  exited: Promise<number | string>;
  /** the IPC message: ready or error */
  message: Promise<{ type: string; pid?: number; listen?: string; socket?: string; message?: string }>;
}

const cleanups = cleanupsAfterEach();

function startDaemon(
  home: string,
  opts: { ipc?: boolean; env?: Record<string, string>; args?: string[] } = {},
): Daemon {
  const child = spawn(process.execPath, [BIN, 'daemon', ...(opts.args ?? [])], {
    env: daemonEnv('info', { BC_HOME: home, ...opts.env }),
    stdio: ['ignore', 'pipe', 'pipe', ...(opts.ipc === false ? [] : ['ipc' as const])],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const message = new Promise<Daemon['message'] extends Promise<infer M> ? M : never>((resolve, reject) => {
    child.on('message', (m) => resolve(m as { type: string }));
    void exited.then((code) =>
      reject(new Error(`daemon exited (${String(code)}) before a message; stderr: ${err}`)),
    );
  });
  message.catch(() => undefined);
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, home, stdout: () => out, stderr: () => err, exited, message };
}

async function ready(d: Daemon): Promise<{ pid: number; listen: string; socket: string }> {
  const m = await d.message;
  if (m.type !== 'ready') throw new Error(`daemon failed: ${m.message ?? ''}`);
  return { pid: m.pid ?? 0, listen: m.listen ?? '', socket: m.socket ?? '' };
}

/** One HTTP request; `socketPath` for the control socket, else host:port. */
function request(
  target: { socketPath: string } | { listen: string; agent?: http.Agent },
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; localPort: number | undefined }> {
  const where =
    'socketPath' in target
      ? { socketPath: target.socketPath }
      : { host: target.listen.split(':')[0], port: Number(target.listen.split(':')[1]), agent: target.agent };
  return new Promise((resolve, reject) => {
    const req = http.request(
      { ...where, method, path: url, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text, localPort: res.socket?.localPort }),
        );
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** An OpenAI-compatible upstream that answers every chat completion after `delayMs`. */
async function slowUpstream(delayMs: number): Promise<{ url: string; received: () => number }> {
  let count = 0;
  const server = http.createServer((req, res) => {
    count++;
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 1,
          model: 'slow',
          choices: [{ index: 0, message: { role: 'assistant', content: 'finished' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
        }),
      );
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, received: () => count };
}

/** Through the control socket: a channel on the slow upstream for model `slow`, and a client key. */
async function slowChannelAndKey(
  socket: string,
  upstreamUrl: string,
): Promise<{ channelStatus: number; key: string }> {
  const sock = { socketPath: socket };
  const ch = await request(sock, 'POST', '/v1/channels', {
    name: 'slow',
    type: 'openai-compatible',
    base_url: upstreamUrl,
    keys: ['sk-upstream-123456'],
    models: ['slow'],
  });
  const key = (JSON.parse((await request(sock, 'POST', '/v1/keys', { name: 'k' })).body) as { key: string })
    .key;
  return { channelStatus: ch.status, key };
}

/** One chat completion for model `slow` through the gateway, with this key. */
function chatSlow(listen: string, key: string): ReturnType<typeof request> {
  return request(
    { listen },
    'POST',
    '/v1/chat/completions',
    { model: 'slow', messages: [{ role: 'user', content: 'hi' }] },
    { authorization: `Bearer ${key}` },
  );
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A pid that certainly names no process now. */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => c.on('exit', r));
  return c.pid ?? 999_999;
}

describe('bc daemon', () => {
  it('starts private and ready: socket 0600 in a 0700 folder, pidfile, status; a second daemon is refused', async () => {
    const home = cleanups.tempHome();
    const d = startDaemon(home);
    const r = await ready(d);
    expect(r.pid).toBe(d.child.pid);
    expect(r.listen).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(r.socket).toBe(path.join(home, 'bc.sock'));
    expect(fs.statSync(r.socket).isSocket()).toBe(true);
    expect(fs.statSync(r.socket).mode & 0o777).toBe(0o600);
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);
    const pf = readPidfile(path.join(home, 'bc.pid'));
    expect(pf).toMatchObject({ pid: r.pid, listen: r.listen, socket: r.socket });
    expect(pf?.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Number.isNaN(Date.parse(pf?.started_at ?? ''))).toBe(false);
    const status = await request({ socketPath: r.socket }, 'GET', '/v1/status');
    expect(JSON.parse(status.body)).toMatchObject({ pid: r.pid, listen: r.listen, socket: r.socket });
    expect((await request({ listen: r.listen }, 'GET', '/healthz')).status).toBe(200);

    const second = startDaemon(home);
    const m = await second.message;
    expect(m).toEqual({ type: 'error', message: `already running (pid ${r.pid})` });
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(`already running (pid ${r.pid})`);
    expect(readPidfile(path.join(home, 'bc.pid'))?.pid).toBe(r.pid);
    expect(d.child.exitCode).toBeNull();
  });

  it('replaces a stale pidfile (dead pid) and one whose pid another process reuses', async () => {
    const home = cleanups.tempHome();
    const pidfile = path.join(home, 'bc.pid');
    const stale = {
      listen: '127.0.0.1:1',
      socket: path.join(home, 'bc.sock'),
      started_at: '2020-01-01T00:00:00Z',
      version: '0.0.1',
    };
    fs.writeFileSync(pidfile, JSON.stringify({ pid: await deadPid(), ...stale }));
    const d1 = startDaemon(home);
    const r1 = await ready(d1);
    expect(readPidfile(pidfile)?.pid).toBe(r1.pid);
    d1.child.kill('SIGKILL');
    await d1.exited;

    // SIGKILL left the pidfile and socket behind; make the pid belong to an unrelated process.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    cleanups.push(() => void other.kill('SIGKILL'));
    fs.writeFileSync(pidfile, JSON.stringify({ pid: other.pid, ...stale }));
    const d2 = startDaemon(home);
    const r2 = await ready(d2);
    expect(readPidfile(pidfile)?.pid).toBe(r2.pid);
  });

  it('prints the gateway URL, socket and next command when run in a terminal (no IPC)', async () => {
    const home = cleanups.tempHome();
    const d = startDaemon(home, { ipc: false });
    await until(() => d.stderr().includes('next:'), 15_000);
    expect(d.stderr()).toMatch(/http:\/\/127\.0\.0\.1:\d+/);
    expect(d.stderr()).toContain(path.join(home, 'bc.sock'));
    expect(d.stderr()).toContain('bc channel add');
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });

  it('SIGHUP reloads without dropping the process or its open connections', async () => {
    const home = cleanups.tempHome();
    const d = startDaemon(home);
    const r = await ready(d);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    const before = await request({ listen: r.listen, agent }, 'GET', '/healthz');
    d.child.kill('SIGHUP');
    await until(() => d.stdout().includes('"reloaded"'), 5000);
    const after = await request({ listen: r.listen, agent }, 'GET', '/healthz');
    expect([before.status, after.status]).toEqual([200, 200]);
    expect(after.localPort).toBe(before.localPort);
    expect(d.child.exitCode).toBeNull();
  });

  it('SIGTERM lets a request in flight finish, then exits 0 and removes the pidfile and socket', async () => {
    const home = cleanups.tempHome();
    const upstream = await slowUpstream(500);
    const d = startDaemon(home);
    const r = await ready(d);
    const { channelStatus, key } = await slowChannelAndKey(r.socket, upstream.url);
    expect(channelStatus).toBe(201);

    const inFlight = chatSlow(r.listen, key);
    await until(() => upstream.received() === 1, 5000);
    d.child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toContain('finished');
    expect(await d.exited).toBe(0);
    expect(fs.existsSync(path.join(home, 'bc.pid'))).toBe(false);
    expect(fs.existsSync(r.socket)).toBe(false);
    expect(d.stdout()).toContain('"stopped"');
  });

  it('the drain deadline cuts a request that outlives it; exit is still 0', async () => {
    const home = cleanups.tempHome();
    const upstream = await slowUpstream(5000);
    const d = startDaemon(home, { args: ['--drain', '300ms'] });
    const r = await ready(d);
    const { key } = await slowChannelAndKey(r.socket, upstream.url);
    const inFlight = chatSlow(r.listen, key).then(
      (x) => x.status,
      () => 'cut',
    );
    await until(() => upstream.received() === 1, 5000);
    const t0 = Date.now();
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    // measured 404-644 ms (--drain 300ms) on a 2-core machine running two mutation jobs; a drain
    // that ignored its deadline waits for the 5 s upstream
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await inFlight).not.toBe(200);
    expect(d.stdout()).toContain('drain deadline passed');
  });

  it('a second SIGINT exits at once while draining', async () => {
    const home = cleanups.tempHome();
    const upstream = await slowUpstream(10_000);
    const d = startDaemon(home);
    const r = await ready(d);
    const { key } = await slowChannelAndKey(r.socket, upstream.url);
    void chatSlow(r.listen, key).catch(() => undefined);
    await until(() => upstream.received() === 1, 5000);
    d.child.kill('SIGINT');
    await until(() => d.stdout().includes('"stopping"'), 5000);
    const t0 = Date.now();
    d.child.kill('SIGINT');
    expect(await d.exited).toBe(130);
    // measured 14-41 ms under the same load; a second SIGINT ignored waits out the drain of a
    // request whose upstream takes 10 s
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(fs.existsSync(path.join(home, 'bc.pid'))).toBe(false);
  });

  it('POST /v1/shutdown answers, then stops the daemon gracefully', async () => {
    const home = cleanups.tempHome();
    const d = startDaemon(home);
    const r = await ready(d);
    const res = await request({ socketPath: r.socket }, 'POST', '/v1/shutdown');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true, pid: r.pid });
    expect(await d.exited).toBe(0);
    expect(fs.existsSync(path.join(home, 'bc.pid'))).toBe(false);
  });
});
