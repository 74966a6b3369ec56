/**
 * Failures of a cluster under load (SPEC section 9): three real daemons on one PostgreSQL
 * database, reaching the run's Redis through a TCP proxy the test can cut (the shared Redis itself
 * is never stopped: other test files use it).
 * - Redis away for two seconds under light load: a budgeted key gets a fast 503
 *   coordination_unavailable with Retry-After (never a hang), an unbudgeted key keeps being
 *   served, budgeted requests are served again within seconds of Redis coming back, and the key's
 *   spend stays within its budget and equals the sum of its rows.
 * - One node SIGKILLed in the middle of streams spread over the three: every response a client
 *   received whole has its row, the key's spend equals the sum of its rows (the killed node's
 *   unfinished requests leave neither), the other two keep serving during and after, and the dead
 *   node leaves the node list within the registry's expiry.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiChannelArgs } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { freshPgDatabase, freshRedisPrefix, redisUrl } from '../support/stores.js';
import { freePort } from '../support/servers.js';
import { Proxy } from '../support/tcp-proxy.js';
import { ask, books, json, msUntil, sleep, type Answer } from '../support/cluster-client.js';
import type { KeyCreated, StatusView } from '../../src/shared/control-api.js';

let sim: OpenAISim;
let proxy: Proxy;
const nodes: TestDaemon[] = [];

beforeAll(async () => {
  sim = await startOpenAISim();
  const redis = new URL(redisUrl());
  proxy = new Proxy(await freePort(), Number(redis.port));
  await proxy.open();
  redis.port = String(proxy.port);
  const env = {
    BC_DB: await freshPgDatabase(),
    BC_REDIS: redis.toString(),
    BC_REDIS_PREFIX: freshRedisPrefix(),
    // every node needs the same master key (SPEC section 9)
    BC_MASTER_KEY: randomBytes(32).toString('hex'),
  };
  // one after the other: the first migrates the database and seeds Redis
  for (let i = 0; i < 3; i++) nodes.push(await startTestDaemon({ env }));
  const a = nodes[0]!;
  json(await a.bc([...openaiChannelArgs('sim', 'sk-up-0000000000', 'm', '--base-url', sim.url), '--json']));
  // cheap requests: $1 per 1M tokens in, $10 out
  json(await a.bc(['price', 'set', 'm', '--input', '1', '--output', '10', '--json']));
}, 120_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.cleanup()));
  await sim?.close();
  await proxy?.cut().catch(() => undefined);
});

describe('a cluster of three daemons under failures', () => {
  it('Redis away under load: budgeted keys get a fast 503, unbudgeted ones are served, then all recover', async () => {
    const [a] = nodes as [TestDaemon];
    const budgeted = json<KeyCreated>(
      await a.bc(['key', 'create', '--name', 'rb', '--budget', '1', '--json']),
    );
    const free = json<KeyCreated>(await a.bc(['key', 'create', '--name', 'rf', '--json']));
    // every node serves both keys (each seeds a new key on Redis when it learns of it)
    for (const n of nodes)
      for (const k of [budgeted, free])
        expect(
          await msUntil(async () => (await ask(n.gatewayUrl, k.key, {})).status === 200, 5000),
        ).toBeLessThan(5000);

    // ~10 requests a second, alternating keys and nodes, in phases: before, cut, after
    type Sent = Answer & { budgeted: boolean; phase: 'cut' | 'back' };
    const sent: Sent[] = [];
    let phase: 'cut' | 'back' | undefined;
    let stop = false;
    let i = 0;
    const pending: Promise<void>[] = [];
    const load = (async () => {
      while (!stop) {
        const n = nodes[i % 3]!;
        const isBudgeted = i % 2 === 0;
        const p = phase;
        i++;
        pending.push(
          ask(n.gatewayUrl, isBudgeted ? budgeted.key : free.key, { max_tokens: 20 }).then((r) => {
            if (p) sent.push({ ...r, budgeted: isBudgeted, phase: p });
          }),
        );
        await sleep(100);
      }
    })();
    await sleep(500);
    await proxy.cut();
    phase = 'cut';
    let during: Awaited<ReturnType<TestDaemon['bc']>>;
    try {
      const cutAt = Date.now();
      // a control-plane change while Redis is away (a budgeted key) is committed and reported as
      // done: the other nodes learn of it by their version poll, and it is seeded once Redis is back
      during = await a.bc(['key', 'create', '--name', 'rc', '--budget', '1', '--json']);
      await sleep(2000 - (Date.now() - cutAt));
    } finally {
      // back even if something above threw, so that the next test finds Redis
      await proxy.open();
    }
    phase = 'back';
    // budgeted requests are served again within a few seconds, by every node (a node still
    // reconnecting would also refuse the next test's control-plane edits that seed Redis)
    for (const n of nodes) {
      const recovered = await msUntil(
        async () => (await ask(n.gatewayUrl, budgeted.key, {})).status === 200,
        8000,
      );
      expect(recovered).toBeLessThan(8000);
    }
    expect(during.code, during.stderr).toBe(0);
    const rc = JSON.parse(during.stdout) as KeyCreated;
    for (const n of nodes)
      expect(
        await msUntil(async () => (await ask(n.gatewayUrl, rc.key, {})).status === 200, 8000),
      ).toBeLessThan(8000);
    await sleep(1000);
    stop = true;
    await load;
    await Promise.all(pending);

    const cut = sent.filter((s) => s.phase === 'cut');
    const cutBudgeted = cut.filter((s) => s.budgeted);
    const cutFree = cut.filter((s) => !s.budgeted);
    expect(cutBudgeted.length).toBeGreaterThanOrEqual(5);
    expect(cutFree.length).toBeGreaterThanOrEqual(5);
    // budgeted: refused fast (never a hang) with the error and a Retry-After, except any that had
    // taken its reservation before the cut reached its node
    const refused = cutBudgeted.filter((s) => s.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(cutBudgeted.length - 2);
    for (const s of refused) {
      expect(s.error).toBe('coordination_unavailable');
      expect(Number(s.retryAfter)).toBeGreaterThan(0);
      expect(s.ms).toBeLessThan(500);
    }
    for (const s of cutBudgeted) expect([200, 503]).toContain(s.status);
    // unbudgeted: served throughout
    for (const s of cutFree) expect(s.status).toBe(200);
    // after: everything sent once the budgeted key was served again is served
    const late = sent.filter((s) => s.phase === 'back');
    expect(late.filter((s) => !s.budgeted).every((s) => s.status === 200)).toBe(true);

    // the books: spend within the budget and equal to the sum of the rows
    await sleep(500);
    const { spent, rows } = await books(a, 'rb');
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(1_000_000);
    expect(spent).toBe(rows.reduce((s, r) => s + r.cost, 0));
  }, 60_000);

  it('one node SIGKILLed mid-load: no settled request lost, spend = rows, the others serve, it leaves the list', async () => {
    const [a, b, c] = nodes as [TestDaemon, TestDaemon, TestDaemon];
    const key = json<KeyCreated>(await a.bc(['key', 'create', '--name', 'kb', '--budget', '5', '--json']));
    for (const n of nodes)
      expect(
        await msUntil(async () => (await ask(n.gatewayUrl, key.key, {})).status === 200, 5000),
      ).toBeLessThan(5000);

    // 12 workers, each streaming to the nodes in turn for ~1.5 s; B is killed after 600 ms
    type Sent = Answer & { node: TestDaemon; afterKill: boolean };
    const sent: Sent[] = [];
    let killedAt = 0;
    const t0 = Date.now();
    const workers = Array.from({ length: 12 }, async (_, w) => {
      for (let j = 0; Date.now() - t0 < 1500; j++) {
        const node = nodes[(w + j) % 3]!;
        const afterKill = killedAt > 0;
        const r = await ask(node.gatewayUrl, key.key, {
          stream: true,
          max_tokens: 20,
          metadata: { 'x-sim-pace-ms': '20', 'x-sim-deltas': '5' },
        });
        sent.push({ ...r, node, afterKill });
      }
    });
    await sleep(600);
    b.kill('SIGKILL');
    killedAt = Date.now();
    await Promise.all(workers);

    // A and C served everything, during and after the kill
    const others = sent.filter((s) => s.node !== b);
    expect(others.filter((s) => s.afterKill).length).toBeGreaterThan(5);
    for (const s of others)
      expect({ status: s.status, whole: s.whole }).toEqual({ status: 200, whole: true });
    // B's requests: those finished before the kill, the rest cut off or refused
    expect(sent.filter((s) => s.node === b && s.whole).length).toBeGreaterThan(0);

    // B leaves the node list within the registry's expiry (5 s after its last beat)
    // (timed from the start of the status call that no longer shows it)
    let goneAfter = Infinity;
    while (Date.now() - killedAt < 8000) {
      const asked = Date.now();
      const s = json<StatusView>(await a.bc(['status', '--json']));
      if (!s.nodes!.some((x) => x.pid === b.pid)) {
        goneAfter = asked - killedAt;
        break;
      }
      await sleep(50);
    }
    expect(goneAfter).toBeLessThanOrEqual(5_000);

    // every response received whole has its row, and the spend is the sum of the rows
    const { spent, rows } = await books(a, 'kb');
    const ids = new Set(rows.map((r) => r.request_id));
    const whole = sent.filter((s) => s.whole);
    for (const s of whole) expect(ids.has(s.requestId!), s.requestId).toBe(true);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBe(rows.reduce((sum, r) => sum + r.cost, 0));
    // and A and C still serve after it is gone
    for (const n of [a, c]) expect((await ask(n.gatewayUrl, key.key, {})).status).toBe(200);
  }, 60_000);
});
