// The daemon's lifecycle through the real `bc` binary: status/stop without a daemon, start,
// a second start, restart, stop, a start that fails with the daemon's own reason, and `bc daemon`
// in the foreground ending cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BC_BIN, cleanEnv, runBc } from '../support/cli.js';
import { startTestDaemon } from '../support/daemon.js';
import type { TestDaemon } from '../support/daemon.js';

const homes: string[] = [];
function tempHome(): string {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
  homes.push(h);
  return h;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

afterAll(() => {
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
});

describe('without a daemon', () => {
  it('status exits 3 and says how to start it', async () => {
    const home = tempHome();
    const r = await runBc(['status'], { home });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`the daemon is not running (socket ${path.join(home, 'bc.sock')})`);
    expect(r.stderr).toContain('bc start');
    expect((await runBc(['status', '--json'], { home })).code).toBe(3);
  });

  it('stop says it is not running and exits 0', async () => {
    const home = tempHome();
    const r = await runBc(['stop'], { home });
    expect(r).toMatchObject({ code: 0, stdout: 'not running\n' });
    const j = await runBc(['stop', '--json'], { home });
    expect(JSON.parse(j.stdout)).toEqual({ stopped: false, pid: null, forced: false });
  });

  it('an invalid --listen is refused with exit 2 before any daemon is spawned', async () => {
    const home = tempHome();
    const r = await runBc(['start', '--listen', 'nowhere'], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--listen <host:port>' argument 'nowhere' is invalid");
    expect(r.stderr).toContain('hint: see `bc start --help`');
    expect(fs.readdirSync(home)).toEqual([]);
  });

  it("a start that fails prints the daemon's own reason and exits 1", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const home = tempHome();
      const r = await runBc(['start', '--listen', `127.0.0.1:${port}`], { home, timeoutMs: 60_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(r.stdout).toBe('');
      expect((await runBc(['status'], { home })).code).toBe(3);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
  it('a daemon that dies before it is ready: exit 1 with the end of its log', async () => {
    const home = tempHome();
    // Preloaded into every node process of this run; only the spawned daemon (argv[2] === 'daemon') dies.
    const crash = path.join(home, 'crash.cjs');
    fs.writeFileSync(
      crash,
      "if (process.argv[2] === 'daemon') { console.log('simulated crash line'); process.exit(7); }\n",
    );
    const r = await runBc(['start'], { home, env: { NODE_OPTIONS: `--require ${crash}` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the daemon exited with code 7 before it was ready');
    expect(r.stderr).toContain('simulated crash line');
    expect(r.stderr).toContain(path.join(home, 'logs', 'daemon.log'));
  });
});

describe('a background daemon', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon();
  });
  afterAll(async () => {
    await d.cleanup();
  });

  it('status shows what it serves, for humans and as JSON', async () => {
    const human = await d.bc(['status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`pid\\s+${d.pid}\\n`));
    expect(human.stdout).toContain(`gateway   ${d.gatewayUrl}`);
    expect(human.stdout).toContain(`socket    ${d.socket}`);
    const s = JSON.parse((await d.bc(['status', '--json'])).stdout) as Record<string, unknown>;
    for (const f of [
      'pid',
      'version',
      'uptime_s',
      'listen',
      'socket',
      'store',
      'channels',
      'keys',
      'requests',
    ]) {
      expect(s).toHaveProperty(f);
    }
    expect(s).toMatchObject({ pid: d.pid, socket: d.socket, channels: 0, keys: 0, requests: 0 });
    expect(s.store).toBe(`sqlite:${path.join(d.home, 'burncloud.db')}`);
    expect(`http://${String(s.listen)}`).toBe(d.gatewayUrl);
  });

  it('the gateway answers at the reported address', async () => {
    const res = await fetch(`${d.gatewayUrl}/healthz`);
    expect(res.status).toBe(200);
  });

  it('bc top --once --json prints one metrics snapshot (the TUI is wired into the CLI)', async () => {
    const r = await d.bc(['top', '--once', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(typeof JSON.parse(r.stdout)).toBe('object');
  });

  it('a second start says it is already running and exits 0', async () => {
    const r = await d.bc(['start']);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain(`already running (pid ${d.pid})`);
    const j = JSON.parse((await d.bc(['start', '--json'])).stdout) as Record<string, unknown>;
    expect(j).toMatchObject({ started: false, pid: d.pid });
  });

  it('restart replaces the process; stop ends it and removes the socket', async () => {
    const r = await d.bc(['restart', '--json'], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const started = JSON.parse(r.stdout) as { started: boolean; pid: number; socket: string };
    expect(started.started).toBe(true);
    expect(started.pid).not.toBe(d.pid);
    expect(alive(d.pid)).toBe(false);
    expect(started.socket).toBe(d.socket);

    const stop = await d.bc(['stop']);
    expect(stop).toMatchObject({ code: 0, stdout: `stopped (pid ${started.pid})\n` });
    expect(alive(started.pid)).toBe(false);
    expect(fs.existsSync(d.socket)).toBe(false);
    expect((await d.bc(['status'])).code).toBe(3);
    // the daemon's stdout and stderr went to its log file, not to the terminal of `bc start`
    expect(fs.existsSync(path.join(d.home, 'logs', 'daemon.log'))).toBe(true);
    expect(r.stderr).toBe('');
  });
});

describe('bc daemon (foreground)', () => {
  it('serves until SIGTERM, then exits 0', async () => {
    const home = tempHome();
    const env = { ...cleanEnv(), BC_HOME: home, BC_LISTEN: '127.0.0.1:0', BC_LOG_LEVEL: 'warn' };
    const child = spawn(process.execPath, [BC_BIN, 'daemon'], { env, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      let status = await runBc(['status', '--json'], { home });
      for (let i = 0; status.code !== 0 && i < 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = await runBc(['status', '--json'], { home });
      }
      expect(status.code).toBe(0);
      expect((JSON.parse(status.stdout) as { pid: number }).pid).toBe(child.pid);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
