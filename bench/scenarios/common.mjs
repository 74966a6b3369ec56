// Helpers the scenarios share: target order rotated per round (so no target always runs right
// after another's load), warm-up, waiting for a server to drain, and per-target medians.
import { waitIdle } from '../lib/procs.mjs';
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
    if (ep !== null)
      await wrk(ctx.dir, `warm-${target}-${kind}`, ep, { connections: 16, seconds: ctx.plan.warmupS });
  }
  await settle(ctx.t);
}

/** Median of `pick(round)` over rounds, skipping rounds where it is null/undefined. */
export function medianOf(rounds, pick) {
  const v = rounds.map(pick).filter((x) => x !== null && x !== undefined && !Number.isNaN(x));
  return v.length === 0 ? null : median(v);
}
