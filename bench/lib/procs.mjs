// Child processes of the benchmark: each is spawned pinned to a core (taskset), in its own
// process group, and recorded, so that stopAll() (normal end), a signal (Ctrl-C) or a crash ends
// every group we started and nothing is left running. Also: free ports, readiness waits, VmRSS.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { setInterval, clearInterval } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';

const live = new Set();
const tempDirs = new Set();

/** A temporary folder removed at exit whatever happens (Ctrl-C included), unless kept. */
export function tempDir(prefix) {
  const dir = fs.mkdtempSync(prefix);
  tempDirs.add(dir);
  return dir;
}

export function keepDir(dir) {
  tempDirs.delete(dir);
}

function removeTempDirs() {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** Spawns `cmd args` on `core` (null: unpinned) as a process-group leader; output to `logFile`. */
export function start(name, cmd, args, { core = null, env = {}, logFile, cwd } = {}) {
  const argv = core === null ? [cmd, ...args] : ['-c', String(core), cmd, ...args];
  const out = logFile === undefined ? 'ignore' : fs.openSync(logFile, 'a');
  const child = spawn(core === null ? cmd : 'taskset', argv, {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', out],
  });
  if (typeof out === 'number') fs.closeSync(out);
  const proc = { name, child, pid: child.pid, exited: false, stdout: '' };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    if (proc.stdout.length < 1 << 20) proc.stdout += d;
    if (logFile !== undefined) fs.appendFileSync(logFile, d);
  });
  child.on('exit', (code, signal) => {
    proc.exited = true;
    proc.exitCode = code ?? signal;
    live.delete(proc);
  });
  child.on('error', (e) => {
    proc.exited = true;
    proc.error = e;
    live.delete(proc);
  });
  live.add(proc);
  return proc;
}

/** Waits for a JSON line with {"ready":true} on the child's stdout; returns it. */
export async function waitReadyLine(proc, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exited)
      throw new Error(`${proc.name} exited (${proc.exitCode ?? proc.error}) before it was ready`);
    for (const line of proc.stdout.split('\n')) {
      if (line.startsWith('{') && line.includes('"ready":true')) return JSON.parse(line);
    }
    await delay(20);
  }
  throw new Error(`${proc.name} not ready after ${timeoutMs} ms`);
}

/** Polls `url` until it answers `ok(status)`; throws if the process dies or time runs out. */
export async function waitHttp(proc, url, timeoutMs = 20_000, ok = (s) => s < 500) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exited)
      throw new Error(`${proc.name} exited (${proc.exitCode ?? proc.error}) before it was ready`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (ok(r.status)) return;
    } catch {
      /* not up yet */
    }
    await delay(50);
  }
  throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms`);
}

/** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once the leader is gone. */
export async function stop(proc, graceMs = 5000) {
  if (proc.exited) return killGroup(proc.pid, 'SIGKILL');
  const gone = new Promise((r) => proc.child.once('exit', r));
  killGroup(proc.pid, 'SIGTERM');
  const t = delay(graceMs).then(() => 'late');
  if ((await Promise.race([gone, t])) === 'late') killGroup(proc.pid, 'SIGKILL');
  await Promise.race([gone, delay(2000)]);
  killGroup(proc.pid, 'SIGKILL'); // stragglers the leader left behind in its group
  live.delete(proc);
}

function killGroup(pid, sig) {
  try {
    process.kill(-pid, sig);
  } catch {
    /* already gone */
  }
}

export async function stopAll() {
  await Promise.all([...live].map((p) => stop(p)));
}

/** Last resort on exit paths where nothing async can run. */
export function killAllNow() {
  for (const p of live) killGroup(p.pid, 'SIGKILL');
  live.clear();
}

let hooked = false;
/** Ctrl-C, SIGTERM, uncaught errors and plain exit all end every started group. */
export function installCleanup() {
  if (hooked) return;
  hooked = true;
  const onSignal = (sig) => {
    process.stderr.write(`\nbench: ${sig}, stopping everything it started\n`);
    stopAll().finally(() => process.exit(130));
    setTimeout(() => {
      killAllNow();
      process.exit(130);
    }, 8000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', () => {
    killAllNow();
    removeTempDirs();
  });
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resident set size of `pid` in MiB from /proc/PID/status (VmRSS), or null if it is gone. */
export function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Runs a command to completion without blocking; the child is stopped by cleanup like any other. */
export async function runToEnd(name, cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const proc = start(name, cmd, args, opts);
  const code = await new Promise((resolve) => {
    if (proc.exited) resolve(proc.exitCode);
    proc.child.once('close', (c, sig) => resolve(c ?? sig));
    proc.child.once('error', (e) => resolve(String(e)));
  });
  return { status: code, stdout: proc.stdout, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** Runs a command to completion (synchronously) and returns {status, stdout, stderr, ms}. */
export function runSync(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    error: r.error,
    ms: Number(process.hrtime.bigint() - t0) / 1e6,
  };
}

/** Pins this process (the orchestrator) to `core` so it stays off the server's core. */
export function pinSelf(core) {
  runSync('taskset', ['-a', '-cp', String(core), String(process.pid)]);
}

export function hasCommand(cmd) {
  return runSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** CPU time (user + system) of `pid` in clock ticks, from /proc/PID/stat; null if gone. */
export function cpuTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/** Waits until the processes used under ~5% CPU for 200 ms (a backlog drained), at most maxMs. */
export async function waitIdle(pids, maxMs = 15_000) {
  const until = Date.now() + maxMs;
  const total = () => pids.reduce((n, p) => n + (cpuTicks(p) ?? 0), 0);
  let before = total();
  while (Date.now() < until) {
    await delay(200);
    const now = total();
    if (now - before <= 1) return true;
    before = now;
  }
  return false;
}

/** Samples VmRSS of `pid` every `everyMs`; stop() returns [{t_s, mib}]. */
export function sampleRss(pid, everyMs = 1000) {
  const t0 = Date.now();
  const samples = [];
  const take = () => {
    const mib = rssMiB(pid);
    if (mib !== null) samples.push({ t_s: (Date.now() - t0) / 1000, mib });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}
