/**
 * What a daemon started with `BC_REDIS` adds to itself so that several daemons on one PostgreSQL
 * database (or the workers of `--workers N` on one store) act as one gateway (SPEC section 9,
 * SCALEOUT.md 2): the Redis coordinator (shared budgets and rates, handed to admission and
 * settlement through `GatewayState.shared`), shared channel cooldowns and the probe claim
 * (shared-health.ts), the change feed (an edit through any node's socket reaches every node
 * within a second) and the node registry (`bc status` lists every live node). services.ts adds
 * the metrics digests (metrics-publisher.ts) for `bc top` over the whole cluster.
 *
 * Redis holds budgets only as seeded from the durable store, so this also keeps it seeded: the
 * whole store at start when Redis is empty (one node does it, the others wait for it), every key
 * and metered user this node has not seeded yet after each refresh (SET-max and set-if-absent, so
 * seeding what another node seeded, or what has moved since, changes nothing), and the whole store
 * again whenever Redis comes back empty after a restart (a one-second check of the ready flag).
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { BcError } from '../../shared/errors.js';
import type { BalanceChange, Store } from '../store/types.js';
import type { GatewayState } from '../gateway/state.js';
import { RedisCoordinator } from '../coord/redis-coordinator.js';
import { reseedIfEmpty } from '../coord/reseed.js';
import { ChangeFeed } from './change-feed.js';
import { NodeRegistry, type NodeView } from './nodes.js';
import { SharedHealth } from './shared-health.js';
import { RedisRedeemWindow } from '../coord/redeem-window.js';
import { REDEEM_WINDOW_MS } from '../tenants/redeem-limits.js';
import type { WorkerIdentity } from '../workers/identity.js';

/** Where the cluster's Redis is and which keys are this deployment's. */
export interface ClusterConfig {
  redisUrl: string;
  /** every Redis key of this deployment starts with it (`BC_REDIS_PREFIX`, default `bc:`) */
  prefix: string;
}

/** What `bc status` shows of the cluster (StatusView's `redis` and `nodes`). */
export interface ClusterStatus {
  /** `ok`, or why Redis cannot be used right now */
  redis: string;
  nodes: NodeView[];
}

/**
 * Reads `BC_REDIS` (and `BC_REDIS_PREFIX`): null without it (one daemon on its own). Throws
 * STARTUP_FAILED for a URL that is not redis:// or rediss://, and for BC_REDIS on a store other
 * than PostgreSQL outside `--workers` (separate daemons on one SQLite file are not supported; the
 * workers of one daemon share it).
 */
export function clusterConfigFromEnv(
  env: NodeJS.ProcessEnv,
  db: string,
  worker: WorkerIdentity | null = null,
): ClusterConfig | null {
  const url = env.BC_REDIS;
  if (url === undefined || url === '') return null;
  if (!/^rediss?:\/\/[^\s]+$/i.test(url))
    throw new BcError(
      'STARTUP_FAILED',
      `invalid BC_REDIS "${hidePassword(url)}": expected redis://host:port or rediss://host:port`,
    );
  // the workers of one daemon share its SQLite file on one machine; separate daemons cannot
  if (worker === null && !/^postgres(ql)?:\/\//i.test(db))
    throw new BcError(
      'STARTUP_FAILED',
      'BC_REDIS needs BC_DB=postgres://...: several daemons share one PostgreSQL database, not a SQLite file (one machine: bc daemon --workers N shares the SQLite file)',
    );
  const prefix =
    env.BC_REDIS_PREFIX === undefined || env.BC_REDIS_PREFIX === '' ? 'bc:' : env.BC_REDIS_PREFIX;
  return { redisUrl: url, prefix };
}

export interface ClusterOptions {
  config: ClusterConfig;
  /** the shared database: seeding reads keys and users, the change feed's version row is there */
  store: Pick<Store, 'listKeys' | 'listUsers' | 'getMeta' | 'bumpMeta'>;
  gateway: GatewayState;
  version: string;
  /** the gateway's bound address, known once it listens */
  listen: () => string;
  requests: () => number;
  logger: FastifyBaseLogger;
  /** tries of the start-up re-seed while another node holds its lock */
  reseedTries?: number;
  /** how often Redis is checked for having come back empty */
  readyCheckMs?: number;
}

export class Cluster {
  readonly nodeId: string;
  readonly coordinator: RedisCoordinator;
  readonly feed: ChangeFeed;
  readonly registry: NodeRegistry;
  readonly health: SharedHealth;
  private readonly seededKeys = new Set<number>();
  private readonly seededUsers = new Set<number>();
  private readyTimer: NodeJS.Timeout | undefined;
  private reseeding: Promise<void> | null = null;
  private closed = false;

  private constructor(private readonly opts: ClusterOptions) {
    this.nodeId = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const { redisUrl, prefix } = opts.config;
    this.coordinator = RedisCoordinator.connect(redisUrl, { prefix, node: this.nodeId });
    this.health = new SharedHealth({ book: opts.gateway.health, cooldowns: this.coordinator.cooldowns });
    // the feed's refresh is the gateway's own: a refresh it causes must not announce again
    this.feed = new ChangeFeed({
      store: opts.store,
      redisUrl,
      prefix,
      refresh: () => this.refreshLocal(),
      onEvent: (e) => {
        if (e.kind !== 'refreshed')
          opts.logger.warn({ err: e.error }, `cluster change feed: ${e.kind.replace('_', ' ')}`);
      },
    });
    this.registry = new NodeRegistry({
      redis: this.coordinator.client.redis,
      prefix,
      nodeId: this.nodeId,
      version: opts.version,
      listen: opts.listen,
      requests: opts.requests,
    });
  }

  /**
   * Connects and joins: re-seeds an empty Redis (or waits a little for the node doing it), seeds
   * this node's view, hands the shared books to the gateway, then listens for changes and
   * registers. Redis being away at start is not fatal (the gateway answers 503 for budgeted keys
   * until it is back, then the ready check seeds it); the database being away is.
   */
  static async start(opts: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(opts);
    try {
      await c.waitConnected(2_000);
      await c.initialSeed(opts.reseedTries ?? 5);
      opts.gateway.shared = {
        budget: c.coordinator.budget,
        rates: c.coordinator.rates,
        redeem: new RedisRedeemWindow(c.coordinator.client, REDEEM_WINDOW_MS),
      };
      c.health.start();
      await c.feed.start();
      await c.registry.start().catch((err: unknown) => {
        // the next beat registers it once Redis answers
        opts.logger.warn({ err }, 'cluster: cannot register this node on Redis yet');
      });
      c.readyTimer = setInterval(() => void c.checkReady(), opts.readyCheckMs ?? 1_000);
      c.readyTimer.unref();
      return c;
    } catch (err) {
      await c.close().catch(() => undefined);
      throw err;
    }
  }

  /** After a control-plane change committed here and this node refreshed: tell the others. */
  async announce(): Promise<void> {
    await this.feed.announce();
  }

  /**
   * After a control-plane change committed here and this node refreshed: seeds what is new on
   * Redis and tells the others. A Redis that is away must not turn the committed change into an
   * error for the caller (who would retry a create that already happened): seeding is left to the
   * next refresh, and announce() bumps the version row on PostgreSQL, which the others poll.
   */
  async changed(): Promise<void> {
    await this.seedNew().catch((err: unknown) => {
      this.opts.logger.warn({ err }, 'cluster: seeding new keys and users on Redis failed');
    });
    await this.announce();
  }

  /** Seeds what this node's snapshot has that it has not seeded yet (after every refresh). */
  async seedNew(): Promise<void> {
    const snap = this.opts.gateway.snapshot;
    const budget = this.coordinator.budget;
    const work: (() => Promise<unknown>)[] = [];
    for (const [id, k] of snap.keysById)
      if (!this.seededKeys.has(id))
        work.push(async () => {
          await budget.seedKey(id, k.record.spent);
          this.seededKeys.add(id);
        });
    for (const [id, u] of snap.usersById) {
      if (u.balance === null) {
        // unmetered now: a wallet seeded earlier would be stale if it became metered again
        if (this.seededUsers.delete(id)) work.push(() => budget.forgetUser(id));
        continue;
      }
      if (!this.seededUsers.has(id))
        work.push(async () => {
          await budget.seedUser(id, u.balance!, false, u.spent);
          this.seededUsers.add(id);
        });
    }
    for (let i = 0; i < work.length; i += 100) await Promise.all(work.slice(i, i + 100).map((f) => f()));
  }

  /** A committed credit or debit outside settlement also moves the shared wallet. */
  async credit(changes: readonly BalanceChange[]): Promise<void> {
    for (const c of changes) {
      try {
        await this.coordinator.budget.credit(c.userId, c.amount);
      } catch (err) {
        // Redis away: it comes back empty and is re-seeded from the store, which has the change
        this.opts.logger.warn({ err, userId: c.userId }, 'cluster: credit not applied on Redis');
      }
    }
  }

  async status(): Promise<ClusterStatus> {
    let redis = 'ok';
    let nodes: NodeView[] = [];
    try {
      await this.coordinator.client.call('ping', (r) => r.ping());
      // this node's own entry as it is now, not as of its last beat (up to a second old)
      nodes = (await this.registry.list()).map((n) =>
        n.node_id === this.nodeId ? { ...n, listen: this.opts.listen(), requests: this.opts.requests() } : n,
      );
    } catch (err) {
      redis = err instanceof Error ? err.message : String(err);
    }
    return { redis, nodes };
  }

  /** Leaves the node list, stops listening and disconnects; the store is closed by its owner. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.readyTimer) clearInterval(this.readyTimer);
    await this.reseeding;
    await this.registry.stop();
    await this.feed.stop();
    await this.health.stop();
    await this.coordinator.close();
  }

  private async refreshLocal(): Promise<void> {
    await this.opts.gateway.refresh();
    await this.seedNew().catch((err: unknown) => {
      // not fatal: a key Redis does not hold is refused with a 503 until the next refresh seeds it
      this.opts.logger.warn({ err }, 'cluster: seeding new keys and users on Redis failed');
    });
  }

  private async waitConnected(ms: number): Promise<void> {
    const redis = this.coordinator.client.redis;
    if (redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      redis.on('ready', done);
    });
  }

  private async initialSeed(tries: number): Promise<void> {
    for (let i = 0; i < tries; i++) {
      try {
        const outcome = await reseedIfEmpty(this.coordinator.budget, this.opts.store, this.nodeId);
        if (outcome !== 'other-node') break;
      } catch (err) {
        this.opts.logger.warn({ err }, 'cluster: Redis is not reachable at start; seeding it when it is');
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await this.seedNew().catch((err: unknown) => {
      this.opts.logger.warn({ err }, 'cluster: seeding keys and users on Redis failed');
    });
  }

  /** Redis restarted (empty): re-seed it from the store; one node does, the others wait. */
  private checkReady(): void {
    if (this.reseeding || this.closed) return;
    this.reseeding = (async () => {
      try {
        if (await this.coordinator.budget.isReady()) return;
        const outcome = await reseedIfEmpty(this.coordinator.budget, this.opts.store, this.nodeId);
        if (outcome === 'seeded') this.opts.logger.warn('cluster: Redis was empty and has been re-seeded');
        // everything in the store is in Redis again: what this node seeded since is still there
      } catch {
        // Redis still away: the next check tries again
      } finally {
        this.reseeding = null;
      }
    })();
  }
}

/** The URL is echoed back to the user; a password in it must not be. */
function hidePassword(url: string): string {
  return url.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:***@');
}
