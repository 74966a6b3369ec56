/**
 * `bc daemon` (foreground, what systemd and `npm start` run), `bc start` (background, returns once
 * the daemon answers or with its own reason for failing), `bc stop` and `bc restart`. The daemon's
 * code is imported only inside `bc daemon`'s action, so every other command starts fast.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { StartOptions } from '../lifecycle.js';
import { BcError } from '../../shared/errors.js';
import { arg, positiveDuration, positiveInt } from '../options.js';
import { parseDuration, parseListenAddress, parsePositiveInt } from '../parse.js';

interface StartFlags {
  listen?: string;
  drain?: number;
  workers?: number;
}

interface StopFlags {
  timeout?: number;
}

const DEFAULT_STOP_TIMEOUT_MS = 40_000;

function startOptions(flags: StartFlags): StartOptions {
  const opts: StartOptions = {};
  if (flags.listen !== undefined) opts.listen = flags.listen;
  if (flags.drain !== undefined) opts.drainMs = flags.drain;
  if (flags.workers !== undefined) opts.workers = flags.workers;
  return opts;
}

function withDaemonFlags(cmd: Command): Command {
  return cmd
    .option('--listen <host:port>', 'the gateway address (port 0 picks a free port)', arg(parseListenAddress))
    .option(
      '--drain <duration>',
      'how long in-flight requests may finish on shutdown (default 30s)',
      arg(parseDuration),
    )
    .option(
      '--workers <n>',
      'gateway processes on one port (default BC_WORKERS or 1; above 1 needs BC_REDIS)',
      positiveInt,
    );
}

/** `--workers`, else BC_WORKERS, else 1. */
function workerCount(flags: StartFlags, env: NodeJS.ProcessEnv): number {
  if (flags.workers !== undefined) return flags.workers;
  const v = env.BC_WORKERS;
  if (v === undefined || v === '') return 1;
  try {
    return parsePositiveInt(v);
  } catch {
    throw new BcError('INVALID_REQUEST', `BC_WORKERS must be a positive integer, got "${v}"`);
  }
}

/** child_process and friends load only for the commands that spawn or stop a daemon. */
const lifecycle = () => import('../lifecycle.js');

async function start(ctx: CliContext, flags: StartFlags): Promise<void> {
  const { startDaemon } = await lifecycle();
  const outcome = await startDaemon(ctx, startOptions(flags));
  if (!outcome.started) {
    const s = outcome.status;
    ctx.out.result(
      { started: false, ...s },
      () => `already running (pid ${s.pid}), gateway http://${s.listen}`,
    );
    return;
  }
  const r = outcome.ready;
  ctx.out.result(
    { started: true, pid: r.pid, listen: r.listen, socket: r.socket, log: outcome.log },
    () => `started (pid ${r.pid}), gateway http://${r.listen}, socket ${r.socket}`,
  );
}

async function stop(ctx: CliContext, flags: StopFlags): Promise<void> {
  const { stopDaemon } = await lifecycle();
  const r = await stopDaemon(ctx, flags.timeout ?? DEFAULT_STOP_TIMEOUT_MS);
  ctx.out.result(r, () =>
    r.stopped ? `stopped (pid ${r.pid})${r.forced ? ' after SIGTERM' : ''}` : 'not running',
  );
}

export function registerDaemon(program: Command, ctx: CliContext): void {
  withDaemonFlags(program.command('daemon').description('run the daemon in the foreground')).action(
    async (flags: StartFlags) => {
      // before the daemon's modules load: see heap-policy.ts
      (await import('../../daemon/lifecycle/heap-policy.js')).applyStartupHeapPolicy();
      const paths = ctx.paths();
      const opts = {
        home: paths.home,
        socket: paths.socket,
        ...(flags.listen !== undefined ? { listen: flags.listen } : {}),
        ...(flags.drain !== undefined ? { drainMs: flags.drain } : {}),
      };
      // a worker of `--workers N` runs the daemon itself; its supervisor only starts workers
      const { workerFromEnv } = await import('../../daemon/workers/identity.js');
      const worker = workerFromEnv(process.env);
      const workers = workerCount(flags, process.env);
      if (worker === null && workers > 1) {
        const { runSupervisor } = await import('../../daemon/workers/supervisor.js');
        ctx.exitCode = await runSupervisor({ ...opts, workers });
        return;
      }
      const { runDaemon } = await import('../../daemon/main.js');
      ctx.exitCode = await runDaemon({ ...opts, worker });
    },
  );

  withDaemonFlags(program.command('start').description('start the daemon in the background')).action(
    (flags: StartFlags) => start(ctx, flags),
  );

  const stopTimeout = [
    '--timeout <duration>',
    'how long to wait before sending SIGTERM (default 40s)',
  ] as const;
  program
    .command('stop')
    .description('stop the background daemon (waits for in-flight requests)')
    .option(...stopTimeout, arg(positiveDuration))
    .action((flags: StopFlags) => stop(ctx, flags));

  withDaemonFlags(program.command('restart').description('stop, then start the daemon'))
    .option(...stopTimeout, arg(positiveDuration))
    .action(async (flags: StartFlags & StopFlags) => {
      const { stopDaemon } = await lifecycle();
      const r = await stopDaemon(ctx, flags.timeout ?? DEFAULT_STOP_TIMEOUT_MS);
      if (r.stopped) ctx.out.progress(`stopped (pid ${r.pid}), starting…`);
      await start(ctx, flags);
    });
}
