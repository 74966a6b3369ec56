/**
 * Channel cooldowns shared by three real daemons on one PostgreSQL database and one Redis
 * (SPEC section 9, cluster/shared-health.ts). Two upstreams serve model `m`: channel `x` (tried
 * first, priority 10) and channel `y`. When `x` answers 429 with Retry-After to a request on node
 * A, nodes B and C bench `x` within about a second and send nothing to it until the cooldown
 * ends (counted on x's simulator); when it ends, exactly one half-open probe reaches `x` across
 * the three nodes, however many requests they get; a failing probe benches `x` everywhere again,
 * and a passing one clears it everywhere. With Redis cut off (a TCP proxy in front of it), each node
 * falls back to its own health: a 429 still benches the channel on the node that saw it, no
 * request waits for Redis, and the node probes on its own when its cooldown ends.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiChannelArgs } from '../support/cli.js';
import { ask, json, msUntil } from '../support/cluster-client.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { freshPgDatabase, freshRedisPrefix, redisUrl } from '../support/stores.js';
import { freePort } from '../support/servers.js';
import { Proxy } from '../support/tcp-proxy.js';
import { createDaemonClient, type DaemonClient } from '../../src/shared/daemon-client.js';
import type { KeyCreated } from '../../src/shared/control-api.js';

let simX: OpenAISim;
let simY: OpenAISim;
let key: string;
let proxy: Proxy;
const nodes: TestDaemon[] = [];
const clients: DaemonClient[] = [];

beforeAll(async () => {
  [simX, simY] = await Promise.all([startOpenAISim(), startOpenAISim()]);
  const redis = new URL(redisUrl());
  proxy = new Proxy(await freePort(), Number(redis.port));
  await proxy.open();
  redis.port = String(proxy.port);
  const env = {
    BC_DB: await freshPgDatabase(),
    BC_REDIS: redis.toString(),
    BC_REDIS_PREFIX: freshRedisPrefix(),
    BC_MASTER_KEY: randomBytes(32).toString('hex'),
  };
  for (let i = 0; i < 3; i++) nodes.push(await startTestDaemon({ env }));
  for (const n of nodes) clients.push(createDaemonClient({ socket: n.socket, timeoutMs: 5_000 }));
  const a = nodes[0]!;
  json(
    await a.bc([
      ...openaiChannelArgs('x', 'sk-up-x000000000', 'm', '--base-url', simX.url),
      '--priority',
      '10',
      '--json',
    ]),
  );
  json(await a.bc([...openaiChannelArgs('y', 'sk-up-y000000000', 'm', '--base-url', simY.url), '--json']));
  key = json<KeyCreated>(await a.bc(['key', 'create', '--name', 'k', '--json'])).key;
  // every node knows the key and both channels, and x (tried first) is healthy everywhere
  for (const n of nodes)
    expect(await msUntil(async () => (await ask(n.gatewayUrl, key, {})).status === 200, 5_000)).toBeLessThan(
      5_000,
    );
  expect(simX.callCount()).toBe(3);
}, 120_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.cleanup()));
  await Promise.all([simX?.close(), simY?.close()]);
  await proxy?.cut().catch(() => undefined);
});

/** `rounds` rounds of `perNode` concurrent requests on every node; all must be answered 200. */
async function traffic(rounds: number, perNode = 3): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    const answers = await Promise.all(
      nodes.flatMap((n) => Array.from({ length: perNode }, () => ask(n.gatewayUrl, key, {}))),
    );
    expect(answers.map((x) => x.status)).toEqual(answers.map(() => 200));
  }
}

/** When node `i` says x's cooldown ends (ms), or null when it has none. */
async function coolingUntil(i: number): Promise<number | null> {
  const until = (await clients[i]!.channels.show('x')).cooldown_until;
  return until === null ? null : Date.parse(until);
}

describe('three daemons share channel cooldowns', () => {
  it('a 429 on node A benches the channel on B and C within a second; one probe when it ends', async () => {
    const [a, b, c] = nodes as [TestDaemon, TestDaemon, TestDaemon];
    simX.fault({ kind: 'status', status: 429, headers: { 'retry-after': '4' } }, Infinity);
    expect((await ask(a.gatewayUrl, key, {})).status).toBe(200); // x refused, y answered
    expect(simX.callCount()).toBe(4);
    for (const i of [1, 2])
      expect(await msUntil(async () => (await coolingUntil(i)) !== null, 2_000)).toBeLessThan(1_000);

    // the bench holds on every node: nothing reaches x, y serves
    const until = (await coolingUntil(1))!;
    for (const n of [b, c, a])
      for (let k = 0; k < 5; k++) expect((await ask(n.gatewayUrl, key, {})).status).toBe(200);
    expect(simX.callCount()).toBe(4);
    expect(Date.now()).toBeLessThan(until);

    // the cooldown ends: traffic on all three nodes, exactly one probe reaches x (and fails again)
    expect(await msUntil(async () => (await coolingUntil(0)) === null, 5_000)).toBeLessThan(5_000);
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    const probed = await msUntil(async () => {
      await traffic(1);
      return simX.callCount() > 4;
    }, 3_000);
    expect(probed).toBeLessThan(3_000);
    expect(simX.callCount()).toBe(5);
    // the failed probe re-benched x for 4 s everywhere: more traffic on every node, no more hits
    await traffic(4);
    expect(simX.callCount()).toBe(5);
    for (const i of [0, 1, 2]) expect(await coolingUntil(i)).not.toBeNull();
  }, 30_000);

  it('a passing probe clears the channel on every node', async () => {
    simX.clearFaults();
    const cooled = async () =>
      (await Promise.all([0, 1, 2].map((i) => coolingUntil(i)))).every((u) => u === null);
    expect(await msUntil(cooled, 5_000)).toBeLessThan(5_000);
    const probed = await msUntil(async () => {
      await traffic(1, 1);
      return simX.callCount() > 5;
    }, 3_000);
    expect(probed).toBeLessThan(3_000);
    expect(simX.callCount()).toBe(6);
    // every node sends to x again (priority 10) within about a second of the probe's success
    for (const n of nodes) {
      const before = simX.callCount();
      expect(
        await msUntil(async () => {
          await ask(n.gatewayUrl, key, {});
          return simX.callCount() > before;
        }, 2_000),
      ).toBeLessThan(1_500);
    }
  }, 30_000);

  it('Redis cut off: each node keeps its own cooldowns and probes on its own, and nothing waits', async () => {
    const [a, b] = nodes as [TestDaemon, TestDaemon, TestDaemon];
    await proxy.cut();
    simX.fault({ kind: 'status', status: 429, headers: { 'retry-after': '2' } }, Infinity);
    const hits = simX.callCount();
    const first = await ask(a.gatewayUrl, key, {});
    expect(first.status).toBe(200);
    expect(first.ms).toBeLessThan(1_000);
    expect(simX.callCount()).toBe(hits + 1);
    // benched on A, by A alone
    for (let k = 0; k < 3; k++) expect((await ask(a.gatewayUrl, key, {})).status).toBe(200);
    expect(simX.callCount()).toBe(hits + 1);
    expect((await ask(b.gatewayUrl, key, {})).status).toBe(200);
    expect(simX.callCount()).toBe(hits + 2);
    // A's cooldown ends: A probes without a cluster claim (it cannot get one)
    const probed = await msUntil(async () => {
      expect((await ask(a.gatewayUrl, key, {})).status).toBe(200);
      return simX.callCount() > hits + 2;
    }, 5_000);
    expect(probed).toBeLessThan(5_000);
    simX.clearFaults();
  }, 30_000);
});
