// PostgreSQL 15 and Redis for scenario H, started the way the tests start them
// (test/support/servers.ts): PostgreSQL from /usr/lib/postgresql/15/bin in a temporary folder
// (as the `postgres` user when the bench runs as root: initdb refuses root), without fsync like
// the tests, and a redis-server without persistence, both on free loopback ports, in the
// foreground as processes of the bench (pinned to `core`, stopped with everything else).
// storesMissing() says why they cannot run here, so the scenario can be skipped with a reason.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, hasCommand, runSync, start, stop } from './procs.mjs';

const PG_BIN = process.env.BC_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const isRoot = process.getuid?.() === 0;
const asPg = (cmd, args) => (isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);

/** null when PostgreSQL 15 and redis-server are both here, else why not. */
export function storesMissing() {
  if (!fs.existsSync(path.join(PG_BIN, 'initdb')))
    return `PostgreSQL 15 is not installed (no ${PG_BIN}/initdb; apt-get install -y postgresql-15)`;
  for (const cmd of ['redis-server', 'redis-cli'])
    if (!hasCommand(cmd)) return `${cmd} is not installed (apt-get install -y redis-server)`;
  if (isRoot && runSync('id', ['postgres']).status !== 0)
    return 'running as root but there is no postgres user to run PostgreSQL as';
  return null;
}

function pgRun(bin, args) {
  const [cmd, argv] = asPg(path.join(PG_BIN, bin), args);
  const r = runSync(cmd, argv, { timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
}

/** A PostgreSQL server in `dir` with databases `dbs`; {urls: {db: url}, proc, stop()}. */
export async function startPostgres(dir, dbs, { core, logFile }) {
  if (isRoot) execFileSync('chown', ['postgres', dir]);
  const data = path.join(dir, 'data');
  const port = await freePort();
  pgRun('initdb', ['-D', data, '-A', 'trust', '-U', 'bc', '-N', '--no-instructions', '-E', 'UTF8']);
  const opts = ['-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'];
  for (const o of ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=200'])
    opts.push('-c', o);
  const [cmd, argv] = asPg(path.join(PG_BIN, 'postgres'), ['-D', data, ...opts]);
  const proc = start('postgres', cmd, argv, { core, logFile });
  for (const until = Date.now() + 30_000; ;) {
    if (proc.exited)
      throw new Error(`postgres exited (${proc.exitCode}) before it was ready: see ${logFile}`);
    if (runSync(path.join(PG_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)]).status === 0) break;
    if (Date.now() > until) throw new Error(`postgres not ready on port ${port} after 30 s`);
    await delay(100);
  }
  for (const db of dbs) pgRun('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'bc', db]);
  const urls = Object.fromEntries(dbs.map((db) => [db, `postgres://bc@127.0.0.1:${port}/${db}`]));
  return {
    urls,
    proc,
    /** the postmaster and its backends now (CPU accounting) */
    pids: () => {
      const master = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return [master, ...childrenOf(master)];
    },
    stop: async () => {
      // a fast shutdown (clients cut, no checkpoint wait); the group's SIGKILL is the backstop
      const [c, a] = asPg(path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      runSync(c, a, { timeout: 30_000 });
      await stop(proc);
    },
  };
}

function childrenOf(pid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** A redis-server without persistence on a free loopback port; {url, port, proc, commands(), stop()}. */
export async function startRedis(dir, { core, logFile }) {
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'];
  const proc = start('redis', 'redis-server', [...args, '--dir', dir], { core, logFile });
  for (const until = Date.now() + 10_000; ;) {
    if (proc.exited) throw new Error(`redis-server exited (${proc.exitCode}) before it was ready`);
    if (runSync('redis-cli', ['-p', String(port), 'ping']).stdout.trim() === 'PONG') break;
    if (Date.now() > until) throw new Error(`redis-server not ready on port ${port} after 10 s`);
    await delay(50);
  }
  /** commands Redis has processed since it started (INFO stats) */
  const commands = () =>
    Number(
      /total_commands_processed:(\d+)/.exec(
        runSync('redis-cli', ['-p', String(port), 'info', 'stats']).stdout,
      )?.[1],
    );
  return { url: `redis://127.0.0.1:${port}`, port, proc, commands, stop: () => stop(proc) };
}

/** How many Redis keys start with `prefix` (evidence that a target coordinates through it). */
export function redisKeyCount(port, prefix) {
  const r = runSync('redis-cli', ['-p', String(port), '--scan', '--pattern', `${prefix}*`]);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}
