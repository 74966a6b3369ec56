/**
 * `bc daemon --workers N` (SPEC section 9, one machine's cores): the real `bc start` with
 * BC_WORKERS=2 on the home's SQLite file and a real Redis. The supervisor takes the pidfile and
 * starts two gateway processes on one port and one control socket; `bc status` (answered by
 * either worker) lists both as nodes and gives the supervisor's pid; requests land on both (and
 * `bc top` merges both, or shows one with --node), every
 * one gets exactly one log row with an id of its own (two processes append to one file); a key
 * budget is exact across the two (Redis); an edit through the socket reaches both within a second;
 * a worker SIGKILLed under load is replaced by the supervisor and every request that completed has
 * its row; a worker whose event loop stops is killed and replaced after the watchdog period; `bc stop` ends the supervisor and both workers and removes the pidfile and socket. Also
 * the refusal of --workers above 1 without BC_REDIS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiChannelArgs, runBc } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { freshRedisPrefix, redisUrl } from '../support/stores.js';
import { ask, books, json, msUntil, sleep } from '../support/cluster-client.js';
import type { KeyCreated, LogRow, StatusView } from '../../src/shared/control-api.js';
import type { MetricsSnapshot } from '../../src/shared/metrics-types.js';

let sim: OpenAISim;
let d: TestDaemon;

const status = async (): Promise<StatusView> => json<StatusView>(await d.bc(['status', '--json']));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The workers' pids as the cluster's node list has them. */
async function workerPids(): Promise<number[]> {
  return ((await status()).nodes ?? []).map((n) => n.pid).sort((a, b) => a - b);
}

beforeAll(async () => {
  sim = await startOpenAISim();
  d = await startTestDaemon({
    env: {
      BC_WORKERS: '2',
      BC_REDIS: redisUrl(),
      BC_REDIS_PREFIX: freshRedisPrefix(),
      // a worker silent for 6 s is wedged (default 30 s)
      BC_WORKER_WATCHDOG_MS: '6000',
    },
  });
  json(await d.bc([...openaiChannelArgs('sim', 'sk-up-000000000000', 'm', '--base-url', sim.url), '--json']));
}, 120_000);

afterAll(async () => {
  await d?.cleanup();
  await sim?.close();
});

describe('bc daemon --workers 2 on SQLite and Redis', () => {
  it('bc status lists both workers as nodes, with the supervisor pid that bc stop waits for', async () => {
    const seen = new Set<number>();
    // each `bc status` is a new connection to the socket, accepted by whichever worker is free
    for (let i = 0; i < 30 && seen.size < 2; i++) {
      const s = await status();
      expect(s.pid).toBe(d.pid);
      expect(s.worker).toMatchObject({ count: 2 });
      expect(s.redis).toBe('ok');
      expect(s.nodes).toHaveLength(2);
      seen.add(s.worker!.pid);
    }
    const pids = await workerPids();
    expect(pids).not.toContain(d.pid);
    const human = await d.bc(['status']);
    expect(human.stdout).toMatch(new RegExp(`pid\\s+${d.pid}\\n`));
    expect(human.stdout).toMatch(/worker\s+[01] of 2 \(pid \d+\)/);
    expect([...seen].sort((a, b) => a - b)).toEqual(pids);
  }, 60_000);

  it('requests land on both workers, each with exactly one log row and an id of its own', async () => {
    const k = json<KeyCreated>(await d.bc(['key', 'create', '--name', 'spread', '--json']));
    // bc top's numbers, merged and per worker (each worker's digest is up to a second old)
    const ids = ((await status()).nodes ?? []).map((n) => n.node_id);
    expect(ids).toHaveLength(2);
    const top = async (): Promise<number[]> => {
      const all = json<MetricsSnapshot>(await d.bc(['top', '--once', '--json']));
      const each = await Promise.all(
        ids.map(async (id) => json<MetricsSnapshot>(await d.bc(['top', '--once', '--json', '--node', id]))),
      );
      expect(all.scope?.nodes).toEqual([...ids].sort());
      return [all.totals.requests, ...each.map((e) => e.totals.requests)];
    };
    // settled from the earlier tests: two reads a second and a half apart agree
    let base = await top();
    for (;;) {
      await sleep(1_500);
      const again = await top();
      if (again.every((n, i) => n === base[i])) break;
      base = again;
    }
    const answers = await Promise.all(Array.from({ length: 40 }, () => ask(d.gatewayUrl, k.key, {})));
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
    // the merged view counts all 40, it is the sum of the two, and every worker served some
    let now = base;
    const ms = await msUntil(async () => {
      now = await top();
      return now[0] === base[0]! + 40 && now[1]! + now[2]! === now[0];
    }, 10_000);
    expect(ms, `bc top: ${JSON.stringify({ base, now })}`).toBeLessThan(10_000);
    expect(now[1]).toBeGreaterThan(base[1]!);
    expect(now[2]).toBeGreaterThan(base[2]!);
    const rows = json<LogRow[]>(await d.bc(['logs', '--key', 'spread', '--limit', '1000', '--json']));
    expect(rows.map((r) => r.request_id).sort()).toEqual(answers.map((a) => a.requestId).sort());
    expect(new Set(rows.map((r) => r.id)).size).toBe(40);
  }, 60_000);

  it('a key budget holds across the workers: 10 requests worth, 30 at once, exactly 10 served, spend = rows', async () => {
    // input free, output $100 per 1M tokens: max_tokens 1000 is a worst case of $0.10, $1 covers 10
    json(await d.bc(['price', 'set', 'm', '--input', '0', '--output', '100', '--json']));
    const k = json<KeyCreated>(
      await d.bc(['key', 'create', '--name', 'tenth', '--budget', '1', '--strict-budget', '--json']),
    );
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        ask(d.gatewayUrl, k.key, {
          stream: true,
          max_tokens: 1000,
          metadata: { 'x-sim-pace-ms': '100', 'x-sim-deltas': '5' },
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 200 && a.whole).length).toBe(10);
    expect(answers.filter((a) => a.status === 403 && a.error === 'insufficient_quota').length).toBe(20);
    const b = await books(d, 'tenth');
    expect(b.rows.filter((r) => r.status === 200)).toHaveLength(10);
    expect(b.spent).toBe(b.rows.reduce((s, r) => s + (r.cost ?? 0), 0));
    expect(b.spent).toBeLessThanOrEqual(1_000_000);
  }, 60_000);

  it('a key revoked through the socket is refused by both workers within a second', async () => {
    const k = json<KeyCreated>(await d.bc(['key', 'create', '--name', 'soon-gone', '--json']));
    expect((await ask(d.gatewayUrl, k.key, {})).status).toBe(200);
    json(await d.bc(['key', 'revoke', 'soon-gone', '--json']));
    // ten new connections each time: both workers answer some of them
    const ms = await msUntil(async () => {
      const answers = await Promise.all(Array.from({ length: 10 }, () => ask(d.gatewayUrl, k.key, {})));
      return answers.every((a) => a.status === 403 && a.error === 'key_disabled');
    }, 5_000);
    expect(ms).toBeLessThan(1_000);
  }, 60_000);

  it('a worker SIGKILLed under load is replaced; every request that completed has its row', async () => {
    const k = json<KeyCreated>(await d.bc(['key', 'create', '--name', 'crash', '--json']));
    const [victim] = await workerPids();
    const load = Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        sleep(i * 20).then(() =>
          ask(d.gatewayUrl, k.key, {
            stream: true,
            max_tokens: 20,
            metadata: { 'x-sim-pace-ms': '60', 'x-sim-deltas': '6' },
          }),
        ),
      ),
    );
    await sleep(200);
    process.kill(victim!, 'SIGKILL');
    const answers = await load;
    // the survivor kept serving
    expect(answers.filter((a) => a.status === 200 && a.whole).length).toBeGreaterThan(0);
    // replaced within the supervisor's first restart delay (1 s) plus a start-up
    const replaced = await msUntil(async () => {
      const pids = await workerPids();
      return pids.length === 2 && !pids.includes(victim!) && alive(pids[0]!) && alive(pids[1]!);
    }, 30_000);
    expect(replaced).toBeLessThan(30_000);
    expect(alive(victim!)).toBe(false);
    const b = await books(d, 'crash');
    const logged = new Set(b.rows.map((r) => r.request_id));
    for (const a of answers.filter((x) => x.status === 200 && x.whole)) expect(logged).toContain(a.requestId);
    expect(b.spent).toBe(b.rows.reduce((s, r) => s + (r.cost ?? 0), 0));
    // the replacement serves too
    const again = await Promise.all(Array.from({ length: 10 }, () => ask(d.gatewayUrl, k.key, {})));
    expect(again.map((a) => a.status)).toEqual(Array(10).fill(200));
  }, 90_000);

  it('a worker whose event loop stops (SIGSTOP) is killed and replaced; the other serves meanwhile', async () => {
    const k = json<KeyCreated>(await d.bc(['key', 'create', '--name', 'wedge', '--json']));
    const [victim] = await workerPids();
    process.kill(victim!, 'SIGSTOP');
    try {
      const t0 = Date.now();
      const replaced = await msUntil(async () => {
        const pids = await workerPids().catch((): number[] => []);
        return pids.length === 2 && !pids.includes(victim!);
      }, 40_000);
      expect(replaced).toBeLessThan(40_000);
      // not before the watchdog period: a busy worker is not killed for being slow
      expect(Date.now() - t0).toBeGreaterThanOrEqual(6_000);
      expect(alive(victim!)).toBe(false);
    } finally {
      try {
        process.kill(victim!, 'SIGCONT');
      } catch {
        // killed, as it should be
      }
    }
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask(d.gatewayUrl, k.key, {})));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
  }, 90_000);

  it('bc stop ends the supervisor and every worker, and removes the pidfile and the socket', async () => {
    const pids = await workerPids();
    await d.stop();
    expect(alive(d.pid)).toBe(false);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(fs.existsSync(path.join(d.home, 'bc.pid'))).toBe(false);
    expect(fs.existsSync(d.socket)).toBe(false);
  }, 60_000);

  it('refuses --workers above 1 without BC_REDIS, naming the setting', async () => {
    const r = await runBc(['start', '--workers', '2'], {
      env: { BC_LISTEN: '127.0.0.1:0' },
      timeoutMs: 60_000,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--workers 2 needs BC_REDIS=redis:\/\//);
  }, 60_000);
});
