/**
 * The daemon's entry (`bc daemon`): paths -> home -> single-instance lock -> logger -> services ->
 * both apps -> control socket -> gateway port -> pidfile -> ready; then it waits for a stop
 * (signal or control request), drains and closes everything in reverse order. Any startup failure
 * closes what was opened, tells the parent (`bc start`, over IPC) and stderr one line why, and
 * returns exit code 1. This is one of the few edges allowed to write to stderr and exit. Under a
 * systemd watchdog the event loop pings it (notify.ts); a store that stops (or resumes) taking
 * writes is logged once per change, not once per refused request.
 */
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { isBcError } from '../shared/errors.js';
import { resolvePaths, type Paths } from '../shared/paths.js';
import { buildControlApp } from './control/app.js';
import { buildGatewayApp } from './gateway/app.js';
import { prepareHome } from './lifecycle/home.js';
import { acquireInstanceLock, type InstanceLock } from './lifecycle/instance-lock.js';
import { listenControl, listenGateway, parseListenOrFail } from './lifecycle/listen.js';
import { createDaemonLogger, logLevelFromEnv } from './lifecycle/logger.js';
import { announceReady, reportStartupFailure, startWatchdog } from './lifecycle/notify.js';
import { DEFAULT_DRAIN_MS, StopRequest, drainApps, installSignalHandlers } from './lifecycle/shutdown.js';
import { heapPolicyReady } from './lifecycle/heap-policy.js';
import { VERSION } from '../shared/version.js';
import { createServices } from './services.js';
import type { DaemonServices } from './service-types.js';
import { askSupervisorToStop, startHeartbeat } from './workers/messages.js';
import type { WorkerIdentity } from './workers/identity.js';

export interface DaemonOptions {
  home?: string;
  socket?: string;
  listen?: string;
  /** how long in-flight requests may finish after SIGTERM (default 30 s) */
  drainMs?: number;
  /** for in-process callers (tests): never install process-wide crash handlers or force an exit */
  embedded?: boolean;
  /** one of `bc daemon --workers N` (workers/supervisor.ts holds the pidfile and the socket file) */
  worker?: WorkerIdentity | null;
}

/** Everything startup opened so far, closed in reverse on failure or stop. */
interface Opened {
  paths?: Paths;
  lock?: InstanceLock;
  logger?: Logger;
  services?: DaemonServices;
  gateway?: FastifyInstance;
  control?: FastifyInstance;
  socketIno?: number;
  exitCode: number;
}

/** A stopped daemon whose handles still keep Node alive is ended after this long. */
const EXIT_WATCHDOG_MS = 5000;
const FORCED_EXIT_CODE = 130;

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const stop = new StopRequest();
  const s: Opened = { exitCode: 0 };
  const uninstallSignals = installSignalHandlers({
    stop,
    onReload: () => void reload(s),
    onForce: () => forceExit(s),
    log: () => s.logger,
  });
  const uninstallCrash = opts.embedded === true ? () => undefined : installCrashHandlers(s, stop);
  // a worker's supervisor is the service systemd watches; the worker's loop feeds the supervisor
  const stopWatchdog = opts.worker
    ? startHeartbeat()
    : opts.embedded === true
      ? () => undefined
      : startWatchdog({ warn: (o, m) => s.logger?.warn(o, m) });
  let code: number;
  try {
    code = await startThenServe(opts, s, stop);
  } finally {
    stopWatchdog();
    uninstallSignals();
    uninstallCrash();
  }
  if (opts.embedded !== true) setTimeout(() => process.exit(code), EXIT_WATCHDOG_MS).unref();
  return code;
}

async function startThenServe(opts: DaemonOptions, s: Opened, stop: StopRequest): Promise<number> {
  try {
    await start(opts, s, stop);
  } catch (e) {
    s.logger?.error({ err: e }, 'startup failed');
    await closeOpened(s);
    await reportStartupFailure(
      isBcError(e) ? e.message : `startup failed: ${(e as Error).message ?? String(e)}`,
    );
    return 1;
  }
  const reason = await stop.requested;
  return stopDaemon(s, opts.drainMs ?? DEFAULT_DRAIN_MS, reason);
}

async function start(opts: DaemonOptions, s: Opened, stop: StopRequest): Promise<void> {
  const paths = resolvePaths({ home: opts.home, socket: opts.socket, listen: opts.listen });
  s.paths = paths;
  parseListenOrFail(paths.listen);
  prepareHome(paths.home);
  const level = logLevelFromEnv();
  const worker = opts.worker ?? null;
  if (worker === null) s.lock = await acquireInstanceLock(paths.pidfile, paths.socket, VERSION);
  const logger = (s.logger = createDaemonLogger(level));
  const services = (s.services = await createServices(paths, logger, process.env, worker));
  services.store.onWriteFault((fault) => {
    if (fault) logger.error(fault, 'the store cannot write: requests get 503 store_unavailable until it can');
    else logger.info('the store can write again: serving requests');
  });
  const gateway = (s.gateway = await buildGatewayApp(services));
  const control = (s.control = await buildControlApp(services, {
    // a worker's `bc stop` stops every worker: the supervisor does that
    requestShutdown: () => (worker === null ? stop.request('shutdown request') : askSupervisorToStop()),
  }));
  await listenControl(control, paths.socket, { shared: worker !== null });
  if (worker === null) s.socketIno = fs.statSync(paths.socket).ino;
  const listen = await listenGateway(gateway, paths.listen);
  services.listenAddress = listen;
  const startedAt = new Date(services.startedAt).toISOString();
  s.lock?.update({
    pid: process.pid,
    listen,
    socket: paths.socket,
    started_at: startedAt,
    version: services.version,
  });
  logger.info({ listen, socket: paths.socket, home: paths.home, store: services.store.description }, 'ready');
  await announceReady({ pid: process.pid, listen, socket: paths.socket });
  heapPolicyReady();
}

async function stopDaemon(s: Opened, drainMs: number, reason: string): Promise<number> {
  const log = s.logger;
  if (log === undefined || s.gateway === undefined || s.control === undefined)
    return closeOpened(s).then(() => s.exitCode);
  log.info({ reason, drain_ms: drainMs }, 'stopping');
  if (s.services !== undefined) s.services.gateway.accepting = false;
  try {
    await drainApps(s.gateway, s.control, drainMs, log);
  } catch (e) {
    log.error({ err: e }, 'error while draining');
    s.exitCode = 1;
  }
  s.gateway = undefined;
  s.control = undefined;
  await closeOpened(s);
  log.info({ exit_code: s.exitCode }, 'stopped');
  return s.exitCode;
}

/** Closes in reverse order of opening; each step runs even if an earlier one failed. */
async function closeOpened(s: Opened): Promise<void> {
  const steps: [string, (() => Promise<unknown>) | undefined][] = [
    ['control app', s.control && (() => s.control!.close())],
    ['gateway app', s.gateway && (() => s.gateway!.close())],
    ['services', s.services && (() => s.services!.close())],
  ];
  for (const [name, step] of steps) {
    if (step === undefined) continue;
    try {
      await step();
    } catch (e) {
      s.exitCode = 1;
      s.logger?.error({ err: e }, `closing the ${name} failed`);
    }
  }
  s.control = s.gateway = s.services = undefined;
  releaseFiles(s);
}

/** Removes the pidfile and the socket file, each only if it is still ours. */
function releaseFiles(s: Opened): void {
  try {
    s.lock?.release();
  } catch (e) {
    s.logger?.error({ err: e }, 'removing the pidfile failed');
  }
  s.lock = undefined;
  const socket = s.paths?.socket;
  if (socket !== undefined && s.socketIno !== undefined) {
    try {
      if (fs.statSync(socket).ino === s.socketIno) fs.rmSync(socket, { force: true });
    } catch {
      // already gone: Node removes a Unix socket when its server closes
    }
    s.socketIno = undefined;
  }
}

async function reload(s: Opened): Promise<void> {
  const log = s.logger;
  if (log === undefined || s.services === undefined) return;
  try {
    let level = log.level;
    try {
      level = logLevelFromEnv();
    } catch (e) {
      log.warn({ err: e }, 'keeping the current log level');
    }
    for (const l of [log, s.gateway?.log, s.control?.log]) if (l !== undefined) l.level = level;
    await s.services.refresh();
    log.info({ level }, 'reloaded');
  } catch (e) {
    log.error({ err: e }, 'reload failed');
  }
}

function forceExit(s: Opened): void {
  releaseFiles(s);
  process.exit(FORCED_EXIT_CODE);
}

/** A bug must not leave a half-working daemon: log it, then stop gracefully with exit code 1. */
function installCrashHandlers(s: Opened, stop: StopRequest): () => void {
  const onException = (err: Error): void => {
    // nothing here may throw or wait: the log's sink drops what it cannot write (log-sink.ts)
    try {
      if (s.logger) s.logger.fatal({ err }, 'uncaught exception: stopping');
      else fs.writeSync(2, `bc daemon: uncaught exception: ${err.stack ?? err.message}\n`);
    } catch {
      // stderr is gone or full: stop all the same
    }
    s.exitCode = 1;
    stop.request('uncaught exception');
  };
  const onRejection = (reason: unknown): void => {
    s.logger?.error({ err: reason }, 'unhandled promise rejection');
  };
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
