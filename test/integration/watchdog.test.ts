/**
 * The systemd watchdog (WatchdogSec= in the unit from `bc service install`): the daemon's event
 * loop sends WATCHDOG=1 at half WATCHDOG_USEC through `systemd-notify`, so systemd tells a wedged
 * daemon (no pings) from a live one. A `systemd-notify` of our own first on PATH records each
 * ping (its arguments and the pid of the process that ran it) instead of sending it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startWatchdog } from '../../src/daemon/lifecycle/notify.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { daemonEnv } from '../support/cli.js';

const cleanups = cleanupsAfterEach();

interface Ping {
  atMs: number;
  ppid: number;
  args: string;
}

/** A folder with a fake systemd-notify that appends `<ms> <ppid> <args>` to `pings`. */
function fakeNotify(): { env: NodeJS.ProcessEnv; pings: () => Ping[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-notify-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'pings');
  fs.writeFileSync(file, '');
  const script = path.join(dir, 'systemd-notify');
  fs.writeFileSync(script, `#!/bin/sh\necho "$(date +%s%3N) $PPID $*" >> "${file}"\n`, { mode: 0o755 });
  return {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, NOTIFY_SOCKET: '/run/fake-notify' },
    pings: () =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [at, ppid, ...args] = l.split(' ');
          return { atMs: Number(at), ppid: Number(ppid), args: args.join(' ') };
        }),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quiet = { warn: (): void => undefined };

describe('startWatchdog', () => {
  it('pings WATCHDOG=1 at half WATCHDOG_USEC from the event loop, and stops when the loop stops', async () => {
    const fake = fakeNotify();
    const stop = startWatchdog(quiet, { ...fake.env, WATCHDOG_USEC: '400000' });
    cleanups.push(stop);
    await sleep(2100);
    const first = fake.pings();
    // every 200 ms from the start: 11 in 2.1 s, give or take the children's own start-up (each
    // ping is a shell and a `date`). On a 2-core machine running two mutation jobs (load 11-20)
    // 1.1 s counted 4-6 of 6, at the old bound of 4, and 2.1 s counts 8-10. Pinging at the full
    // WATCHDOG_USEC (400 ms) gives at most 6 in 2.1 s and twice as often 21, so 7-13 tells both
    // from the right rate
    expect(first.length).toBeGreaterThanOrEqual(7);
    expect(first.length).toBeLessThanOrEqual(13);
    expect(new Set(first.map((p) => p.args))).toEqual(new Set(['WATCHDOG=1']));
    expect(new Set(first.map((p) => p.ppid))).toEqual(new Set([process.pid]));

    // a wedged loop sends nothing: no ping starts while it is blocked
    const blockedFrom = Date.now();
    while (Date.now() - blockedFrom < 1200) {
      // busy: the event loop does not turn
    }
    const blockedTo = Date.now();
    await sleep(600);
    const started = fake.pings().map((p) => p.atMs);
    // (a child started just before the block may still be writing its line early on)
    expect(started.filter((t) => t > blockedFrom + 400 && t < blockedTo)).toEqual([]);
    expect(started.filter((t) => t >= blockedTo).length).toBeGreaterThanOrEqual(1);

    stop();
    await sleep(300);
    const count = fake.pings().length;
    await sleep(600);
    expect(fake.pings().length).toBe(count);
  });

  it('stays silent without a watchdog, or when the watchdog is meant for another process', async () => {
    const fake = fakeNotify();
    const stops = [
      startWatchdog(quiet, { ...fake.env, WATCHDOG_USEC: undefined }),
      startWatchdog(quiet, { ...fake.env, NOTIFY_SOCKET: undefined, WATCHDOG_USEC: '200000' }),
      startWatchdog(quiet, { ...fake.env, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid + 1) }),
    ];
    for (const s of stops) cleanups.push(s);
    await sleep(500);
    expect(fake.pings()).toEqual([]);
  });

  it('warns once when systemd-notify cannot run', async () => {
    const warnings: unknown[] = [];
    const stop = startWatchdog(
      { warn: (o) => warnings.push(o) },
      { NOTIFY_SOCKET: '/run/fake-notify', WATCHDOG_USEC: '200000', PATH: '/nonexistent' },
    );
    cleanups.push(stop);
    await sleep(500);
    expect(warnings).toHaveLength(1);
  });
});

describe('the daemon under a systemd watchdog', () => {
  it('pings from its own process while it runs', async () => {
    const fake = fakeNotify();
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
    cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
    const env = daemonEnv('warn', { BC_HOME: home });
    const child = spawn(process.execPath, [path.resolve('bin/bc.js'), 'daemon'], {
      env: { ...env, PATH: fake.env.PATH, NOTIFY_SOCKET: '/run/fake-notify', WATCHDOG_USEC: '500000' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    });
    const ready = await new Promise<{ type: string }>((resolve, reject) => {
      child.on('message', (m) => resolve(m as { type: string }));
      void exited.then((code) => reject(new Error(`daemon exited (${String(code)}) before ready`)));
    });
    expect(ready.type).toBe('ready');
    const since = Date.now();
    await sleep(2600);
    const pings = fake.pings().filter((p) => p.atMs >= since);
    // every 250 ms: about 10 in 2.6 s (measured 9 under two mutation jobs on 2 cores; 1.3 s gave 4
    // of about 5 against the old bound of 3); the full WATCHDOG_USEC (500 ms) gives at most 6
    expect(pings.length).toBeGreaterThanOrEqual(7);
    expect(new Set(pings.map((p) => p.ppid))).toEqual(new Set([child.pid]));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
