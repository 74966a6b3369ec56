/**
 * Builds the one set of services that both daemon apps (gateway on TCP, control on the Unix
 * socket) share, and closes them in reverse order of opening. Whoever opens a resource closes it.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Paths } from '../shared/paths.js';
import type { ChannelTestResult } from '../shared/control-api.js';
import type { ChannelRecord, Store } from './store/types.js';
import { SecretBox } from './secrets.js';
import { BcError } from '../shared/errors.js';
import { VERSION } from '../shared/version.js';
import { openStore } from './store/open.js';
import { loadPricing } from './pricing/load.js';
import { createMetrics } from './metrics/index.js';
import { GatewayState } from './gateway/state.js';
import { intakeOptionsFromEnv } from './gateway/intake/intake-env.js';
import { startProbe } from './gateway/routing/probe.js';
import { testChannel } from './gateway/routing/channel-test.js';
import type { ChannelHealth } from './metrics/types.js';
import type { ChannelRuntimeState, DaemonServices } from './service-types.js';
import { Cluster, clusterConfigFromEnv } from './cluster/cluster.js';
import { publishMetrics } from './cluster/metrics-publisher.js';
import type { WorkerIdentity } from './workers/identity.js';
import { retentionFromEnv, startRetention } from './store/retention.js';
import { startUsageRollup } from './store/usage-rollup.js';

const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;

function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new BcError('STARTUP_FAILED', `${name} must be a non-negative integer, got "${v}"`);
  return n;
}

/**
 * Opens everything the daemon needs, in order: store, master key, price catalog, metrics,
 * gateway state, the cluster (with BC_REDIS: shared books, change feed, node list), background
 * probe. Throws BcError STARTUP_FAILED with a one-line reason.
 */
export async function createServices(
  paths: Paths,
  logger: FastifyBaseLogger,
  env: NodeJS.ProcessEnv = process.env,
  worker: WorkerIdentity | null = null,
): Promise<DaemonServices> {
  const clusterConfig = clusterConfigFromEnv(env, paths.db, worker);
  const retentionMs = retentionFromEnv(env);
  // with BC_REDIS any number of daemons share the database; without it this one is alone on it
  const store = await openStore(paths, { exclusive: clusterConfig === null, worker });
  let cluster: Cluster | null = null;
  let built: DaemonServices | undefined;
  try {
    const secrets = await openSecrets(store, paths, env);
    loadPricing();
    const metrics = createMetrics();
    const gateway = new GatewayState(store, secrets, metrics, logger, {
      retries: envInt(env, 'BC_RETRIES', 3),
      bodyLimit: envInt(env, 'BC_BODY_LIMIT', DEFAULT_BODY_LIMIT),
      ...intakeOptionsFromEnv(env),
    });
    await gateway.refresh();
    if (clusterConfig !== null) {
      cluster = await Cluster.start({
        config: clusterConfig,
        store,
        gateway,
        version: VERSION,
        // the bound address once the gateway listens (services below is built after this)
        listen: () => built?.listenAddress ?? paths.listen,
        requests: () => gateway.requests,
        logger,
      });
    }
    const joined = cluster;
    // each node shares its live metrics so `bc top` on any node can show the whole cluster
    const published =
      joined &&
      clusterConfig &&
      publishMetrics(joined, clusterConfig.prefix, metrics, () => channelHealth(gateway));
    const stopProbe = startProbe(gateway, envInt(env, 'BC_PROBE_INTERVAL_MS', 60_000));
    // the workers of --workers N share one store: worker 0 prunes for all (on PostgreSQL an
    // advisory lock lets one daemon's batch run at a time; see store/postgres/log-retention.ts)
    const stopRetention =
      retentionMs === null || (worker !== null && worker.index !== 0)
        ? null
        : startRetention(store, retentionMs, logger);
    // usage buckets age into hours and days: worker 0 for all the workers, as retention
    const stopRollup = worker !== null && worker.index !== 0 ? null : startUsageRollup(store, logger);
    // a control-plane change (every route refreshes after one) is announced to the other nodes,
    // whose change feeds refresh them without announcing again
    const refresh = async (): Promise<void> => {
      await gateway.refresh();
      if (joined === null) return;
      await joined.changed();
    };
    const services: DaemonServices = {
      paths,
      version: VERSION,
      startedAt: Date.now(),
      store,
      secrets,
      logger,
      metrics,
      gateway,
      listenAddress: paths.listen,
      refresh,
      balancesChanged: async (changes) => {
        // the in-memory ledger first, then the snapshot: a user it seeds fresh already has them
        for (const c of changes) gateway.ledger.credit(c.userId, c.amount);
        // the shared wallets too (a wallet Redis does not hold yet is seeded from the store)
        await joined?.credit(changes);
        await refresh();
      },
      requestsServed: () => gateway.requests,
      channelState: (id) => channelState(gateway, id),
      channelHealth: () => channelHealth(gateway),
      testChannel: (channel, model) => runChannelTest(gateway, channel, model),
      ...(joined === null ? {} : { clusterStatus: () => joined.status() }),
      ...(published ? { clusterMetrics: published } : {}),
      ...(worker === null ? {} : { worker }),
      close: async () => {
        stopProbe();
        await stopRetention?.();
        await stopRollup?.();
        await gateway.close();
        await published?.stop();
        // leaves the node list and stops listening before the store (the feed polls it) goes
        await joined?.close();
        await store.close();
      },
    };
    built = services;
    return services;
  } catch (err) {
    await cluster?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}

export async function openSecrets(store: Store, paths: Paths, env: NodeJS.ProcessEnv): Promise<SecretBox> {
  const channels = await store.listChannels();
  const sample = channels.flatMap((c) => c.secrets)[0];
  const secrets = SecretBox.load({
    file: paths.masterKey,
    envKey: env.BC_MASTER_KEY || undefined,
    create: !sample,
  });
  if (sample) {
    try {
      secrets.decrypt(sample.enc);
    } catch {
      throw new BcError(
        'STARTUP_FAILED',
        `the master key (${env.BC_MASTER_KEY ? 'BC_MASTER_KEY' : paths.masterKey}) does not decrypt the stored channel secrets: restore the original key`,
      );
    }
  }
  return secrets;
}

function channelState(gateway: GatewayState, id: number): ChannelRuntimeState {
  const ch = gateway.snapshot.channelsById.get(id);
  if (!ch) return { cooldownUntil: null };
  const usable = ch.secrets.filter((s) => s.disabledReason === null).map((s) => s.index);
  if (usable.length === 0) return { cooldownUntil: null };
  const cooling = gateway.health.cooldownUntil(id, usable);
  // the channel cools down only when every usable key does
  const allCooling = usable.every((i) => !gateway.health.isAvailable(id, i));
  return { cooldownUntil: allCooling && cooling !== null ? new Date(cooling).toISOString() : null };
}

function channelHealth(gateway: GatewayState): ChannelHealth[] {
  return gateway.snapshot.channels.map((c) => ({
    id: c.record.id,
    name: c.record.name,
    type: c.record.type,
    status: c.record.status,
    statusReason: c.record.statusReason,
    cooldownUntil: channelState(gateway, c.record.id).cooldownUntil,
  }));
}

async function runChannelTest(
  gateway: GatewayState,
  channel: ChannelRecord,
  model?: string,
): Promise<ChannelTestResult> {
  const rc = gateway.snapshot.channelsById.get(channel.id);
  if (!rc) throw new BcError('NOT_FOUND', `channel ${channel.name} is not loaded`);
  const secret = rc.secrets.find((s) => s.disabledReason === null) ?? rc.secrets[0];
  if (model !== undefined && !rc.upstreamModel.has(model)) {
    throw new BcError('INVALID_REQUEST', `channel "${channel.name}" does not serve model "${model}"`, {
      param: 'model',
    });
  }
  return testChannel(gateway.upstream, rc, secret, model);
}
