/**
 * Entry point of `bc ui`, loaded lazily by the CLI so other commands never load React. It runs
 * until `q` or Ctrl-C; if the daemon goes away, the screens say so and reconnect by themselves.
 */
import { render } from 'ink';
import { createDaemonClient } from '../../shared/daemon-client.js';
import { themeFromEnv } from '../theme.js';
import { UiApp } from './ui-app.js';

export interface RunUiOptions {
  socket: string;
}

export async function runUi(opts: RunUiOptions): Promise<number> {
  const client = createDaemonClient({ socket: opts.socket, timeoutMs: 30_000 });
  try {
    const app = render(<UiApp client={client} theme={themeFromEnv()} />, {
      exitOnCtrlC: false,
      maxFps: 15,
    });
    await app.waitUntilExit();
    return 0;
  } finally {
    await client.close();
  }
}
