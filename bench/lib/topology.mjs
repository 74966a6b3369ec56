// The benchmark's topology (BENCH.md): simulators (0, 20 and 60 ms) on the load core, and on the
// server core the floor, the gateway (the real daemon on a temporary BC_HOME, configured through
// the `bc` CLI with a priced model and a key with budget, rpm, tpm and concurrency limits) and
// the peer (Portkey). endpoint(target, kind) says where and how each is asked for each upstream.
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, runSync, start, stop, tempDir, waitHttp, waitReadyLine } from './procs.mjs';
import { anthropicBody, openaiBody } from './bodies.mjs';

export const LOAD_CORE = 0;
export const SERVER_CORE = 1;
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const TARGETS = ['direct', 'floor', 'gateway', 'peer'];
/** kind -> simulator delay and model; `anth` is an OpenAI client to an Anthropic channel (F). */
export const KINDS = {
  d0: { delay: 0, model: 'm0' },
  d20: { delay: 20, model: 'm20' },
  d60: { delay: 60, model: 'm60' },
  anth: { delay: 0, model: 'a0' },
};
const UPSTREAM_KEY = 'sk-bench-upstream';
/** What a CLI start looks like while another build is rewriting dist/ in a shared checkout. */
export const HALF_BUILT = /SyntaxError|ERR_MODULE_NOT_FOUND|Cannot find module|is not built yet/;
export const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function spawnSim(t, delay) {
  const args = [
    '--port',
    String(t.sims[delay].port),
    '--delay-ms',
    String(delay),
    '--deltas',
    '64',
    '--pace-ms',
    '20',
  ];
  t.sims[delay].proc = start(
    `sim-${delay}ms`,
    process.execPath,
    [path.join(ROOT, 'bench/sim.mjs'), ...args],
    {
      core: LOAD_CORE,
      logFile: path.join(t.workDir, `sim-${delay}.log`),
    },
  );
  return waitReadyLine(t.sims[delay].proc);
}

function spawnFloor(t) {
  const routes = ['m0', 'm20', 'm60'].map((m, i) => `${m}=${t.simUrl([0, 20, 60][i])}`);
  const args = [path.join(ROOT, 'bench/floor.mjs'), '--port', String(t.floorPort), ...routes];
  t.procs.floor = start('floor', process.execPath, args, {
    core: SERVER_CORE,
    logFile: path.join(t.workDir, 'floor.log'),
  });
  return waitReadyLine(t.procs.floor);
}

function spawnPeer(t) {
  const server = path.join(ROOT, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  const args = [
    '--import',
    path.join(ROOT, 'bench/portkey-preload.mjs'),
    server,
    `--port=${t.peerPort}`,
    '--headless',
  ];
  t.procs.peer = start('peer', process.execPath, args, {
    core: SERVER_CORE,
    logFile: path.join(t.workDir, 'peer.log'),
  });
  return waitHttp(t.procs.peer, `http://127.0.0.1:${t.peerPort}/`, 30_000, (s) => s === 200);
}

export async function startTopology({ workDir, cpuProfDir, log = () => {}, gatewayOnly = false }) {
  const t = { workDir, cpuProfDir, sims: {}, procs: {} };
  for (const delay of [0, 20, 60]) t.sims[delay] = { port: await freePort() };
  await Promise.all([0, 20, 60].map((d) => spawnSim(t, d)));
  log(`simulators on ports ${[0, 20, 60].map((d) => t.sims[d].port).join(', ')}`);
  t.simUrl = (d) => `http://127.0.0.1:${t.sims[d].port}`;
  t.endpoint = (target, kind) => endpoint(t, t.simUrl, target, kind);
  if (gatewayOnly) {
    await startGateway(t, t.simUrl);
    return t;
  }
  t.peerPort = await freePort();
  t.floorPort = await freePort();
  // the peer takes a second or two to boot: it starts first and is waited for last
  const peer = spawnPeer(t);
  const floor = spawnFloor(t);
  await startGateway(t, t.simUrl);
  log(`gateway pid ${t.procs.gateway.pid} on port ${t.gatewayPort}, home ${t.home}`);
  await Promise.all([floor, peer]);
  log(`peer pid ${t.procs.peer.pid} on port ${t.peerPort}, floor on port ${t.floorPort}`);
  return t;
}

/** The topology's processes that are no longer running, as {name, code}. */
export function deadProcs(t) {
  const all = [...Object.values(t.sims).map((s) => s.proc), ...Object.values(t.procs)];
  return all.filter((p) => p.exited).map((p) => ({ name: p.name, pid: p.pid, code: p.exitCode ?? null }));
}

/** Starts again, on the same port, every process of the topology that has exited. */
export async function reviveDead(t) {
  for (const delay of [0, 20, 60]) if (t.sims[delay].proc.exited) await spawnSim(t, delay);
  if (t.procs.floor?.exited) await spawnFloor(t);
  if (t.procs.peer?.exited) await spawnPeer(t);
  if (t.procs.gateway?.exited) await launchGateway(t);
}

/** Starts the daemon on t.home and t.gatewayPort and waits until it is ready. */
export async function launchGateway(t) {
  const extra = t.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${t.cpuProfDir}`];
  // diagnostics for the daemon only, e.g. BENCH_GATEWAY_NODE_ARGS=--trace-gc (lands in gateway.log)
  if (process.env.BENCH_GATEWAY_NODE_ARGS) extra.push(...process.env.BENCH_GATEWAY_NODE_ARGS.split(' '));
  t.procs.gateway = await launchDaemon('gateway', t.gatewayEnv, path.join(t.workDir, 'gateway.log'), extra);
}

/**
 * `bc daemon` on `core` with `env` (BC_HOME, BC_LISTEN...), waited for until its /readyz
 * answers 200. Other builds may be rewriting dist/ in a shared checkout: a start that dies is
 * tried again.
 */
export async function launchDaemon(name, env, logFile, nodeArgs = [], core = SERVER_CORE) {
  for (let attempt = 1; ; attempt++) {
    const proc = start(name, process.execPath, [...nodeArgs, path.join(ROOT, 'bin/bc.js'), 'daemon'], {
      core,
      env,
      logFile,
    });
    try {
      await waitHttp(proc, `http://${env.BC_LISTEN}/readyz`, 30_000, (s) => s === 200);
      return proc;
    } catch (e) {
      if (attempt >= 3 || !proc.exited) throw e;
      await delay(3000);
    }
  }
}

/** `bc ...` against the daemon of `env`; its stdout, tried again while dist/ is half built. */
export const bcRunner =
  (env) =>
  (...args) => {
    for (let attempt = 1; ; attempt++) {
      const r = runSync(process.execPath, [path.join(ROOT, 'bin/bc.js'), ...args], {
        env: { ...process.env, ...env },
      });
      if (r.status === 0) return r.stdout;
      if (attempt >= 3 || !HALF_BUILT.test(r.stderr))
        throw new Error(`bc ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
      sleepSync(2000);
    }
  };

/** Stops the daemon (SIGTERM, graceful) and starts it again on the same home and port. */
export async function restartGateway(t) {
  await stop(t.procs.gateway, 35_000);
  await launchGateway(t);
}

async function startGateway(t, simUrl) {
  t.home = tempDir(path.join(os.tmpdir(), 'bc-bench-'));
  t.gatewayPort = await freePort();
  t.gatewayEnv = {
    BC_HOME: t.home,
    BC_LISTEN: `127.0.0.1:${t.gatewayPort}`,
    BC_SOCKET: path.join(t.home, 'bc.sock'),
  };
  await launchGateway(t);
  const bc = bcRunner(t.gatewayEnv);
  for (const [name, model, ms] of [
    ['sim0', 'm0', 0],
    ['sim20', 'm20', 20],
    ['sim60', 'm60', 60],
  ]) {
    bc(
      'channel',
      'add',
      '--name',
      name,
      '--type',
      'openai',
      '--key',
      UPSTREAM_KEY,
      '--models',
      model,
      '--base-url',
      `${simUrl(ms)}/v1`,
    );
  }
  bc(
    'channel',
    'add',
    '--name',
    'anth0',
    '--type',
    'anthropic',
    '--key',
    UPSTREAM_KEY,
    '--models',
    'a0',
    '--base-url',
    simUrl(0),
  );
  for (const m of ['m0', 'm20', 'm60', 'a0']) bc('price', 'set', m, '--input', '1', '--output', '2');
  t.gatewayKey = JSON.parse(bc('key', 'create', '--name', 'bench', '--json')).key;
  bc(
    'key',
    'edit',
    'bench',
    '--budget',
    '1000000',
    '--rpm',
    '100000000',
    '--tpm',
    '100000000000',
    '--concurrency',
    '100000',
  );
  t.bc = bc;
}

/** {url, headers, body(stream), shape} for `target` asking upstream `kind`, or null if n/a. */
function endpoint(t, simUrl, target, kind) {
  const { delay: ms, model } = KINDS[kind];
  const json = { 'content-type': 'application/json' };
  const openai = (base, headers) => ({
    url: `${base}/v1/chat/completions`,
    headers: { ...json, ...headers },
    body: (s) => openaiBody(model, s),
    shape: 'openai',
  });
  if (target === 'direct') {
    if (kind === 'anth')
      return {
        url: `${simUrl(0)}/v1/messages`,
        headers: { ...json, 'x-api-key': UPSTREAM_KEY, 'anthropic-version': '2023-06-01' },
        body: (s) => anthropicBody(model, s),
        shape: 'anthropic',
      };
    return openai(simUrl(ms), { authorization: `Bearer ${UPSTREAM_KEY}` });
  }
  if (target === 'floor') return kind === 'anth' ? null : openai(`http://127.0.0.1:${t.floorPort}`, {});
  if (target === 'gateway')
    return openai(`http://127.0.0.1:${t.gatewayPort}`, { authorization: `Bearer ${t.gatewayKey}` });
  return openai(`http://127.0.0.1:${t.peerPort}`, {
    authorization: `Bearer ${UPSTREAM_KEY}`,
    'x-portkey-provider': kind === 'anth' ? 'anthropic' : 'openai',
    'x-portkey-custom-host': `${simUrl(ms)}/v1`,
  });
}

/** One request per target and kind before measuring: a fast error must never pass for speed. */
export async function checkEndpoints(t, kinds, targets = TARGETS) {
  const checks = [];
  for (const target of targets) {
    for (const kind of kinds) {
      const e = t.endpoint(target, kind);
      if (e !== null)
        for (const stream of [false, true])
          checks.push(checkOne(e, `${target}/${kind}${stream ? '/stream' : ''}`, stream));
    }
  }
  return (await Promise.all(checks)).filter((p) => p !== null);
}

async function checkOne(e, label, stream) {
  try {
    const r = await fetch(e.url, {
      method: 'POST',
      headers: e.headers,
      body: e.body(stream),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await r.text();
    const good = r.status === 200 && (stream ? /w63 /.test(text) : text.includes('benchmark simulator'));
    return good ? null : `${label}: ${r.status} ${text.slice(0, 200)}`;
  } catch (err) {
    return `${label}: ${err.message}`;
  }
}
