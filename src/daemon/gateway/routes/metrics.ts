/**
 * `GET /metrics` on the gateway port: the Prometheus text exposition of the daemon's counters,
 * histograms, in-flight gauges and channel health. It needs no client key (scrapers carry none)
 * and shows no secret: labels are model, channel and status names only. `extra` appends the
 * daemon's own health families (store writable, log lines dropped).
 */
import type { FastifyInstance } from 'fastify';
import { PROMETHEUS_CONTENT_TYPE, type Metrics } from '../../metrics/index.js';
import type { ChannelHealth } from '../../metrics/types.js';

export function registerPrometheusRoute(
  app: FastifyInstance,
  metrics: Pick<Metrics, 'prometheus'>,
  health: () => ChannelHealth[],
  extra: () => string = () => '',
): void {
  app.get('/metrics', async (_req, reply) =>
    reply
      .header('content-type', PROMETHEUS_CONTENT_TYPE)
      .header('cache-control', 'no-store')
      .send(metrics.prometheus(health()) + extra()),
  );
}
