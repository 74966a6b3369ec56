/**
 * Which nodes are alive (SPEC section 9: `bc status` lists every live node). Each node keeps one
 * Redis hash, `<prefix>node:<id>`, with what `bc status` shows of it (SPEC section 12 `node`:
 * node_id, host, pid, version, uptime_s, listen, requests), rewritten every `beatMs` with an
 * expiry of `ttlMs`. A node that stops removes its entry; one that is killed simply stops beating
 * and its entry expires, so the list never needs cleaning and never shows a dead node for longer
 * than the expiry. Expiry is kept by the Redis server's clock, so nodes' clocks need not agree.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface NodeView {
  node_id: string;
  host: string;
  pid: number;
  version: string;
  uptime_s: number;
  listen: string;
  requests: number;
}

export interface NodeRegistryOptions {
  redis: Redis;
  prefix?: string;
  version: string;
  /** the gateway's bound address, known once it listens */
  listen: () => string;
  /** requests served since start */
  requests: () => number;
  beatMs?: number;
  ttlMs?: number;
  nodeId?: string;
}

export class NodeRegistry {
  readonly nodeId: string;
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly prefix: string;

  constructor(private readonly opts: NodeRegistryOptions) {
    this.prefix = opts.prefix ?? 'bc:';
    this.nodeId = opts.nodeId ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  /** Registers now, then keeps the entry alive; a failed beat (Redis away) is retried by the next. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => undefined), this.opts.beatMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.opts.redis.del(this.key(this.nodeId)).catch(() => undefined);
  }

  /** Every node whose entry has not expired, by node id. */
  async list(): Promise<NodeView[]> {
    const redis = this.opts.redis;
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${this.prefix}node:*`, 'COUNT', 100);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    const views: NodeView[] = [];
    for (const key of keys) {
      const h = await redis.hgetall(key);
      // expired between the scan and the read
      if (h.node_id === undefined) continue;
      views.push({
        node_id: h.node_id,
        host: h.host ?? '',
        pid: Number(h.pid),
        version: h.version ?? '',
        uptime_s: Number(h.uptime_s),
        listen: h.listen ?? '',
        requests: Number(h.requests),
      });
    }
    return views.sort((a, b) => a.node_id.localeCompare(b.node_id));
  }

  private key(id: string): string {
    return `${this.prefix}node:${id}`;
  }

  private async beat(): Promise<void> {
    const view: NodeView = {
      node_id: this.nodeId,
      host: os.hostname(),
      pid: process.pid,
      version: this.opts.version,
      uptime_s: Math.floor((Date.now() - this.startedAt) / 1000),
      listen: this.opts.listen(),
      requests: this.opts.requests(),
    };
    const key = this.key(this.nodeId);
    await this.opts.redis
      .multi()
      .hset(key, Object.fromEntries(Object.entries(view).map(([k, v]) => [k, String(v)])))
      .pexpire(key, this.opts.ttlMs ?? 5000)
      .exec();
  }
}
