/**
 * `bc top` over a cluster (SPEC section 9): three real daemons on one PostgreSQL database and one
 * Redis, node C reaching Redis through a cuttable proxy. k requests through A and m through B:
 * A's socket answers k + m for the whole cluster, m for node=<B>, k for node=local, through the
 * control route and through the real `bc top --once [--json] [--node]`; an unknown node is a 404
 * naming the live ones. C cut off from Redis still answers, with its own numbers and a word that
 * the cluster view is unavailable, and leaves A's cluster view; killed, it leaves it within the
 * expiry of its numbers; B stopped leaves it at once.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiChannelArgs } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { freePort } from '../support/servers.js';
import { freshPgDatabase, freshRedisPrefix, redisUrl } from '../support/stores.js';
import { Proxy } from '../support/tcp-proxy.js';
import { createDaemonClient, type DaemonClient } from '../../src/shared/daemon-client.js';
import type { KeyCreated } from '../../src/shared/control-api.js';
import type { MetricsSnapshot } from '../../src/shared/metrics-types.js';

let sim: OpenAISim;
let proxy: Proxy;
let a: TestDaemon, b: TestDaemon, c: TestDaemon;
let ca: DaemonClient, cb: DaemonClient, cc: DaemonClient;
let key: string;
const ids: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };

const json = <T>(r: { code: number; stdout: string; stderr: string }): T => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

function chat(gatewayUrl: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(`${gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(JSON.stringify({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }));
  });
}

async function send(n: TestDaemon, count: number): Promise<void> {
  for (let i = 0; i < count; i++) expect(await chat(n.gatewayUrl)).toBe(200);
}

async function snap(client: DaemonClient, node?: string): Promise<MetricsSnapshot> {
  return (await client.metricsSnapshot(node)) as MetricsSnapshot;
}

/** Polls `get` every 50 ms until `ok` holds of its value (5 s at most); returns the last value. */
async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  sim = await startOpenAISim();
  const viaProxy = new URL(redisUrl());
  proxy = new Proxy(await freePort(), Number(viaProxy.port));
  await proxy.open();
  viaProxy.port = String(proxy.port);
  const env = {
    BC_DB: await freshPgDatabase(),
    BC_REDIS: redisUrl(),
    BC_REDIS_PREFIX: freshRedisPrefix(),
    BC_MASTER_KEY: randomBytes(32).toString('hex'),
  };
  // the first migrates the database and seeds Redis, then the other two join
  a = await startTestDaemon({ env });
  [b, c] = await Promise.all([
    startTestDaemon({ env }),
    startTestDaemon({ env: { ...env, BC_REDIS: viaProxy.toString() } }),
  ]);
  [ca, cb, cc] = [a, b, c].map((n) => createDaemonClient({ socket: n.socket, timeoutMs: 5_000 })) as [
    DaemonClient,
    DaemonClient,
    DaemonClient,
  ];
  json(await a.bc([...openaiChannelArgs('sim', 'sk-up-0000000000', 'm', '--base-url', sim.url), '--json']));
  key = json<KeyCreated>(await a.bc(['key', 'create', '--name', 'k', '--json'])).key;
  for (const n of [b, c])
    expect(
      await until(
        () => chat(n.gatewayUrl),
        (s) => s === 200,
      ),
    ).toBe(200);
  for (const [name, client] of [
    ['a', ca],
    ['b', cb],
    ['c', cc],
  ] as const)
    ids[name] = (await snap(client, 'local')).scope!.node!;
}, 120_000);

afterAll(async () => {
  await Promise.all([ca, cb, cc].map((x) => x?.close()));
  await Promise.all([a, b, c].map((n) => n?.cleanup()));
  await proxy?.cut();
  await sim?.close();
});

describe('bc top over three daemons', () => {
  // the warm-up requests above are counted too: measure from here
  let base: { a: number; b: number; c: number };

  it('counts the whole cluster, one node, or the answering node', async () => {
    base = {
      a: (await snap(ca, 'local')).totals.requests,
      b: (await snap(cb, 'local')).totals.requests,
      c: (await snap(cc, 'local')).totals.requests,
    };
    const [k, m] = [5, 3];
    await send(a, k);
    await send(b, m);
    const all = base.a + base.b + base.c + k + m;
    // B publishes once a second: its numbers reach A's cluster view within about a second
    const cluster = await until(
      () => snap(ca),
      (s) => s.totals.requests === all,
    );
    expect(cluster.totals.requests).toBe(all);
    expect(cluster.scope).toEqual({ node: null, nodes: [ids.a, ids.b, ids.c].sort(), answered_by: ids.a });
    expect(cluster.models.find((r) => r.id === 'm')?.window.requests).toBe(all);
    const onlyB = await snap(ca, ids.b);
    expect(onlyB.totals.requests).toBe(base.b + m);
    expect(onlyB.scope).toEqual({ node: ids.b, nodes: [ids.b], answered_by: ids.a });
    const local = await snap(ca, 'local');
    expect(local.totals.requests).toBe(base.a + k);
    expect(local.scope?.node).toBe(ids.a);
    // the same through B's socket, once A's numbers since its last write are published
    const fromB = await until(
      () => snap(cb),
      (s) => s.totals.requests === all,
    );
    expect(fromB.totals.requests).toBe(all);

    // the real bc: the JSON one-shot takes --node, the frame's header says whose numbers they are
    const viaBc = json<MetricsSnapshot>(await a.bc(['top', '--once', '--json', '--node', ids.b]));
    expect(viaBc.totals.requests).toBe(base.b + m);
    const frame = await a.bc(['top', '--once']);
    expect(frame.code, frame.stderr).toBe(0);
    expect(frame.stdout.split('\n')[0]).toContain('cluster of 3 nodes');
  });

  it('streams the view asked for', async () => {
    const ac = new AbortController();
    const seen: (string | null | undefined)[] = [];
    for await (const doc of ca.metricsStream(ac.signal, ids.b)) {
      seen.push((doc as MetricsSnapshot).scope?.node);
      ac.abort();
    }
    expect(seen).toEqual([ids.b]);
  });

  it('answers an unknown node with a 404 naming the live ones', async () => {
    const err = await ca.metricsSnapshot('nope').then(
      () => null,
      (e: unknown) => e as { status?: number; message: string },
    );
    expect(err?.status).toBe(404);
    for (const id of Object.values(ids)) expect(err?.message).toContain(id);
    const r = await a.bc(['top', '--once', '--node', 'nope']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(ids.b);
  });

  it("a node cut off from Redis shows its own numbers and leaves the others' view", async () => {
    await send(c, 2);
    const before = await until(
      () => snap(ca),
      (s) => s.totals.requests === base.a + base.b + base.c + 5 + 3 + 2,
    );
    expect(before.scope?.nodes).toHaveLength(3);
    await proxy.cut();
    try {
      const own = await snap(cc);
      expect(own.scope?.cluster_unavailable).toMatch(/Redis cannot be read/);
      expect(own.scope?.node).toBe(ids.c);
      expect(own.totals.requests).toBe(base.c + 2);
      // C can no longer publish: its numbers leave A's cluster view when its key expires
      const without = await until(
        () => snap(ca),
        (s) => s.scope?.nodes.length === 2,
      );
      expect(without.scope?.nodes).toEqual([ids.a, ids.b].sort());
      expect(without.totals.requests).toBe(base.a + base.b + 5 + 3);
    } finally {
      await proxy.open();
    }
    // back once C reconnects: it reads the others again, and publishes again (A sees it)
    const back = await until(
      () => snap(cc),
      (s) => s.scope?.node === null && s.scope.nodes.length === 3,
    );
    expect(back.totals.requests).toBe(base.a + base.b + base.c + 5 + 3 + 2);
    const seenByA = await until(
      () => snap(ca),
      (s) => s.scope?.nodes.length === 3,
    );
    expect(seenByA.totals.requests).toBe(base.a + base.b + base.c + 5 + 3 + 2);
  });

  it("a killed node's numbers leave the cluster view within seconds", async () => {
    expect((await snap(ca)).scope?.nodes).toHaveLength(3);
    c.kill('SIGKILL');
    const t0 = Date.now();
    const after = await until(
      () => snap(ca),
      (s) => s.scope?.nodes.length === 2,
    );
    expect(after.scope?.nodes).toEqual([ids.a, ids.b].sort());
    expect(after.totals.requests).toBe(base.a + base.b + 5 + 3);
    // a 3 s expiry, and a write at most a second before the kill
    expect(Date.now() - t0).toBeLessThan(4_500);
    const err = await ca.metricsSnapshot(ids.c).then(
      () => null,
      (e: unknown) => e as { status?: number },
    );
    expect(err?.status).toBe(404);
  });

  it("a stopped node's numbers leave at once (it deletes them)", async () => {
    await b.stop();
    // no expiry to wait for: the first look after the stop already leaves B out
    const after = await snap(ca);
    expect(after.scope?.nodes).toEqual([ids.a]);
    expect(after.totals.requests).toBe(base.a + 5);
  });
});
