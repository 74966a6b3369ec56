/**
 * What a worker of `bc daemon --workers N` says to its supervisor on the cluster IPC channel. A
 * worker reports its start-up exactly as a daemon reports it to `bc start` (notify.ts: `ready`
 * or `error`), so the daemon's start-up code is the same in both; the one message of its own is
 * `stop`: the control route `POST /v1/shutdown` answered by any worker stops them all.
 */
import type { DaemonMessage } from '../lifecycle/notify.js';

export type WorkerMessage = DaemonMessage | { type: 'stop' };

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  const type = (m as { type?: unknown } | null)?.type;
  return type === 'ready' || type === 'error' || type === 'stop';
}

/** A worker's `bc stop`: the supervisor stops every worker (each drains), then itself. */
export function askSupervisorToStop(): void {
  const msg: WorkerMessage = { type: 'stop' };
  if (process.connected) process.send?.(msg);
}
