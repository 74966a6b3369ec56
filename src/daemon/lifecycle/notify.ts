/**
 * Tells whoever started the daemon how startup went. `bc start` spawns the daemon with an IPC
 * channel and waits for one message: `{type:'ready', pid, listen, socket}` or
 * `{type:'error', message}`. Run in a terminal (no IPC), the daemon prints a short human note on
 * stderr instead, stdout being reserved for JSON log lines. Under systemd it also feeds the
 * service watchdog (startWatchdog), so a daemon whose event loop is stuck gets restarted.
 */
import { spawn } from 'node:child_process';

export interface ReadyMessage {
  type: 'ready';
  pid: number;
  listen: string;
  socket: string;
}

export interface ErrorMessage {
  type: 'error';
  message: string;
}

export type DaemonMessage = ReadyMessage | ErrorMessage;

export async function announceReady(info: Omit<ReadyMessage, 'type'>): Promise<void> {
  if (await sendToParent({ type: 'ready', ...info })) {
    // The parent disconnects once it has read this; the channel alone must not keep us alive.
    process.channel?.unref();
    return;
  }
  process.stderr.write(
    [
      `BurnCloud gateway listening on http://${info.listen}`,
      `control socket: ${info.socket}`,
      'next: npx bc channel add --name openai --type openai --key - --models gpt-4o-mini',
      '',
    ].join('\n'),
  );
}

/** Reports a startup failure on IPC (when connected) and on stderr, as one line. */
export async function reportStartupFailure(message: string): Promise<void> {
  const line = message.replace(/\s*\n\s*/g, ' ').trim();
  if (await sendToParent({ type: 'error', message: line })) {
    // The daemon is exiting: let go of the channel so it cannot keep the process alive.
    if (process.connected) process.disconnect();
  }
  process.stderr.write(`bc daemon: ${line}\n`);
}

/** Sends on the IPC channel when there is one; resolves whether the message went out. */
function sendToParent(msg: DaemonMessage): Promise<boolean> {
  if (process.send === undefined || !process.connected) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      process.send?.(msg, (err: Error | null) => resolve(err === null));
    } catch {
      resolve(false);
    }
  });
}

/** Where a failed watchdog ping is reported (the daemon's logger). */
export interface WatchdogLog {
  warn(obj: object, msg: string): void;
}

/**
 * systemd's watchdog (`WatchdogSec=` in the unit, shared/systemd-unit.ts): while the manager set
 * WATCHDOG_USEC for this process, `WATCHDOG=1` goes to NOTIFY_SOCKET at half that interval from a
 * timer on the event loop, so a loop that stops turning (a wedged daemon) stops the pings and
 * systemd kills and restarts it, while a live one, even one refusing requests, keeps pinging.
 * Node cannot send on a Unix datagram socket, so each ping runs `systemd-notify WATCHDOG=1`, which
 * sends on behalf of its parent and waits until the manager has read the message (the unit says
 * NotifyAccess=all). Returns the function that stops the pings; a no-op when not under a watchdog.
 */
export function startWatchdog(log: WatchdogLog, env: NodeJS.ProcessEnv = process.env): () => void {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.NOTIFY_SOCKET || !Number.isFinite(usec) || usec <= 0) return () => undefined;
  // the watchdog is meant for another process (a parent that exec'd us with its environment)
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return () => undefined;
  const everyMs = Math.max(50, Math.floor(usec / 2000));
  let inFlight = false;
  let warned = false;
  const failed = (why: string): void => {
    if (warned) return;
    warned = true;
    log.warn({ why }, 'watchdog ping failed: systemd may restart the daemon');
  };
  const ping = (): void => {
    if (inFlight) return;
    inFlight = true;
    const child = spawn('systemd-notify', ['WATCHDOG=1'], { stdio: 'ignore', env, timeout: everyMs });
    child.unref();
    child.on('error', (err) => {
      inFlight = false;
      failed(err.message);
    });
    child.on('close', (code) => {
      inFlight = false;
      if (code === 0) warned = false;
      else if (code !== null) failed(`systemd-notify exited with ${code}`);
    });
  };
  ping();
  const timer = setInterval(ping, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
