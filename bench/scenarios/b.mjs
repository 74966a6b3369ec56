// Scenario B: capacity. First c=64 at a 0 ms upstream (the run's simulator-bound check: direct
// must reach twice the gateway's RPS), then c = 1, 16, 64, 256 at a 20 ms upstream: RPS and p99
// of each target, interleaved per level.
import { wrk } from '../lib/wrk.mjs';
import { measure, rotate, settle } from './common.mjs';

export async function scenarioB(ctx) {
  const { t, plan } = ctx;
  const targets = ctx.targetsFor('B');
  const capacity = {};
  for (const target of targets) {
    capacity[target] = await measure(ctx, `B0-${target}`, () =>
      wrk(ctx.dir, `B0-${target}`, t.endpoint(target, 'd0'), { connections: 64, seconds: plan.B.seconds }),
    );
    await settle(t);
  }
  ctx.log(
    `B capacity c=64 0 ms: rps ${targets.map((x) => `${x} ${Math.round(capacity[x].rps)}`).join(', ')}`,
  );
  const levels = {};
  for (const [i, c] of plan.B.cs.entries()) {
    levels[c] = {};
    for (const target of rotate(targets, i)) {
      levels[c][target] = await measure(ctx, `B-${target}-${c}`, () =>
        wrk(ctx.dir, `B-${target}-${c}`, t.endpoint(target, 'd20'), {
          connections: c,
          seconds: plan.B.seconds,
        }),
      );
      await settle(t);
    }
    ctx.log(`B c=${c} 20 ms: rps ${targets.map((x) => `${x} ${Math.round(levels[c][x].rps)}`).join(', ')}`);
  }
  const simulatorBound = !(capacity.direct.rps >= 2 * capacity.gateway.rps);
  return { capacity_c64_0ms: capacity, levels, simulator_bound: simulatorBound };
}
