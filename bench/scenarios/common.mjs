// Helpers the scenarios share: target order rotated per round (so no target always runs right
// after another's load), warm-up, waiting for a server to drain, and per-target medians.
import { waitIdle } from '../lib/procs.mjs';
import { deadProcs, reviveDead } from '../lib/topology.mjs';
import { wrk } from '../lib/wrk.mjs';
import { median } from '../lib/stats.mjs';

export const rotate = (list, n) => list.map((_, i) => list[(i + n) % list.length]);

/** The pid that serves `target` for upstream `kind` (direct: the simulator). */
export function serverPid(t, target, kind) {
  if (target === 'direct') return t.sims[kind === 'd20' ? 20 : kind === 'd60' ? 60 : 0].proc.pid;
  return t.procs[target].pid;
}

/** Lets every process of the topology finish any backlog before the next measurement. */
export function settle(t, maxMs = 15_000) {
  const pids = [...Object.values(t.sims).map((s) => s.proc.pid), ...Object.values(t.procs).map((p) => p.pid)];
  return waitIdle(pids, maxMs);
}

/** A few seconds of c=16 load per target so JIT and connection pools are warm; not recorded. */
export async function warm(ctx, kind, targets) {
  for (const target of targets) {
    const ep = ctx.t.endpoint(target, kind);
    const label = `warm-${target}-${kind}`;
    const opts = { connections: 16, seconds: ctx.plan.warmupS };
    if (ep !== null) await measure(ctx, label, () => wrk(ctx.dir, label, ep, opts));
  }
  await settle(ctx.t);
}

/** Median of `pick(round)` over rounds, skipping rounds where it is null/undefined. */
export function medianOf(rounds, pick) {
  const v = rounds.map(pick).filter((x) => x !== null && x !== undefined && !Number.isNaN(x));
  return v.length === 0 ? null : median(v);
}

/**
 * Issue 15's measure: a ratio taken within each round (`ratioOf(round)`, null when it cannot be
 * taken), and the median of those ratios, not the ratio of medians.
 */
export function perRoundRatios(rounds, ratioOf) {
  const list = rounds.map((r) => ratioOf(r));
  return { rounds: list, median: medianOf(list, (x) => x) };
}

/**
 * Runs one measurement. Nothing in the benchmark stops a process mid-run, yet on a shared machine
 * something else may: a process of the topology that died before or during the measurement is
 * started again on its port and the measurement repeated (twice at most); every such incident is
 * kept in the results.
 */
export async function measure(ctx, label, fn) {
  for (let attempt = 1; ; attempt++) {
    await reviveIfDead(ctx, `before ${label}`);
    let r;
    try {
      r = await fn();
    } catch (e) {
      if (deadProcs(ctx.t).length === 0) throw e; // a failure of its own, not a casualty
    }
    const dead = deadProcs(ctx.t);
    if (dead.length === 0) return r;
    if (attempt >= 3)
      throw new Error(
        `${describe(dead)} keep exiting during ${label}: something outside the benchmark ends them`,
      );
    await reviveIfDead(ctx, `during ${label}`);
  }
}

const describe = (dead) => dead.map((d) => `${d.name} (pid ${d.pid}, exit ${d.code})`).join(', ');

async function reviveIfDead(ctx, when) {
  const dead = deadProcs(ctx.t);
  if (dead.length === 0) return;
  ctx.incidents.push({ when, dead, at: new Date().toISOString() });
  ctx.log(`!! ${describe(dead)} exited ${when}, not by the benchmark's doing: started again`);
  await reviveDead(ctx.t);
  await settle(ctx.t);
}
