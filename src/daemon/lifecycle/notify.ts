/**
 * Tells whoever started the daemon how startup went. `bc start` spawns the daemon with an IPC
 * channel and waits for one message: `{type:'ready', pid, listen, socket}` or
 * `{type:'error', message}`. Run in a terminal (no IPC), the daemon prints a short human note on
 * stderr instead, stdout being reserved for JSON log lines.
 */

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
