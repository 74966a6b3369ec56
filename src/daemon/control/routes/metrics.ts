/**
 * Live metrics on the control socket: `GET /v1/metrics/snapshot` answers the current state at
 * once, and `GET /v1/metrics/stream` sends one snapshot per line (NDJSON) every second until the
 * client goes away. All streams share one timer and one serialised snapshot per tick, so ten
 * attached monitors cost the daemon what one does; a client too slow to read skips ticks instead
 * of piling them up in memory; the daemon's close ends every stream so shutdown never waits on one.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/index.js';
import type { ChannelHealth } from '../../metrics/types.js';

export interface MetricsRoutesOptions {
  /** ms between two snapshots on the stream; default 1000 */
  intervalMs?: number;
}

export interface MetricsRoutes {
  /** streams currently attached (tests check that a client going away is noticed) */
  activeStreams(): number;
  /** whether the shared tick timer is running */
  ticking(): boolean;
}

export function registerMetricsRoutes(
  app: FastifyInstance,
  metrics: Pick<Metrics, 'snapshot'>,
  health: () => ChannelHealth[],
  opts: MetricsRoutesOptions = {},
): MetricsRoutes {
  const intervalMs = opts.intervalMs ?? 1000;
  const streams = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | null = null;

  const line = (): string => JSON.stringify(metrics.snapshot(health())) + '\n';

  function tick(): void {
    let text: string;
    try {
      text = line();
    } catch (err) {
      app.log.error({ err }, 'metrics snapshot failed');
      return;
    }
    for (const res of streams) if (!res.writableNeedDrain) res.write(text);
  }

  function stop(res: ServerResponse): void {
    streams.delete(res);
    if (streams.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  app.get('/v1/metrics/snapshot', async () => metrics.snapshot(health()));

  app.get('/v1/metrics/stream', (req, reply) => {
    const first = line();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
    });
    res.on('close', () => stop(res));
    req.raw.on('close', () => stop(res));
    streams.add(res);
    res.write(first);
    timer ??= setInterval(tick, intervalMs);
  });

  app.addHook('preClose', async () => {
    for (const res of [...streams]) {
      stop(res);
      res.end();
    }
  });

  return { activeStreams: () => streams.size, ticking: () => timer !== null };
}
