/**
 * Real PostgreSQL 15 and Redis for the tests (SPEC section 9), started on free loopback ports in
 * temporary directories and stopped afterwards, so `npm test` needs nothing running beforehand.
 * PostgreSQL comes from the machine image (`/usr/lib/postgresql/15/bin`); initdb refuses root, so
 * as root the cluster is made and run as the `postgres` user. Redis is installed from Debian's
 * packages when it is missing and the run is root; elsewhere the setup stops with the one command
 * to run. Nothing is skipped: a test that needs a server gets it or the run fails saying why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestServers {
  /** `postgres://bc@127.0.0.1:PORT/bc`: a superuser, trust authentication */
  pgUrl: string;
  /** `redis://127.0.0.1:PORT` */
  redisUrl: string;
  stop(): Promise<void>;
}

const PG_BIN = process.env.BC_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A port nothing listens on now (the OS's choice, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], asPostgres: boolean): void {
  const [file, argv] =
    asPostgres && isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  }
}

async function startPostgres(): Promise<{ url: string; stop: () => void }> {
  if (!fs.existsSync(path.join(PG_BIN, 'initdb'))) {
    throw new Error(
      `PostgreSQL 15 is not installed (no ${PG_BIN}/initdb): install it with \`apt-get install -y postgresql-15\`, or set BC_TEST_PG_BIN`,
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-pg-'));
  if (isRoot) execFileSync('chown', ['postgres', dir]);
  const data = path.join(dir, 'data');
  const port = await freePort();
  run(
    path.join(PG_BIN, 'initdb'),
    ['-D', data, '-A', 'trust', '-U', 'bc', '-N', '--no-instructions', '-E', 'UTF8'],
    true,
  );
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  run(
    path.join(PG_BIN, 'pg_ctl'),
    ['-D', data, '-w', '-l', path.join(dir, 'log'), '-o', opts, 'start'],
    true,
  );
  run(path.join(PG_BIN, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'bc', 'bc'], true);
  return {
    url: `postgres://bc@127.0.0.1:${port}/bc`,
    stop: () => {
      try {
        run(path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], true);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** redis-server's path, installing Debian's package first when missing and root. */
export function ensureRedisServer(): string {
  const found = which('redis-server');
  if (found) return found;
  if (!isRoot) {
    throw new Error(
      'redis-server is not installed and the tests need it: run `sudo apt-get update && sudo apt-get install -y redis-server`',
    );
  }
  process.stderr.write('test setup: installing redis-server from Debian packages (once per machine)...\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'],
  ]) {
    const r = spawnSync('apt-get', args, { encoding: 'utf8', env, timeout: 300_000 });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  }
  const installed = which('redis-server');
  if (!installed) throw new Error('apt-get installed redis-server but it is not on PATH');
  return installed;
}

/**
 * A redis-server of its own on `port` (default: a free one), without persistence; also for a test
 * that stops one and starts it again, empty, on the same port (the run's Redis must stay up).
 */
export async function startRedis(at?: number): Promise<{ url: string; stop: () => void }> {
  const bin = ensureRedisServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-redis-'));
  const port = at ?? (await freePort());
  const pidfile = path.join(dir, 'redis.pid');
  // no persistence: a restart is empty (SCALEOUT.md 2(g)), never a stale snapshot
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'];
  const r = spawnSync(
    bin,
    [...args, '--daemonize', 'yes', '--pidfile', pidfile, '--dir', dir, '--logfile', path.join(dir, 'log')],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`redis-server failed to start: ${r.stderr || r.stdout}`);
  await waitForPort(port, 5000);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => {
      try {
        const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
        if (pid > 0) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startTestServers(): Promise<TestServers> {
  const redis = await startRedis();
  let pg: { url: string; stop: () => void };
  try {
    pg = await startPostgres();
  } catch (err) {
    redis.stop();
    throw err;
  }
  return {
    pgUrl: pg.url,
    redisUrl: redis.url,
    stop: async () => {
      try {
        pg.stop();
      } finally {
        redis.stop();
      }
    },
  };
}
