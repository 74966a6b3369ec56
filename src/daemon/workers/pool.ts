/**
 * The N worker processes of `bc daemon --workers N`, started with node:cluster so that they all
 * accept on one gateway port and one control socket. The supervisor creates each listening socket
 * and shares it; the workers accept from it themselves (SCHED_NONE). Node's default, round-robin,
 * has the supervisor accept every connection and pass it on over IPC: that puts one process on
 * every connection's path, and a connection passed to a worker that dies before taking it stays
 * open in the supervisor, unanswered, for as long as the client waits. Each worker is the ordinary daemon (main.ts) with its index
 * in BC_WORKER_INDEX (identity.ts); the pool starts them, waits for every `ready`, restarts one
 * that dies later (after 1 s, doubling while it keeps dying within a minute of its start, at most
 * 30 s apart) or stops sending its heartbeat (a wedged event loop: killed, then restarted, as
 * systemd's watchdog does for a single daemon; BC_WORKER_WATCHDOG_MS, default 30 s), and stops them all: SIGTERM (each drains its requests), SIGKILL after the deadline.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { BcError } from '../../shared/errors.js';
import { WORKER_COUNT_ENV, WORKER_INDEX_ENV } from './identity.js';
import { isWorkerMessage, workerWatchdogMs } from './messages.js';

/** The socket the supervisor creates for the workers is never, even briefly, open to others. */
const SOCKET_UMASK = 0o177;
const FIRST_RESTART_MS = 1_000;
const MAX_RESTART_MS = 30_000;
/** A worker that lived this long before dying restarts after FIRST_RESTART_MS again. */
const STABLE_MS = 60_000;

interface Slot {
  index: number;
  worker: Worker | null;
  startedAt: number;
  /** when its last heartbeat (or `ready`) arrived */
  seenAt: number;
  restartMs: number;
  timer: NodeJS.Timeout | null;
}

export interface PoolReady {
  /** the gateway's bound address (every worker reports the same) */
  listen: string;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private stopping = false;
  private readonly umask: number;
  private readonly watchdogMs = workerWatchdogMs();
  private watchdog: NodeJS.Timeout | null = null;
  /** a worker asked for a stop (`bc stop` answered by it) */
  onStopRequest: () => void = () => undefined;

  constructor(
    count: number,
    private readonly log: Logger,
  ) {
    this.slots = Array.from({ length: count }, (_, index) => ({
      index,
      worker: null,
      startedAt: 0,
      seenAt: 0,
      restartMs: FIRST_RESTART_MS,
      timer: null,
    }));
    this.umask = process.umask(SOCKET_UMASK);
    cluster.schedulingPolicy = cluster.SCHED_NONE;
  }

  /** Starts every worker; resolves once all are ready, rejects with the first one's reason for failing. */
  start(): Promise<PoolReady> {
    return new Promise((resolve, reject) => {
      let ready = 0;
      let listen = '';
      let failed = false;
      const fail = (message: string): void => {
        if (failed) return;
        failed = true;
        reject(new BcError('STARTUP_FAILED', message));
      };
      for (const slot of this.slots) {
        const w = this.fork(slot);
        const onMessage = (m: unknown): void => {
          if (!isWorkerMessage(m)) return;
          if (m.type === 'error') fail(`worker ${slot.index}: ${m.message}`);
          if (m.type !== 'ready') return;
          listen = m.listen;
          w.off('message', onMessage);
          w.off('exit', onExit);
          this.watch(slot, w);
          if (++ready === this.slots.length && !failed) {
            this.startWatchdog();
            resolve({ listen });
          }
        };
        const onExit = (code: number | null, signal: string | null): void => {
          fail(`worker ${slot.index} exited while starting (${signal ?? `code ${code}`})`);
        };
        w.on('message', onMessage);
        w.on('exit', onExit);
      }
    });
  }

  /** Sends a signal to every live worker (SIGHUP: reload). */
  signal(sig: NodeJS.Signals): void {
    for (const s of this.slots) if (s.worker && !s.worker.isDead()) s.worker.process.kill(sig);
  }

  /**
   * Stops every worker: SIGTERM (each drains for up to its `--drain`), SIGKILL to those still
   * alive after `deadlineMs`. Resolves with 0 if every worker exited cleanly, else 1.
   */
  async stop(deadlineMs: number): Promise<number> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    let code = 0;
    const exits = this.slots.map((s) => {
      if (s.timer) clearTimeout(s.timer);
      const w = s.worker;
      if (w === null || w.isDead()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const kill = setTimeout(() => {
          this.log.error(
            { worker: s.index, worker_pid: w.process.pid },
            'worker did not stop in time: killing it',
          );
          w.process.kill('SIGKILL');
        }, deadlineMs);
        w.once('exit', (exitCode: number | null) => {
          clearTimeout(kill);
          if (exitCode !== 0) code = 1;
          resolve();
        });
        w.process.kill('SIGTERM');
      });
    });
    await Promise.all(exits);
    process.umask(this.umask);
    return code;
  }

  /** Kills every worker at once (a second SIGINT). */
  kill(): void {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.signal('SIGKILL');
  }

  /** Pids of the live workers, by index. */
  pids(): (number | null)[] {
    return this.slots.map((s) => s.worker?.process.pid ?? null);
  }

  private fork(slot: Slot): Worker {
    // the worker itself creates files and folders with the daemon's usual umask
    process.umask(this.umask);
    try {
      slot.worker = cluster.fork({
        [WORKER_INDEX_ENV]: String(slot.index),
        [WORKER_COUNT_ENV]: String(this.slots.length),
      });
    } finally {
      process.umask(SOCKET_UMASK);
    }
    slot.startedAt = Date.now();
    return slot.worker;
  }

  /** Kills a worker whose heartbeat stopped (its exit then restarts it). */
  private startWatchdog(): void {
    this.watchdog = setInterval(
      () => {
        for (const s of this.slots) {
          const w = s.worker;
          if (w === null || w.isDead() || s.seenAt === 0) continue;
          if (Date.now() - s.seenAt <= this.watchdogMs) continue;
          this.log.error(
            { worker: s.index, worker_pid: w.process.pid, silent_ms: Date.now() - s.seenAt },
            'worker stopped answering: killing it',
          );
          s.seenAt = 0;
          w.process.kill('SIGKILL');
        }
      },
      Math.max(50, Math.floor(this.watchdogMs / 6)),
    );
    this.watchdog.unref();
  }

  /** After its start: heartbeats, stop requests, and a restart if it dies while the pool is not stopping. */
  private watch(slot: Slot, w: Worker): void {
    slot.seenAt = Date.now();
    w.on('message', (m: unknown) => {
      if (!isWorkerMessage(m)) return;
      if (m.type === 'alive' || m.type === 'ready') slot.seenAt = Date.now();
      if (m.type === 'stop') this.onStopRequest();
    });
    w.once('exit', (code: number | null, signal: string | null) => {
      if (this.stopping) return;
      const lived = Date.now() - slot.startedAt;
      slot.restartMs = lived >= STABLE_MS ? FIRST_RESTART_MS : slot.restartMs;
      this.log.error(
        { worker: slot.index, worker_pid: w.process.pid, code, signal, restart_in_ms: slot.restartMs },
        'worker died: restarting it',
      );
      slot.timer = setTimeout(() => {
        slot.timer = null;
        if (this.stopping) return;
        const next = this.fork(slot);
        next.on('message', (m: unknown) => {
          if (isWorkerMessage(m) && m.type === 'ready') {
            this.log.info({ worker: slot.index, worker_pid: next.process.pid }, 'worker restarted');
          }
        });
        this.watch(slot, next);
      }, slot.restartMs);
      slot.restartMs = Math.min(slot.restartMs * 2, MAX_RESTART_MS);
    });
  }
}
