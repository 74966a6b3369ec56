/**
 * Starting and stopping the background daemon, as pm2 does it without its callbacks: ask the
 * socket first; if nothing answers, spawn `bc daemon` detached with an IPC channel and its output
 * appended to $BC_HOME/logs/daemon.log, wait for its one `ready` or `error` message, then
 * disconnect and unref so this process can exit. Stopping asks the daemon to shut down over the
 * socket and waits for its pid to go, falling back to SIGTERM.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StatusView } from '../shared/control-api.js';
import { DaemonError } from '../shared/daemon-client.js';
import { BcError } from '../shared/errors.js';
import { isProcessAlive, readPidfile } from '../shared/pidfile.js';
import { bcBinPath } from './bin-path.js';
import type { CliContext } from './context.js';

export interface ReadyInfo {
  pid: number;
  listen: string;
  socket: string;
}

export interface StartOptions {
  listen?: string;
  drainMs?: number;
  /** gateway processes (`--workers`; above 1 needs BC_REDIS) */
  workers?: number;
  /** how long to wait for the daemon's `ready` */
  readyTimeoutMs?: number;
}

export type StartOutcome =
  { started: false; status: StatusView } | { started: true; ready: ReadyInfo; log: string };

/** The running daemon's status, or undefined when nothing answers on the socket. */
export async function probe(ctx: CliContext): Promise<StatusView | undefined> {
  try {
    return await ctx.client().status();
  } catch (err) {
    if (err instanceof BcError && err.code === 'DAEMON_UNREACHABLE') return undefined;
    throw err;
  }
}

function daemonArgs(ctx: CliContext, opts: StartOptions): string[] {
  const args = [bcBinPath(), 'daemon'];
  if (ctx.homeFlag !== undefined) args.push('--home', path.resolve(ctx.homeFlag));
  const socket = ctx.socketOverride;
  if (socket !== undefined) args.push('--socket', path.resolve(socket));
  if (opts.listen !== undefined) args.push('--listen', opts.listen);
  if (opts.drainMs !== undefined) args.push('--drain', `${opts.drainMs}ms`);
  if (opts.workers !== undefined) args.push('--workers', String(opts.workers));
  return args;
}

/** The last lines of the daemon's log, to explain a daemon that died while starting. */
export function logTail(file: string, maxLines = 15): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, 8192);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return buf.toString('utf8').trimEnd().split('\n').slice(-maxLines).join('\n');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

function isMessage(
  m: unknown,
): m is { type: string; message?: unknown; pid?: unknown; listen?: unknown; socket?: unknown } {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

/** Spawns the daemon and resolves with its `ready` message; rejects with its reason. */
function spawnAndWait(ctx: CliContext, opts: StartOptions, home: string, log: string): Promise<ReadyInfo> {
  fs.mkdirSync(path.dirname(log), { recursive: true, mode: 0o700 });
  const fd = fs.openSync(log, 'a', 0o600);
  const child = spawn(process.execPath, daemonArgs(ctx, opts), {
    detached: true,
    stdio: ['ignore', fd, fd, 'ipc'],
    env: ctx.env,
    cwd: home,
  });
  fs.closeSync(fd);
  return new Promise<ReadyInfo>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      finish(new BcError('STARTUP_FAILED', `the daemon did not become ready in time; see ${log}`));
    }, opts.readyTimeoutMs ?? 60_000);
    const finish = (result: ReadyInfo | Error): void => {
      clearTimeout(timer);
      child.removeAllListeners();
      child.on('error', () => undefined);
      if (child.connected) child.disconnect();
      child.unref();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    child.on('message', (m: unknown) => {
      if (!isMessage(m)) return;
      if (m.type === 'ready') {
        finish({ pid: Number(m.pid), listen: String(m.listen), socket: String(m.socket) });
      } else if (m.type === 'error') {
        finish(
          new BcError(
            'STARTUP_FAILED',
            typeof m.message === 'string' ? m.message : 'the daemon failed to start',
          ),
        );
      }
    });
    child.on('error', (err) =>
      finish(new BcError('STARTUP_FAILED', `cannot run the daemon: ${err.message}`)),
    );
    child.on('exit', (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
      const tail = logTail(log);
      const detail = tail ? `; the end of ${log}:\n${tail}` : `; see ${log}`;
      finish(new BcError('STARTUP_FAILED', `the daemon ${how} before it was ready${detail}`));
    });
  });
}

export async function startDaemon(ctx: CliContext, opts: StartOptions): Promise<StartOutcome> {
  const running = await probe(ctx);
  if (running) return { started: false, status: running };
  const paths = ctx.paths();
  fs.mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  const log = path.join(paths.logDir, 'daemon.log');
  ctx.out.progress('starting…');
  const ready = await spawnAndWait(ctx, opts, paths.home, log);
  return { started: true, ready, log };
}

/** Gone, or a zombie nobody has reaped yet (containers whose pid 1 does not reap). */
export function processGone(pid: number): boolean {
  if (!isProcessAlive(pid)) return true;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^\d+ \(.*\) Z/s.test(stat);
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (processGone(pid)) return true;
    await sleep(50);
  }
  return processGone(pid);
}

export interface StopOutcome {
  stopped: boolean;
  pid: number | null;
  /** SIGTERM had to be sent after the shutdown request timed out */
  forced: boolean;
}

export async function stopDaemon(ctx: CliContext, timeoutMs: number): Promise<StopOutcome> {
  const status = await probe(ctx);
  if (!status) return { stopped: false, pid: null, forced: false };
  ctx.out.progress(`stopping (pid ${status.pid})…`);
  try {
    await ctx.client().shutdown();
  } catch (err) {
    // The daemon may hang up as it closes the socket: that is the shutdown happening.
    if (err instanceof DaemonError) throw err;
  }
  if (await waitGone(status.pid, timeoutMs)) return { stopped: true, pid: status.pid, forced: false };
  const pidfile = readPidfile(ctx.paths().pidfile);
  if (pidfile?.pid === status.pid && !processGone(status.pid)) process.kill(status.pid, 'SIGTERM');
  if (await waitGone(status.pid, 5000)) return { stopped: true, pid: status.pid, forced: true };
  throw new BcError(
    'INTERNAL',
    `the daemon (pid ${status.pid}) did not stop; it may still be draining requests`,
  );
}
