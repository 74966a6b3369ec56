/**
 * `bc daemon --workers N` (or BC_WORKERS=N), N > 1: this process becomes the supervisor of N
 * gateway processes on one port and one control socket (SPEC section 9, one machine's cores). It
 * does what must happen once, before any worker runs: takes the home's pidfile (one daemon per
 * home), migrates the store and takes over what workers of an earlier run left in their journals
 * or spill files (store/open.ts), creates the master key, and clears a stale socket file. Then it
 * starts the workers (pool.ts), reports ready (to `bc start` or the terminal) once every worker
 * is, forwards SIGHUP, and on SIGTERM/SIGINT or a worker's `bc stop` stops them all and removes
 * its files. The workers share budgets, rate limits and cooldowns through Redis (BC_REDIS,
 * required) and the store's file or database; the supervisor serves no request itself.
 */
import fs from 'node:fs';
import { BcError, isBcError } from '../../shared/errors.js';
import { resolvePaths } from '../../shared/paths.js';
import { VERSION } from '../../shared/version.js';
import { clusterConfigFromEnv } from '../cluster/cluster.js';
import { prepareHome, prepareSocketFolder } from '../lifecycle/home.js';
import { acquireInstanceLock, type InstanceLock } from '../lifecycle/instance-lock.js';
import { parseListenOrFail, removeStaleSocket } from '../lifecycle/listen.js';
import { createDaemonLogger, logLevelFromEnv } from '../lifecycle/logger.js';
import { announceReady, reportStartupFailure, startWatchdog } from '../lifecycle/notify.js';
import { DEFAULT_DRAIN_MS, StopRequest, installSignalHandlers } from '../lifecycle/shutdown.js';
import { openSecrets } from '../services.js';
import { openStore } from '../store/open.js';
import type { DaemonOptions } from '../main.js';
import { WorkerPool } from './pool.js';

/** Past the workers' own drain deadline, how long they get before SIGKILL. */
const KILL_GRACE_MS = 10_000;

export interface SupervisorOptions extends DaemonOptions {
  workers: number;
}

export async function runSupervisor(opts: SupervisorOptions): Promise<number> {
  const logger = createDaemonLogger(logLevelFromEnv());
  const stop = new StopRequest();
  let pool: WorkerPool | undefined;
  let lock: InstanceLock | undefined;
  const uninstallSignals = installSignalHandlers({
    stop,
    onReload: () => pool?.signal('SIGHUP'),
    onForce: () => {
      pool?.kill();
      process.exit(130);
    },
    log: () => logger,
  });
  const stopWatchdog = startWatchdog({ warn: (o, m) => logger.warn(o, m) });
  const paths = resolvePaths({ home: opts.home, socket: opts.socket, listen: opts.listen });
  try {
    try {
      parseListenOrFail(paths.listen);
      prepareHome(paths.home);
      if (!process.env.BC_REDIS)
        throw new BcError(
          'STARTUP_FAILED',
          `--workers ${opts.workers} needs BC_REDIS=redis://host:port: the workers share budgets, rate limits and cooldowns through Redis (or run one process: --workers 1)`,
        );
      clusterConfigFromEnv(process.env, paths.db, { index: 0, count: opts.workers });
      lock = await acquireInstanceLock(paths.pidfile, paths.socket, VERSION);
      await prepareStore(paths);
      prepareSocketFolder(paths.socket);
      await removeStaleSocket(paths.socket);
      pool = new WorkerPool(opts.workers, logger);
      pool.onStopRequest = () => stop.request('shutdown request');
      const ready = await pool.start();
      lock.update({
        pid: process.pid,
        listen: ready.listen,
        socket: paths.socket,
        started_at: new Date().toISOString(),
        version: VERSION,
      });
      logger.info({ listen: ready.listen, socket: paths.socket, workers: pool.pids() }, 'ready');
      await announceReady({ pid: process.pid, listen: ready.listen, socket: paths.socket });
    } catch (e) {
      logger.error({ err: e }, 'startup failed');
      await pool?.stop(KILL_GRACE_MS);
      release(lock, paths.socket);
      await reportStartupFailure(isBcError(e) ? e.message : `startup failed: ${String(e)}`);
      return 1;
    }
    const reason = await stop.requested;
    const drainMs = opts.drainMs ?? DEFAULT_DRAIN_MS;
    logger.info({ reason, drain_ms: drainMs, workers: opts.workers }, 'stopping');
    const code = await pool.stop(drainMs + KILL_GRACE_MS);
    release(lock, paths.socket);
    logger.info({ exit_code: code }, 'stopped');
    return code;
  } finally {
    stopWatchdog();
    uninstallSignals();
  }
}

/**
 * Once for all workers: migrations, the earlier run's worker journals or spill files, and the
 * master key (created here when there is none, so N workers never race to create it).
 */
async function prepareStore(paths: ReturnType<typeof resolvePaths>): Promise<void> {
  const store = await openStore(paths, { exclusive: false });
  try {
    await openSecrets(store, paths, process.env);
  } finally {
    await store.close();
  }
}

function release(lock: InstanceLock | undefined, socket: string): void {
  lock?.release();
  // the listening socket was the supervisor's (node:cluster): its file goes with it
  try {
    if (fs.lstatSync(socket).isSocket()) fs.rmSync(socket, { force: true });
  } catch {
    // already gone
  }
}
