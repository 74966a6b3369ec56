/**
 * Entry point of `bc top`, loaded lazily by the CLI so other commands never load React.
 * `--once --json` prints one snapshot for scripts; `--once` prints one rendered frame; otherwise
 * the live monitor runs, on the alternate screen, until `q` or Ctrl-C; without a terminal on both
 * ends it prints one frame, like `--once`. The daemon not answering is the CLI's to report
 * (BcError DAEMON_UNREACHABLE, exit 3) for --once; the live monitor waits and reconnects instead.
 * `--node ID|local` shows one node of a cluster (SPEC section 9); without it a clustered daemon
 * answers for the whole cluster, and the header says which (top/scope.ts).
 */
import { renderToString } from 'ink';
import { createDaemonClient } from '../../shared/daemon-client.js';
import { BcError } from '../../shared/errors.js';
import { isMetricsSnapshot } from '../../shared/metrics-types.js';
import { themeFromEnv } from '../theme.js';
import { interactiveTerminal, runFullScreen } from '../terminal.js';
import { Dashboard } from './dashboard.js';
import { INITIAL_TOP_STATE } from './top-state.js';
import { scopeLabel } from './scope.js';
import { toCompactJson } from './json.js';
import { TopApp } from './top-app.js';

export interface RunTopOptions {
  socket: string;
  once?: boolean;
  json?: boolean;
  /** a node id of the cluster, or `local` (the node answering the socket) */
  node?: string;
}

export async function runTop(opts: RunTopOptions): Promise<number> {
  const client = createDaemonClient({ socket: opts.socket, timeoutMs: 10_000 });
  const theme = themeFromEnv();
  const node = opts.node;
  try {
    // without a terminal on both ends (a pipe, a script) there is nothing to redraw: print one frame
    if (opts.once || opts.json || !interactiveTerminal()) {
      const snap = await client.metricsSnapshot(node);
      if (!isMetricsSnapshot(snap))
        throw new BcError('INTERNAL', 'the daemon sent metrics in an unknown shape');
      if (opts.json) {
        process.stdout.write(toCompactJson(snap) + '\n');
        return 0;
      }
      const width = process.stdout.columns || 80;
      const scope = scopeLabel(snap);
      if (scope) process.stdout.write(`bc top  ${scope.text}\n`);
      const height = Math.max(10, (process.stdout.rows || 24) - (scope ? 2 : 1));
      const frame = renderToString(
        <Dashboard snapshot={snap} state={INITIAL_TOP_STATE} width={width} height={height} theme={theme} />,
        {
          columns: width,
        },
      );
      process.stdout.write(frame + '\n');
      return 0;
    }
    const source = {
      metricsSnapshot: () => client.metricsSnapshot(node),
      metricsStream: (signal?: AbortSignal) => client.metricsStream(signal, node),
      users: client.users,
    };
    await runFullScreen(<TopApp client={source} theme={theme} />, 10);
    return 0;
  } finally {
    await client.close();
  }
}
