/**
 * Startup failures of the real daemon process (`node bin/bc.js daemon`, compiled dist/ needed):
 * each exits 1 with a one-line reason on stderr and the same reason in the IPC error message
 * `bc start` waits for, and leaves no pidfile or socket behind.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { daemonEnv } from '../support/cli.js';

const BIN = path.resolve('bin/bc.js');

interface Outcome {
  code: number | null;
  stderr: string;
  message: { type: string; message?: string } | undefined;
}

const cleanups = cleanupsAfterEach();

/** Runs the daemon until it exits (failures) or is ready (then stops it with SIGTERM). */
function run(extra: Record<string, string>, args: string[] = []): Promise<Outcome> {
  const child = spawn(process.execPath, [BIN, 'daemon', ...args], {
    env: daemonEnv('warn', extra),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderr = '';
  let message: Outcome['message'];
  child.stdout?.resume();
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('message', (m: Outcome['message']) => {
    message = m;
    if (m?.type === 'ready') child.kill('SIGTERM');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, message });
    }),
  );
}

/** The failure is reported identically on IPC and as the one stderr line that is not a warning. */
function expectFailure(o: Outcome, reason: RegExp): void {
  expect(o.code).toBe(1);
  expect(o.message?.type).toBe('error');
  expect(o.message?.message).toMatch(reason);
  const lines = o.stderr.split('\n').filter((l) => l.startsWith('bc daemon: '));
  expect(lines).toEqual([`bc daemon: ${o.message?.message ?? ''}`]);
}

function leftovers(home: string): string[] {
  return ['bc.pid', 'bc.sock'].filter((f) => fs.existsSync(path.join(home, f)));
}

describe('daemon startup failures', () => {
  it('port in use: names the port and what to change', async () => {
    const home = cleanups.tempHome();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as net.AddressInfo).port;
    const o = await run({ BC_HOME: home, BC_LISTEN: `127.0.0.1:${port}` });
    expectFailure(o, new RegExp(`^port ${port} on 127\\.0\\.0\\.1 is in use: set BC_LISTEN or --listen$`));
    expect(leftovers(home)).toEqual([]);
  });

  it('a malformed listen address', async () => {
    const home = cleanups.tempHome();
    expectFailure(
      await run({ BC_HOME: home, BC_LISTEN: 'localhost:99999' }),
      /invalid port in "localhost:99999".*BC_LISTEN or --listen/,
    );
    expectFailure(
      await run({ BC_HOME: home, BC_LISTEN: 'nonsense' }),
      /invalid listen address "nonsense".*BC_LISTEN or --listen/,
    );
    expect(leftovers(home)).toEqual([]);
  });

  it('a home that cannot be created', async () => {
    const home = cleanups.tempHome();
    fs.writeFileSync(path.join(home, 'file'), '');
    const o = await run({ BC_HOME: path.join(home, 'file', 'home') });
    expectFailure(o, /cannot create the home folder .*file\/home/);
  });

  it('a corrupt database file', async () => {
    const home = cleanups.tempHome();
    fs.writeFileSync(path.join(home, 'burncloud.db'), Buffer.alloc(8192, 0x5a));
    const o = await run({ BC_HOME: home });
    expectFailure(o, /burncloud\.db.*(not a database|corrupt)/);
    expect(leftovers(home)).toEqual([]);
  });

  it('a missing master key while channel secrets exist', async () => {
    const home = cleanups.tempHome();
    const child = spawn(process.execPath, [BIN, 'daemon'], {
      env: daemonEnv('warn', { BC_HOME: home }),
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    const ready = await new Promise<{ socket: string }>((resolve) =>
      child.once('message', (m: { socket: string }) => resolve(m)),
    );
    await new Promise<void>((resolve, reject) => {
      const req = net.connect(ready.socket, () => {
        const body = JSON.stringify({
          name: 'c',
          type: 'openai',
          keys: ['sk-secret-abcdef123'],
          models: ['gpt-4o'],
        });
        req.end(
          `POST /v1/channels HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
      });
      let answer = '';
      req.on('data', (d: Buffer) => (answer += d.toString()));
      req.on('end', () => (answer.startsWith('HTTP/1.1 201') ? resolve() : reject(new Error(answer))));
      req.on('error', reject);
    });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
    fs.rmSync(path.join(home, 'master.key'));

    const o = await run({ BC_HOME: home });
    expectFailure(o, /master key missing/);
    expect(fs.existsSync(path.join(home, 'master.key'))).toBe(false);
    expect(leftovers(home)).toEqual([]);
  });

  it('an unknown BC_LOG_LEVEL and a socket path too long for a Unix socket', async () => {
    const home = cleanups.tempHome();
    expectFailure(await run({ BC_HOME: home, BC_LOG_LEVEL: 'loud' }), /^invalid BC_LOG_LEVEL "loud"/);
    const long = path.join(home, 'x'.repeat(120), 'bc.sock');
    expectFailure(await run({ BC_HOME: home, BC_SOCKET: long }), /socket path .* is too long/);
    expect(leftovers(home)).toEqual([]);
  });

  it('a healthy start on the same home still works after the failures', async () => {
    const home = cleanups.tempHome();
    fs.writeFileSync(path.join(home, 'bc.sock'), 'not a socket');
    expectFailure(await run({ BC_HOME: home }), /bc\.sock exists and is not a socket/);
    fs.rmSync(path.join(home, 'bc.sock'));
    const o = await run({ BC_HOME: home });
    expect(o.message?.type).toBe('ready');
    expect(o.code).toBe(0);
  });
});
