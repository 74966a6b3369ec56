// Scenario B: capacity. First c=64 at a 0 ms upstream (the run's simulator-bound check: direct
// must reach twice the gateway's RPS), then c = 1, 16, 64, 256 at a 20 ms upstream: RPS and p99
// of each target, interleaved per level. Then issue 15's measure of throughput: c=64 at the 0 ms
// and at the 20 ms upstream in interleaved rounds of the floor and the gateway alone (order
// rotated each round), the gateway's RPS over the floor's taken within each round and the median
// of those ratios; one measurement per target moves by a third between runs on a shared machine.
import { wrk } from '../lib/wrk.mjs';
import { measure, medianOf, perRoundRatios, rotate, settle } from './common.mjs';

const PAIR = ['floor', 'gateway'];

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
  const rounds64 = { '0ms': await pairRounds(ctx, 'd0'), '20ms': await pairRounds(ctx, 'd20') };
  return { capacity_c64_0ms: capacity, levels, rounds_c64: rounds64, simulator_bound: simulatorBound };
}

/** c=64 on upstream `kind`, floor and gateway in plan.B.rounds interleaved rounds. */
async function pairRounds(ctx, kind) {
  const { t, plan } = ctx;
  const ms = kind === 'd0' ? '0 ms' : '20 ms';
  const rounds = [];
  for (let r = 0; r < plan.B.rounds; r++) {
    const round = {};
    for (const target of rotate(PAIR, r)) {
      const label = `B64r-${target}-${kind}`;
      round[target] = await measure(ctx, label, () =>
        wrk(ctx.dir, label, t.endpoint(target, kind), { connections: 64, seconds: plan.B.roundSeconds }),
      );
      await settle(t);
    }
    ctx.log(
      `B c=64 ${ms} round ${r + 1}/${plan.B.rounds}: rps floor ${Math.round(round.floor.rps)}, gateway ${Math.round(round.gateway.rps)} (${(round.gateway.rps / round.floor.rps).toFixed(2)}x)`,
    );
    rounds.push(round);
  }
  const ratios = perRoundRatios(rounds, (r) => (r.floor.rps > 0 ? r.gateway.rps / r.floor.rps : null));
  ctx.log(
    `B c=64 ${ms} RPS gateway/floor per round: ${ratios.rounds.map((x) => x?.toFixed(2) ?? '-').join(', ')}; median ${ratios.median?.toFixed(2) ?? '-'}x`,
  );
  return {
    rounds,
    rps_ratio: ratios,
    median_rps: Object.fromEntries(PAIR.map((x) => [x, medianOf(rounds, (r) => r[x].rps)])),
    ok: rounds.every((r) => r.floor.ok && r.gateway.ok),
  };
}
