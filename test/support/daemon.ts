/**
 * A real background daemon for CLI and end-to-end tests, started the way users start it:
 * `bc start` with a fresh temporary BC_HOME and `BC_LISTEN=127.0.0.1:0`, its bound address read
 * back from `bc status --json`. `bc(...)` runs the CLI against it; `cleanup()` stops it (killing
 * it if it will not stop) and removes the home. `store: 'postgres'` puts it on a fresh PostgreSQL
 * database instead of the home's SQLite file (test/support/store-matrix.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBc } from './cli.js';
import type { RunBcOptions, RunBcResult } from './cli.js';
import { storeEnv, type StoreKind } from './store-matrix.js';

export interface TestDaemon {
  home: string;
  socket: string;
  /** http://127.0.0.1:PORT */
  gatewayUrl: string;
  pid: number;
  /** the store URL it was given (BC_DB), undefined for the home's SQLite file */
  db: string | undefined;
  /** runBc bound to this daemon's home and environment */
  bc(args: string[], opts?: Omit<RunBcOptions, 'home'>): Promise<RunBcResult>;
  /** `bc stop`; throws if it fails */
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** stops whichever daemon serves this home (also one a test restarted) and removes the home */
  cleanup(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie nobody reaped yet counts as gone.
    return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

/** `bc start` runs the daemon with its home as working folder. */
function worksIn(pid: number, home: string): boolean {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`) === fs.realpathSync(home);
  } catch {
    return false;
  }
}

function pidfilePid(home: string): number | undefined {
  try {
    const doc = JSON.parse(fs.readFileSync(path.join(home, 'bc.pid'), 'utf8')) as { pid?: unknown };
    return typeof doc.pid === 'number' ? doc.pid : undefined;
  } catch {
    return undefined;
  }
}

function fail(what: string, r: RunBcResult, home: string): never {
  let log = '';
  try {
    log = fs.readFileSync(path.join(home, 'logs', 'daemon.log'), 'utf8').slice(-2000);
  } catch {
    // no log yet
  }
  throw new Error(`${what} failed (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}\nlog: ${log}`);
}

export async function startTestDaemon(
  opts: { env?: Record<string, string>; store?: StoreKind } = {},
): Promise<TestDaemon> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
  const env: Record<string, string> = {
    BC_LISTEN: '127.0.0.1:0',
    BC_LOG_LEVEL: 'warn',
    ...(await storeEnv(opts.store)),
    ...opts.env,
  };
  const bc = (args: string[], o: Omit<RunBcOptions, 'home'> = {}): Promise<RunBcResult> =>
    runBc(args, { ...o, home, env: { ...env, ...o.env } });
  const started = await bc(['start'], { timeoutMs: 60_000 });
  if (started.code !== 0) {
    fs.rmSync(home, { recursive: true, force: true });
    fail('bc start', started, home);
  }
  const st = await bc(['status', '--json']);
  if (st.code !== 0) fail('bc status', st, home);
  const status = JSON.parse(st.stdout) as { pid: number; listen: string; socket: string };
  const daemon: TestDaemon = {
    home,
    socket: status.socket,
    gatewayUrl: `http://${status.listen}`,
    pid: status.pid,
    db: env.BC_DB,
    bc,
    async stop() {
      const r = await bc(['stop'], { timeoutMs: 60_000 });
      if (r.code !== 0) fail('bc stop', r, home);
    },
    kill(signal) {
      process.kill(status.pid, signal);
    },
    async cleanup() {
      // Stop whatever daemon serves this home now: a test may have killed the first one and
      // started another (`bc start`), whose pid only the pidfile knows.
      const pids = new Set([status.pid, pidfilePid(home)].filter((p): p is number => p !== undefined));
      await bc(['stop', '--timeout', '10s'], { timeoutMs: 20_000 }).catch(() => undefined);
      for (const pid of pids) {
        // A pid that died earlier may have been reused: only a process working in this home is ours.
        if ((await waitGone(pid, 2000)) || !worksIn(pid, home)) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await waitGone(pid, 2000);
      }
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
  return daemon;
}
