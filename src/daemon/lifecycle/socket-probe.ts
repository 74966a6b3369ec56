/**
 * Tells whether a process listens on a Unix socket. The single-instance lock and the stale-socket
 * check both rest on this: a pidfile or a socket file can outlive its process, but only a live
 * process accepts a connection. A connection accepted is enough: a daemon too busy to answer HTTP
 * is still alive and still owns the path.
 */
import net from 'node:net';

export function socketAnswers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect({ path: socketPath });
    const done = (answer: boolean): void => {
      conn.destroy();
      resolve(answer);
    };
    conn.setTimeout(timeoutMs, () => done(false));
    conn.once('connect', () => done(true));
    conn.once('error', () => done(false));
  });
}
