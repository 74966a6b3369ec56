/**
 * Builds the one set of services that both daemon apps (gateway on TCP, control on the Unix
 * socket) share, and closes them in reverse order of opening. Whoever opens a resource closes it.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Paths } from '../shared/paths.js';
import type { ChannelTestResult } from '../shared/control-api.js';
import type { ChannelRecord, Store } from './store/types.js';
import type { SecretBox } from './secrets.js';
import type { ChannelHealth, MetricsRecorder } from './metrics/types.js';

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
  readonly metrics: MetricsRecorder;
  /** the gateway's bound address (`host:port`, port 0 resolved); set once the gateway listens */
  listenAddress: string;
  /** Rebuilds the in-memory routing, key and price snapshots; every control-plane change calls it. */
  refresh(): Promise<void>;
  /** requests served since start (every request that passed authentication) */
  requestsServed(): number;
  /** runtime routing state of a channel, for listings */
  channelState(id: number): ChannelRuntimeState;
  /** every channel's routing health, for monitors and /metrics */
  channelHealth(): ChannelHealth[];
  /** one real minimal request through the channel's adapter */
  testChannel(channel: ChannelRecord, model?: string): Promise<ChannelTestResult>;
  close(): Promise<void>;
}
