/**
 * What a worker of `bc daemon --workers N` says to its supervisor on the cluster IPC channel. A
 * worker reports its start-up exactly as a daemon reports it to `bc start` (notify.ts: `ready`
 * or `error`), so the daemon's start-up code is the same in both. Its own messages: `stop` (the
 * control route `POST /v1/shutdown` answered by any worker stops them all) and `alive`, sent from
 * a timer on its event loop, by which the supervisor tells a wedged worker from a busy one.
 */
import type { DaemonMessage } from '../lifecycle/notify.js';

export type WorkerMessage = DaemonMessage | { type: 'stop' } | { type: 'alive' };

/** How long a worker may go without an `alive` before its supervisor kills and replaces it. */
export function workerWatchdogMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.BC_WORKER_WATCHDOG_MS);
  return Number.isInteger(ms) && ms > 0 ? ms : 30_000;
}

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  const type = (m as { type?: unknown } | null)?.type;
  return type === 'ready' || type === 'error' || type === 'stop' || type === 'alive';
}

/** A worker's `bc stop`: the supervisor stops every worker (each drains), then itself. */
export function askSupervisorToStop(): void {
  const msg: WorkerMessage = { type: 'stop' };
  if (process.connected) process.send?.(msg);
}

/** A worker's heartbeat: `alive` six times per watchdog period, from its event loop. */
export function startHeartbeat(env: NodeJS.ProcessEnv = process.env): () => void {
  const msg: WorkerMessage = { type: 'alive' };
  const timer = setInterval(
    () => {
      if (process.connected) process.send?.(msg);
    },
    Math.max(50, Math.floor(workerWatchdogMs(env) / 6)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
