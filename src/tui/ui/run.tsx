/**
 * Entry point of `bc ui`, loaded lazily by the CLI so other commands never load React. It runs
 * until `q` or Ctrl-C; if the daemon goes away, the screens say so and reconnect by themselves.
 */
import { createDaemonClient } from '../../shared/daemon-client.js';
import { BcError } from '../../shared/errors.js';
import { themeFromEnv } from '../theme.js';
import { interactiveTerminal, runFullScreen } from '../terminal.js';
import type { ManagementClient } from '../client.js';
import { UiApp } from './ui-app.js';

export interface RunUiOptions {
  socket: string;
}

export async function runUi(opts: RunUiOptions): Promise<number> {
  if (!interactiveTerminal()) {
    throw new BcError(
      'INVALID_REQUEST',
      'bc ui needs an interactive terminal (for scripts, use the other bc commands)',
    );
  }
  // one undici Client is one connection, and the metrics stream holds its connection for good:
  // management calls get a client of their own so they never queue behind the stream
  const calls = createDaemonClient({ socket: opts.socket, timeoutMs: 30_000 });
  const stream = createDaemonClient({ socket: opts.socket, timeoutMs: 30_000 });
  const client: ManagementClient = { ...calls, metricsStream: (signal) => stream.metricsStream(signal) };
  try {
    await runFullScreen(<UiApp client={client} theme={themeFromEnv()} />, 15);
    return 0;
  } finally {
    await Promise.all([calls.close(), stream.close()]);
  }
}
