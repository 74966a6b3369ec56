/**
 * The three shared books on one fail-fast Redis connection, under one key prefix: what a daemon
 * started with BC_REDIS builds once and hands to admission, settlement and routing.
 */
import type { Redis } from 'ioredis';
import { CoordClient, connectRedis } from './redis-client.js';
import { RedisCooldowns } from './redis-health.js';
import { RedisLedger } from './redis-ledger.js';
import { RedisRates } from './redis-limits.js';

export interface RedisCoordinatorOptions {
  /** key prefix of this deployment (default `bc:`) */
  prefix?: string;
  /** this node's name: owner of its probe and re-seed claims */
  node: string;
  leaseMs?: number;
}

export class RedisCoordinator {
  readonly client: CoordClient;
  readonly budget: RedisLedger;
  readonly rates: RedisRates;
  readonly cooldowns: RedisCooldowns;

  constructor(redis: Redis, opts: RedisCoordinatorOptions) {
    this.client = new CoordClient(redis, opts.prefix ?? 'bc:');
    const lease = opts.leaseMs === undefined ? {} : { leaseMs: opts.leaseMs };
    this.budget = new RedisLedger(this.client, lease);
    this.rates = new RedisRates(this.client, lease);
    this.cooldowns = new RedisCooldowns(this.client, opts.node);
  }

  static connect(url: string, opts: RedisCoordinatorOptions): RedisCoordinator {
    return new RedisCoordinator(connectRedis(url, { name: `bc-${opts.node}` }), opts);
  }

  async close(): Promise<void> {
    await this.client.quit();
  }
}
