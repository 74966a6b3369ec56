// The gateways of scenario H, each on its own home (and database), configured alike through the
// `bc` CLI: two OpenAI channels to the 0 ms and 20 ms simulators, priced models, a key with a
// budget (admission reserves against it: in Redis when the target has Redis) and a key without.
//   sqlite    one daemon on its home's SQLite file, no Redis (the default)
//   workers2  `bc daemon` with BC_WORKERS=2 on the SQLite file + Redis
//   workers2s the same, its processes left free on cores 0-1 (full runs; see PINNING)
//   pg2       two daemons on one PostgreSQL database + Redis (shared prefix and master key)
//   pg1       one daemon on PostgreSQL alone (tells PostgreSQL's cost from Redis's)
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { openaiBody } from './bodies.mjs';
import { freePort, tempDir } from './procs.mjs';
import { LOAD_CORE, SERVER_CORE, bcRunner, launchDaemon } from './topology.mjs';

export const LABELS = {
  sqlite: '(1) 1 daemon, SQLite',
  workers2: '(2) --workers 2, SQLite + Redis',
  workers2s: '(2s) same, cores 0-1',
  pg2: '(3) 2 daemons, PostgreSQL + Redis',
  pg1: '(4) 1 daemon, PostgreSQL',
};
export const PINNING =
  `every gateway process (daemon, supervisor, workers) on core ${SERVER_CORE}, as the gateway of ` +
  `A-G; PostgreSQL, Redis, the simulators and wrk on core ${LOAD_CORE}. workers2s: the supervisor ` +
  `and its two workers free on cores ${LOAD_CORE}-${SERVER_CORE}, so they compete with wrk, the ` +
  'simulators, PostgreSQL and Redis for core 0 (the machine has only two cores).';
const UPSTREAM_KEY = 'sk-bench-upstream';
export const KEYS = ['budgeted', 'open'];

/** Starts target `id` (stores: {redis, pgUrl(db)}); {id, ports, procs, bc, keys, nodePids()}. */
export async function startTarget(id, { dir, simUrl, stores }) {
  const n = id === 'pg2' ? 2 : 1;
  const shared = {};
  if (id.startsWith('workers')) Object.assign(shared, { BC_WORKERS: '2', BC_REDIS: stores.redis.url });
  if (id === 'pg1') shared.BC_DB = stores.pgUrl('h_pg1');
  if (id === 'pg2')
    Object.assign(shared, {
      BC_DB: stores.pgUrl('h_pg2'),
      BC_REDIS: stores.redis.url,
      BC_MASTER_KEY: randomBytes(32).toString('hex'),
    });
  if (shared.BC_REDIS) shared.BC_REDIS_PREFIX = `bench-${id}:`;
  const envs = [];
  const procs = [];
  // one after the other: the first migrates the database and seeds Redis
  for (let i = 0; i < n; i++) {
    const home = tempDir(path.join(os.tmpdir(), `bc-bench-h-${id}-`));
    const env = {
      ...shared,
      BC_HOME: home,
      BC_LISTEN: `127.0.0.1:${await freePort()}`,
      BC_SOCKET: path.join(home, 'bc.sock'),
    };
    const core = id === 'workers2s' ? `${LOAD_CORE},${SERVER_CORE}` : SERVER_CORE;
    procs.push(await launchDaemon(`h-${id}-${i}`, env, path.join(dir, `h-${id}-${i}.log`), [], core));
    envs.push(env);
  }
  const bc = bcRunner(envs[0]);
  const t = { id, ports: envs.map((e) => Number(e.BC_LISTEN.split(':')[1])), procs, bc };
  t.nodePids = () => {
    const s = JSON.parse(bc('status', '--json'));
    return (s.nodes ?? [{ pid: s.pid }]).map((x) => x.pid);
  };
  const nodes = id === 'sqlite' || id === 'pg1' ? 1 : 2;
  for (const until = Date.now() + 30_000; t.nodePids().length < nodes; await delay(200))
    if (Date.now() > until) throw new Error(`${id}: ${nodes} nodes not listed by bc status after 30 s`);
  configure(t, simUrl);
  return t;
}

function configure(t, simUrl) {
  for (const [model, ms] of [
    ['m0', 0],
    ['m20', 20],
  ]) {
    const ch = ['channel', 'add', '--name', `sim${ms}`, '--type', 'openai', '--key', UPSTREAM_KEY];
    t.bc(...ch, '--models', model, '--base-url', `${simUrl(ms)}/v1`);
    t.bc('price', 'set', model, '--input', '1', '--output', '2');
  }
  t.keys = {};
  for (const k of KEYS) t.keys[k] = JSON.parse(t.bc('key', 'create', '--name', k, '--json')).key;
  t.bc('key', 'edit', 'budgeted', '--budget', '1000000');
}

/**
 * Where wrk sends `key`'s requests for `model`: the target's first port, or with `spread` all its
 * ports (wrk's threads split over them); `port` picks one node.
 */
export function targetEndpoint(t, key, model, { spread = false, port = t.ports[0] } = {}) {
  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.keys[key]}` },
    body: (s) => openaiBody(model, s),
    shape: 'openai',
    ports: spread && t.ports.length > 1 ? t.ports : undefined,
  };
}

/** One request per node, key and model until each answers 200 from the simulator (10 s at most). */
export async function checkTarget(t) {
  for (const port of t.ports)
    for (const key of KEYS)
      for (const model of ['m0', 'm20']) {
        const ep = targetEndpoint(t, key, model, { port });
        let last = '';
        for (const until = Date.now() + 10_000; ; await delay(200)) {
          try {
            const r = await fetch(ep.url, { method: 'POST', headers: ep.headers, body: ep.body(false) });
            const text = await r.text();
            if (r.status === 200 && text.includes('benchmark simulator')) break;
            last = `${r.status} ${text.slice(0, 200)}`;
          } catch (e) {
            last = e.message;
          }
          if (Date.now() > until) throw new Error(`${t.id} port ${port} ${key}/${model}: ${last}`);
        }
      }
}
