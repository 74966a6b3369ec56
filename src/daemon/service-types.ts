/**
 * What the daemon's two planes receive: the shared services (store, secrets, metrics, the
 * gateway's state) as interfaces only. The gateway and control apps import these types, never the
 * wiring that builds them (services.ts), so each plane reads on its own and the wiring depends on
 * the planes, not the other way round.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Paths } from '../shared/paths.js';
import type { ChannelTestResult } from '../shared/control-api.js';
import type { BalanceChange, ChannelRecord, Store } from './store/types.js';
import type { SecretBox } from './secrets.js';
import type { GatewayState } from './gateway/state.js';
import type { ChannelHealth } from './metrics/types.js';
import type { Metrics } from './metrics/index.js';
import type { ClusterStatus } from './cluster/cluster.js';
import type { ClusterMetricsReader } from './cluster/metrics-publisher.js';
import type { WorkerIdentity } from './workers/identity.js';

export interface ChannelRuntimeState {
  /** ISO time until which the channel (or all of its keys) cools down, else null */
  cooldownUntil: string | null;
}

export interface Services {
  readonly paths: Paths;
  readonly version: string;
  readonly startedAt: number;
  readonly store: Store;
  readonly secrets: SecretBox;
  readonly logger: FastifyBaseLogger;
  /** per-second series and Prometheus counters (metrics/) */
  readonly metrics: Metrics;
  /** the gateway's bound address (`host:port`, port 0 resolved); set once the gateway listens */
  listenAddress: string;
  /** Rebuilds the in-memory routing, key and price snapshots; every control-plane change calls it. */
  refresh(): Promise<void>;
  /**
   * After a committed credit or debit outside settlement (top-up, adjust, redeem, rewards, user
   * removal): moves the gateway's in-memory balances by exactly the changes the store returned,
   * then refreshes. Every store method that changes a balance returns its BalanceChange list.
   */
  balancesChanged(changes: readonly BalanceChange[]): Promise<void>;
  /** requests served since start (every request that passed authentication) */
  requestsServed(): number;
  /** runtime routing state of a channel, for listings */
  channelState(id: number): ChannelRuntimeState;
  /** every channel's routing health, for monitors and /metrics */
  channelHealth(): ChannelHealth[];
  /** one real minimal request through the channel's adapter */
  testChannel(channel: ChannelRecord, model?: string): Promise<ChannelTestResult>;
  /** Redis's health and the live nodes, for a daemon started with BC_REDIS (absent otherwise) */
  clusterStatus?(): Promise<ClusterStatus>;
  /** the other nodes' live metrics, for `bc top` over the cluster (absent without BC_REDIS) */
  readonly clusterMetrics?: ClusterMetricsReader;
  /** this process is one of `bc daemon --workers N` (absent for a daemon on its own) */
  readonly worker?: WorkerIdentity;
  close(): Promise<void>;
}

export interface DaemonServices extends Services {
  /** the data plane's shared state (snapshot, router, limits, ledger) */
  readonly gateway: GatewayState;
}
