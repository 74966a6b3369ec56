/**
 * The single-instance lock in-process, against real processes and a real listening socket: who
 * blocks (a live daemon that answers, one still starting), who is replaced (dead pid, reused pid,
 * garbage), that concurrent starters cannot both win, and that release never deletes another
 * daemon's pidfile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireInstanceLock } from '../../src/daemon/lifecycle/instance-lock.js';
import { BcError } from '../../src/shared/errors.js';
import { readPidfile, type PidfileContent } from '../../src/shared/pidfile.js';

let dir: string;
let pidfile: string;
let socket: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
  pidfile = path.join(dir, 'bc.pid');
  socket = path.join(dir, 'bc.sock');
});

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A live process that is not a BurnCloud daemon. */
function bystander(): number {
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  children.push(c);
  return c.pid ?? 0;
}

function writePidfile(content: Partial<PidfileContent> & { pid: number }): void {
  const full: PidfileContent = {
    listen: '127.0.0.1:8300',
    socket,
    started_at: '2020-01-01T00:00:00.000Z',
    version: '0.0.1',
    ...content,
  };
  fs.writeFileSync(pidfile, JSON.stringify(full));
}

async function refusal(): Promise<string> {
  try {
    await acquireInstanceLock(pidfile, socket, '9.9.9');
  } catch (e) {
    expect(e).toBeInstanceOf(BcError);
    expect((e as BcError).code).toBe('STARTUP_FAILED');
    return (e as BcError).message;
  }
  throw new Error('the lock was granted');
}

describe('acquireInstanceLock', () => {
  it('creates the pidfile with this process, "starting" (no listen yet), and updates it atomically', async () => {
    const lock = await acquireInstanceLock(pidfile, socket, '9.9.9');
    expect(readPidfile(pidfile)).toMatchObject({ pid: process.pid, listen: '', socket, version: '9.9.9' });
    lock.update({
      pid: process.pid,
      listen: '127.0.0.1:1234',
      socket,
      started_at: new Date().toISOString(),
      version: '9.9.9',
    });
    expect(readPidfile(pidfile)?.listen).toBe('127.0.0.1:1234');
    expect(fs.readdirSync(dir)).toEqual(['bc.pid']);
    lock.release();
    expect(fs.existsSync(pidfile)).toBe(false);
  });

  it('refuses while a live daemon answers on the socket the pidfile names', async () => {
    const server = net.createServer((c) => c.end());
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const pid = bystander();
      writePidfile({ pid });
      expect(await refusal()).toBe(`already running (pid ${pid})`);
      expect(readPidfile(pidfile)?.pid).toBe(pid);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses while a live daemon is still starting (no listen address, recent)', async () => {
    const pid = bystander();
    writePidfile({ pid, listen: '', started_at: new Date().toISOString() });
    expect(await refusal()).toBe(`already running (pid ${pid}, still starting)`);
  });

  it('replaces a pidfile naming a dead pid, a reused pid, an old "starting" one, or garbage', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    const cases: (() => void)[] = [
      () => writePidfile({ pid: dead.pid ?? 999_999 }),
      () => writePidfile({ pid: bystander() }),
      () => writePidfile({ pid: bystander(), listen: '' }),
      () => fs.writeFileSync(pidfile, 'garbage'),
    ];
    for (const write of cases) {
      write();
      const lock = await acquireInstanceLock(pidfile, socket, '9.9.9');
      expect(readPidfile(pidfile)?.pid).toBe(process.pid);
      lock.release();
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('lets exactly one of several concurrent starters win', async () => {
    const script = `
      import('${new URL('../../dist/daemon/lifecycle/instance-lock.js', import.meta.url).href}').then(async (m) => {
        try { await m.acquireInstanceLock(process.argv[1], process.argv[2], 'x'); process.stdout.write('won'); setTimeout(() => {}, 1500); }
        catch (e) { process.stdout.write('lost: ' + e.message); }
      });`;
    writePidfile({ pid: 999_999 });
    const runs = Array.from({ length: 4 }, () => {
      const c = spawn(process.execPath, ['-e', script, pidfile, socket], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(c);
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      return new Promise<string>((resolve) => c.on('exit', () => resolve(out)));
    });
    const outcomes = await Promise.all(runs);
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    for (const o of outcomes.filter((x) => x !== 'won'))
      expect(o).toMatch(/^lost: already running \(pid \d+, still starting\)$/);
  });

  it('release leaves a successor’s pidfile alone', async () => {
    const lock = await acquireInstanceLock(pidfile, socket, '9.9.9');
    const other = bystander();
    writePidfile({ pid: other });
    lock.release();
    expect(readPidfile(pidfile)?.pid).toBe(other);
  });
});
