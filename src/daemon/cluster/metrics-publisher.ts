/**
 * Shares each clustered node's live metrics so that `bc top` on any node can show the whole
 * cluster (SPEC section 9). Once a second a node writes its digest (metrics/digest.ts: counters,
 * per-second series and latency buckets, which merge exactly) to `<prefix>metrics:<id>` with a
 * short expiry, and adds its id to the set `<prefix>metrics:nodes`, in one round trip; nothing
 * happens on the request path. The digest is JSON compressed with raw deflate (a busy node's 15
 * minutes of per-second latency buckets are a few hundred KB of JSON, about 50 KB compressed),
 * on the thread pool so the event loop does not wait for it. A node that stops deletes its key; one that dies stops writing and
 * its numbers leave the cluster view when the key expires. Readers take the set and one MGET (no
 * SCAN over the keyspace, which holds every key's budget) and drop ids whose key is gone.
 * Redis is used with the coordinator's fail-fast client: a write while Redis is away fails at
 * once and is simply not retried (the next second writes afresh).
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Redis } from 'ioredis';
import { isMetricsDigest, type ChannelHealth, type Metrics, type MetricsDigest } from '../metrics/index.js';

const deflate = promisify(zlib.deflateRaw);
const inflate = promisify(zlib.inflateRaw);

export interface MetricsPublisherOptions {
  redis: Redis;
  prefix: string;
  nodeId: string;
  /** this node's digest, taken live */
  digest: () => MetricsDigest;
  intervalMs?: number;
  /** how long a node's digest outlives its last write */
  ttlMs?: number;
}

/** What the control routes need of the cluster to answer `?node=`. */
export interface ClusterMetricsReader {
  readonly nodeId: string;
  /** every other live node's latest digest; throws when Redis cannot be read */
  others(): Promise<MetricsDigest[]>;
}

export class MetricsPublisher implements ClusterMetricsReader {
  readonly nodeId: string;
  private timer: NodeJS.Timeout | undefined;
  private readonly index: string;
  private stopped = false;
  private busy = false;

  constructor(private readonly opts: MetricsPublisherOptions) {
    this.nodeId = opts.nodeId;
    this.index = `${opts.prefix}metrics:nodes`;
  }

  start(): void {
    void this.publish().catch(() => undefined);
    this.timer = setInterval(() => void this.publish().catch(() => undefined), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.opts.redis
      .multi()
      .del(this.key(this.nodeId))
      .srem(this.index, this.nodeId)
      .exec()
      .catch(() => undefined);
  }

  /** Writes this node's digest now (unless a write is still under way, or the node stopped). */
  async publish(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const packed = await deflate(JSON.stringify(this.opts.digest()), { level: 1 });
      // a write sent after stop()'s delete would bring a stopped node back for a few seconds
      if (this.stopped) return;
      await this.opts.redis
        .multi()
        .set(this.key(this.nodeId), packed, 'PX', this.opts.ttlMs ?? 3000)
        .sadd(this.index, this.nodeId)
        .exec();
    } finally {
      this.busy = false;
    }
  }

  async others(): Promise<MetricsDigest[]> {
    const redis = this.opts.redis;
    const ids = (await redis.smembers(this.index)).filter((id) => id !== this.nodeId).sort();
    if (ids.length === 0) return [];
    const packed = await redis.mgetBuffer(ids.map((id) => this.key(id)));
    const gone = ids.filter((_id, i) => packed[i] === null);
    if (gone.length > 0) await redis.srem(this.index, ...gone).catch(() => undefined);
    const digests = await Promise.all(packed.map((p) => (p === null ? Promise.resolve(null) : unpack(p))));
    // a node of another version, or a damaged value: left out rather than breaking the view
    return digests.filter((d): d is MetricsDigest => d !== null);
  }

  private key(id: string): string {
    return `${this.opts.prefix}metrics:${id}`;
  }
}

async function unpack(packed: Buffer): Promise<MetricsDigest | null> {
  try {
    const v: unknown = JSON.parse((await inflate(packed)).toString('utf8'));
    return isMetricsDigest(v) ? v : null;
  } catch {
    return null;
  }
}

/** Starts publishing a clustered node's metrics (services.ts calls it for a daemon with BC_REDIS). */
export function publishMetrics(
  cluster: { nodeId: string; coordinator: { client: { redis: Redis } } },
  prefix: string,
  metrics: Pick<Metrics, 'digest'>,
  health: () => ChannelHealth[],
): MetricsPublisher {
  const publisher = new MetricsPublisher({
    redis: cluster.coordinator.client.redis,
    prefix,
    nodeId: cluster.nodeId,
    digest: () => metrics.digest(health(), cluster.nodeId),
  });
  publisher.start();
  return publisher;
}
