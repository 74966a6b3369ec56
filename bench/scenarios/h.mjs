// Scenario H: what acting as one gateway costs (issue 17). One daemon on SQLite (today's
// default) beside --workers 2 on SQLite + Redis, two daemons on PostgreSQL + Redis and one daemon
// on PostgreSQL alone (so PostgreSQL's cost and Redis's can be told apart), each with a budgeted
// key (admission reserves against the budget, in Redis when there is one) and an unbudgeted key.
// In interleaved rounds (order rotated): c=1 on the 0 ms upstream, p50 against direct's (as in
// A), and c=64 on the 20 ms upstream, RPS (wrk with two threads for every target; for the two
// daemons, one thread of 32 connections to each port: the load generator splits the load, no
// proxy in between). Coordination cost per request = a target's c=1 p50 minus the single SQLite
// daemon's in the same round, same key (median over rounds, µs); RPS as a ratio to it likewise.
// PostgreSQL and Redis are the bench's own (lib/stores.mjs), stopped at the end; without them
// the scenario is skipped with the reason.
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { cpuTicks, runSync, stop as stopProc, tempDir, waitIdle } from '../lib/procs.mjs';
import { LOAD_CORE } from '../lib/topology.mjs';
import { redisKeyCount, startPostgres, startRedis, storesMissing } from '../lib/stores.mjs';
import { KEYS, LABELS, PINNING, checkTarget, startTarget, targetEndpoint } from '../lib/cluster-targets.mjs';
import { wrk } from '../lib/wrk.mjs';
import { measure, medianOf, rotate } from './common.mjs';

export async function scenarioH(ctx) {
  const missing = storesMissing();
  if (missing !== null) {
    ctx.log(`H skipped: ${missing}`);
    return { skipped: missing };
  }
  const { plan } = ctx;
  const stop = [];
  try {
    const redis = await startRedis(tempDir(path.join(ctx.dir, 'redis-')), {
      core: LOAD_CORE,
      logFile: path.join(ctx.dir, 'redis.log'),
    });
    stop.push(redis.stop);
    // not under the work folder: PostgreSQL runs as its own user, which cannot enter it
    const pg = await startPostgres(tempDir(path.join(os.tmpdir(), 'bc-bench-pg-')), ['h_pg1', 'h_pg2'], {
      core: LOAD_CORE,
      logFile: path.join(ctx.dir, 'postgres.log'),
    });
    stop.push(pg.stop);
    ctx.log(`H: redis on ${redis.url}, postgres on ${pg.urls.h_pg1.replace(/\/h_pg1$/, '')}`);
    const stores = { redis, pgUrl: (db) => pg.urls[db] };
    const targets = [];
    for (const id of plan.H.targets) {
      const t = await startTarget(id, { dir: ctx.dir, simUrl: ctx.t.simUrl, stores });
      stop.unshift(...t.procs.map((p) => () => stopProc(p)));
      await checkTarget(t);
      targets.push(t);
      ctx.log(`H: ${LABELS[id]} on port(s) ${t.ports.join(', ')}, pids ${t.nodePids().join(', ')}`);
    }
    return await run(ctx, targets, { redis, pg });
  } finally {
    for (const s of stop) await s();
  }
}

async function run(ctx, targets, { redis, pg }) {
  const { plan } = ctx;
  const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
  const cells = ['direct', ...targets.flatMap((t) => KEYS.map((k) => `${t.id}/${k}`))];
  const pids = [...Object.values(ctx.t.sims).map((s) => s.proc.pid), ...targets.flatMap((t) => t.nodePids())];
  const procs = targets.flatMap((t) => t.procs);
  // the CPU each side spends (c=64): the target's own processes (supervisor included), Redis, PostgreSQL
  const gwPids = Object.fromEntries(
    targets.map((t) => [t.id, [...new Set([...t.procs.map((p) => p.pid), ...t.nodePids()])]]),
  );
  const cpuSides = (cell) => ({
    gateway: cell === 'direct' ? [] : gwPids[cell.split('/')[0]],
    redis: [redis.proc.pid],
    postgres: pg.pids(),
  });
  const ep = (cell, model, r) => {
    if (cell === 'direct') return ctx.t.endpoint('direct', model === 'm0' ? 'd0' : 'd20');
    const [id, key] = cell.split('/');
    const t = byId[id];
    // c=1 has one connection: the two daemons take turns, one port per round
    return model === 'm0'
      ? targetEndpoint(t, key, model, { port: t.ports[r % t.ports.length] })
      : targetEndpoint(t, key, model, { spread: true });
  };
  const idle = {}; // ticks per second each side spends with no load (heartbeats, feeds, timers)
  const once = async (label, e, opts, cell) => {
    const sides = cell === undefined ? null : cpuSides(cell);
    const before = sides && ticksOf(sides);
    const cmds0 = sides && redis.commands();
    const t0 = Date.now();
    const r = await measure(ctx, label, () => wrk(ctx.dir, label, e, opts));
    if (sides) {
      const after = ticksOf(sides);
      const s = (Date.now() - t0) / 1000;
      const per = (k, net) =>
        r.requests > 0
          ? ((after[k] - before[k] - (net ? idleRate(idle, cell, k) * s : 0)) * US_PER_TICK) / r.requests
          : null;
      r.cpu_us_per_req = Object.fromEntries(Object.keys(sides).map((k) => [k, per(k, true)]));
      r.cpu_us_per_req_gross = Object.fromEntries(Object.keys(sides).map((k) => [k, per(k, false)]));
      // Redis commands per request: those Lua scripts call counted too, and the idle targets' background
      r.redis_cmds_per_req = r.requests > 0 ? (redis.commands() - cmds0) / r.requests : null;
    }
    const dead = procs.filter((p) => p.exited);
    if (dead.length > 0)
      throw new Error(
        `H: ${dead.map((p) => `${p.name} (exit ${p.exitCode})`).join(', ')} exited during ${label}`,
      );
    await waitIdle(pids);
    return r;
  };
  for (const cell of cells)
    for (const model of ['m0', 'm20'])
      await once(`Hwarm-${cell}-${model}`.replace('/', '-'), ep(cell, model, 0), {
        connections: 16,
        threads: 2,
        seconds: ctx.plan.warmupS,
      });
  // the idle baseline, measured after the warm-up, is taken out of each c=64 measurement's CPU
  for (const cell of cells.filter((c) => c === 'direct' || c.endsWith('/open'))) {
    const sides = cpuSides(cell);
    const before = ticksOf(sides);
    await delay(plan.H.idleS * 1000);
    const after = ticksOf(sides);
    idle[cell.split('/')[0]] = Object.fromEntries(
      Object.keys(sides).map((k) => [k, (after[k] - before[k]) / plan.H.idleS]),
    );
  }
  ctx.log(`H idle CPU ticks/s: ${JSON.stringify(idle)}`);
  const rounds = [];
  for (let r = 0; r < plan.H.rounds; r++) {
    const round = { c1: {}, c64: {} };
    for (const cell of rotate(cells, r))
      round.c1[cell] = await once(`H1-${cell}`.replace('/', '-'), ep(cell, 'm0', r), {
        connections: 1,
        seconds: plan.H.seconds,
      });
    for (const cell of rotate(cells, r + 1))
      round.c64[cell] = await once(
        `H64-${cell}`.replace('/', '-'),
        ep(cell, 'm20', r),
        { connections: 64, threads: 2, seconds: plan.H.seconds },
        cell,
      );
    ctx.log(
      `H round ${r + 1}/${plan.H.rounds}: c=1 p50 µs / c=64 RPS: ${cells.map((c) => `${c} ${round.c1[c].p50_us}/${Math.round(round.c64[c].rps)}`).join(', ')}`,
    );
    rounds.push(round);
  }
  const summary = {};
  for (const cell of cells) {
    const base = cell === 'direct' ? null : `sqlite/${cell.split('/')[1]}`;
    const own = cell.split('/')[0];
    summary[cell] = {
      p50_us: medianOf(rounds, (x) => x.c1[cell].p50_us),
      p99_us: medianOf(rounds, (x) => x.c1[cell].p99_us),
      added_p50_us: medianOf(rounds, (x) => x.c1[cell].p50_us - x.c1.direct.p50_us),
      rps_c64: medianOf(rounds, (x) => x.c64[cell].rps),
      p99_c64_us: medianOf(rounds, (x) => x.c64[cell].p99_us),
      // the coordination cost: this target's c=1 p50 minus the SQLite daemon's, same round and key
      coordination_us: base && medianOf(rounds, (x) => x.c1[cell].p50_us - x.c1[base].p50_us),
      rps_ratio: base && medianOf(rounds, (x) => x.c64[cell].rps / x.c64[base].rps),
      // what the budget costs on this target: budgeted p50 minus unbudgeted p50, same round
      budget_us: cell.endsWith('/budgeted')
        ? medianOf(rounds, (x) => x.c1[cell].p50_us - x.c1[`${own}/open`].p50_us)
        : null,
      // CPU per request at c=64 (µs): the target's processes, Redis, PostgreSQL (backends summed)
      cpu_us: Object.fromEntries(
        ['gateway', 'redis', 'postgres'].map((k) => [
          k,
          medianOf(rounds, (x) => x.c64[cell].cpu_us_per_req[k]),
        ]),
      ),
      redis_cmds_per_req: medianOf(rounds, (x) => x.c64[cell].redis_cmds_per_req),
      // all three sides together, minus the SQLite daemon's, same round and key
      coordination_cpu_us:
        base &&
        medianOf(rounds, (x) => cpuTotal(x.c64[cell].cpu_us_per_req) - cpuTotal(x.c64[base].cpu_us_per_req)),
      ok: rounds.every((x) => x.c1[cell].ok && x.c64[cell].ok),
    };
  }
  const redisKeys = Object.fromEntries(
    targets
      .filter((t) => t.id !== 'sqlite' && t.id !== 'pg1')
      .map((t) => [t.id, redisKeyCount(redis.port, `bench-${t.id}:`)]),
  );
  const out = {
    pinning: PINNING,
    idle_ticks_per_s: idle,
    targets: targets.map((t) => t.id),
    rounds,
    summary,
    redis_keys: redisKeys,
  };
  ctx.log(`H summary:\n${hTable(out)}`);
  return out;
}

const US_PER_TICK = 1e6 / Number(runSync('getconf', ['CLK_TCK']).stdout.trim() || 100);
/** Idle ticks/s of `side` for `cell`: the target's own processes; Redis and PostgreSQL as a whole. */
const idleRate = (idle, cell, side) =>
  side === 'gateway'
    ? (idle[cell.split('/')[0]]?.gateway ?? 0)
    : Math.min(...Object.values(idle).map((x) => x[side]));
const cpuTotal = (c) => c.gateway + c.redis + c.postgres;

/** CPU clock ticks (user + system) of each side's processes, summed; a process gone counts 0. */
function ticksOf(sides) {
  return Object.fromEntries(
    Object.entries(sides).map(([k, pids]) => [k, pids.reduce((n, p) => n + (cpuTicks(p) ?? 0), 0)]),
  );
}

/** The printed table of scenario H (also what bench/PERFORMANCE.md quotes). */
export function hTable(h) {
  if (h.skipped) return `Scenario H skipped: ${h.skipped}`;
  const f = (v, d = 0) => (v === null || v === undefined ? '-' : v.toFixed(d));
  const sign = (v) => (v === null || v === undefined ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(0)}`);
  const head = [
    'target',
    'key',
    'c=1 p50 µs',
    'added p50 µs',
    'coord. µs vs (1)',
    'budget µs',
    'c=64 RPS',
    'RPS vs (1)',
    'CPU µs/req gw+redis+pg',
    'coord. CPU µs vs (1)',
    'Redis cmd/req',
  ];
  const d = h.summary.direct;
  const rows = [['direct (simulator)', '-', f(d.p50_us), '-', '-', '-', f(d.rps_c64), '-', '-', '-', '-']];
  for (const id of h.targets)
    for (const k of KEYS) {
      const s = h.summary[`${id}/${k}`];
      const base = id === 'sqlite';
      rows.push([
        LABELS[id],
        k,
        f(s.p50_us),
        f(s.added_p50_us),
        base ? '(base)' : sign(s.coordination_us),
        k === 'budgeted' ? sign(s.budget_us) : '-',
        `${f(s.rps_c64)}${s.ok ? '' : ' (errors)'}`,
        base ? '(base)' : `${f(s.rps_ratio, 2)}x`,
        `${f(s.cpu_us.gateway)}+${f(s.cpu_us.redis)}+${f(s.cpu_us.postgres)}`,
        base ? '(base)' : sign(s.coordination_cpu_us),
        f(s.redis_cmds_per_req, 1),
      ]);
    }
  const w = head.map((x, i) => Math.max(x.length, ...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  return [
    line(head),
    `|${w.map((x, i) => (i < 2 ? '-'.repeat(x + 2) : `${'-'.repeat(x + 1)}:`)).join('|')}|`,
    ...rows.map(line),
    'coord.: minus target (1) with the same key, same round (median of rounds); budget: budgeted minus open, same target',
    'Redis cmd/req: commands Redis processed (calls inside Lua scripts included) over requests served, at c=64',
    'CPU µs/req: at c=64, CPU time of the target processes, Redis, PostgreSQL (all backends) over requests served, net of the idle rate of each side',
    `pinning: ${h.pinning}`,
    `Redis keys per target's prefix after the run: ${Object.entries(h.redis_keys)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ].join('\n');
}
