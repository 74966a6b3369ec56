/**
 * `GET /v1/status`: what `bc status` prints and what `bc start` polls to know the daemon is up.
 * Cheap on purpose (two listings, a counter and the request log's figures, read from indexes and
 * not by scanning it: LogStats), since it is also the liveness probe; it also
 * says whether the store can write and how many log lines were dropped (daemon-health.ts), and,
 * in a cluster (BC_REDIS), Redis's health and the live nodes.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES, type StatusView } from '../../../shared/control-api.js';
import { on, type ControlContext } from '../context.js';
import { daemonHealth } from '../../lifecycle/daemon-health.js';

export function statusRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { services } = ctx;
  on(app, ROUTES.status, async () => {
    const [channels, keys, log] = await Promise.all([
      services.store.listChannels(),
      services.store.listKeys(),
      services.store.logStats(),
    ]);
    const health = daemonHealth(services);
    const worker = services.worker;
    const status: StatusView = {
      // the pid `bc stop` waits for: the supervisor's when this is one of its workers
      pid: worker === undefined ? process.pid : process.ppid,
      version: services.version,
      uptime_s: Math.max(0, Math.floor((Date.now() - services.startedAt) / 1000)),
      listen: services.listenAddress,
      socket: services.paths.socket,
      store: services.store.description,
      home: services.paths.home,
      channels: channels.length,
      keys: keys.filter((k) => k.status !== 'revoked').length,
      requests: services.requestsServed(),
      store_fault: health.storeFault && { reason: health.storeFault.reason, since: health.storeFault.since },
      log_lines_dropped: health.logLinesDropped,
      log_error: health.logError,
      log,
    };
    // a daemon started with BC_REDIS also says how Redis is and which nodes are alive
    if (services.clusterStatus) Object.assign(status, await services.clusterStatus());
    if (worker !== undefined) status.worker = { ...worker, pid: process.pid };
    return status;
  });
}
