/**
 * Live metrics on the control socket: `GET /v1/metrics/snapshot` answers the current state at
 * once, and `GET /v1/metrics/stream` sends one snapshot per line (NDJSON) every second until the
 * client goes away. All streams share one timer and one serialised snapshot per tick and view, so
 * ten attached monitors cost the daemon what one does; a client too slow to read skips ticks
 * instead of piling them up in memory; the daemon's close ends every stream so shutdown never
 * waits on one.
 *
 * Both take `?node=`. A daemon alone (no cluster) answers its own numbers, as it always did, and
 * knows only `node=local`. A clustered one answers, without `node`, the whole cluster: the other
 * nodes' digests from Redis merged with its own taken live; `node=<id>` is that node alone,
 * `node=local` the answering node. An unknown id is a 404 that lists the live ones. Redis being
 * away never fails the call: the answer is this node's numbers with `scope.cluster_unavailable`.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { BcError } from '../../../shared/errors.js';
import type { MetricsScope, MetricsSnapshot } from '../../../shared/metrics-types.js';
import type { ClusterMetricsReader } from '../../cluster/metrics-publisher.js';
import type { Metrics } from '../../metrics/index.js';
import type { ChannelHealth } from '../../metrics/types.js';

export interface MetricsRoutesOptions {
  /** ms between two snapshots on the stream; default 1000 */
  intervalMs?: number;
  /** the cluster's other nodes, absent on a daemon that is not in one */
  cluster?: ClusterMetricsReader;
}

export interface MetricsRoutes {
  /** streams currently attached (tests check that a client going away is noticed) */
  activeStreams(): number;
  /** whether the shared tick timer is running */
  ticking(): boolean;
}

const LOCAL = 'local';

function nodeParam(query: unknown): string | undefined {
  const node = (query as { node?: unknown } | undefined)?.node;
  if (node === undefined || node === '') return undefined;
  if (typeof node !== 'string') throw new BcError('INVALID_REQUEST', 'node must be given once');
  return node;
}

/** The snapshot of one view: `undefined` (the whole gateway), `local`, or a node id. */
function viewer(
  metrics: Pick<Metrics, 'snapshot' | 'digest' | 'merged'>,
  health: () => ChannelHealth[],
  cluster: ClusterMetricsReader | undefined,
): (node: string | undefined) => Promise<MetricsSnapshot> {
  if (!cluster)
    return async (node) => {
      if (node !== undefined && node !== LOCAL)
        throw new BcError(
          'NOT_FOUND',
          `no node "${node}": this daemon is not in a cluster (only node=local)`,
        );
      return metrics.snapshot(health());
    };
  const self = cluster.nodeId;
  const scoped = (s: MetricsSnapshot, scope: Omit<MetricsScope, 'answered_by'>): MetricsSnapshot => ({
    ...s,
    scope: { ...scope, answered_by: self },
  });
  return async (node) => {
    if (node === LOCAL || node === self)
      return scoped(metrics.snapshot(health()), { node: self, nodes: [self] });
    let others;
    try {
      others = await cluster.others();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return scoped(metrics.snapshot(health()), {
        node: self,
        nodes: [self],
        cluster_unavailable: `the cluster's Redis cannot be read (${why}): showing this node only`,
      });
    }
    if (node === undefined) {
      const all = [metrics.digest(health(), self), ...others];
      return scoped(metrics.merged(all), { node: null, nodes: all.map((d) => d.node).sort() });
    }
    const one = others.find((d) => d.node === node);
    if (!one) {
      const live = [self, ...others.map((d) => d.node)].sort().join(', ');
      throw new BcError('NOT_FOUND', `no live node "${node}"; live nodes: ${live} (or local)`);
    }
    return scoped(metrics.merged([one]), { node, nodes: [node] });
  };
}

export function registerMetricsRoutes(
  app: FastifyInstance,
  metrics: Pick<Metrics, 'snapshot' | 'digest' | 'merged'>,
  health: () => ChannelHealth[],
  opts: MetricsRoutesOptions = {},
): MetricsRoutes {
  const intervalMs = opts.intervalMs ?? 1000;
  const view = viewer(metrics, health, opts.cluster);
  /** the streams of each view ('' = no node given) */
  const streams = new Map<string, Set<ServerResponse>>();
  let timer: NodeJS.Timeout | null = null;
  let busy = false;
  const count = (): number => [...streams.values()].reduce((n, s) => n + s.size, 0);

  const line = async (node: string | undefined): Promise<string> => JSON.stringify(await view(node)) + '\n';

  async function tick(): Promise<void> {
    // a slow Redis must not stack ticks up: the next one comes when this one is done
    if (busy) return;
    busy = true;
    try {
      for (const [node, set] of streams) {
        let text: string;
        try {
          text = await line(node === '' ? undefined : node);
        } catch (err) {
          // a node that left: its streams end, and `bc top --node` says so when it reconnects
          if (err instanceof BcError && err.code === 'NOT_FOUND') for (const res of [...set]) res.end();
          else app.log.error({ err }, 'metrics snapshot failed');
          continue;
        }
        for (const res of set) if (!res.writableNeedDrain) res.write(text);
      }
    } finally {
      busy = false;
    }
  }

  function stop(node: string, res: ServerResponse): void {
    const set = streams.get(node);
    set?.delete(res);
    if (set?.size === 0) streams.delete(node);
    if (streams.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  app.get('/v1/metrics/snapshot', async (req) => view(nodeParam(req.query)));

  app.get('/v1/metrics/stream', async (req, reply) => {
    const node = nodeParam(req.query);
    const first = await line(node);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
    });
    const key = node ?? '';
    res.on('close', () => stop(key, res));
    req.raw.on('close', () => stop(key, res));
    let set = streams.get(key);
    if (!set) streams.set(key, (set = new Set()));
    set.add(res);
    // the client may have gone while the first snapshot was being made
    if (req.raw.destroyed) return stop(key, res);
    res.write(first);
    timer ??= setInterval(() => void tick(), intervalMs);
  });

  app.addHook('preClose', async () => {
    for (const [node, set] of [...streams])
      for (const res of [...set]) {
        stop(node, res);
        res.end();
      }
  });

  return { activeStreams: count, ticking: () => timer !== null };
}
